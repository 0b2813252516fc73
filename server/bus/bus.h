// Bus: the doorbell that tells stream connections "workspace W has new events
// up to seq N" (design brief §2). The change log in the store is the source of
// truth; the bus carries no events, only heads, so a lost message can delay a
// delivery but never lose an event (the hub also re-reads heads periodically).
//
// In-process by default (LocalBus). With several instances on one database
// (docs/deploy.md), SharedBus carries the same hints between them over
// PostgreSQL LISTEN/NOTIFY or Redis pub/sub (bus/open_bus.h).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mgteam::server {

class BusListener {
 public:
  virtual ~BusListener() = default;
  virtual void OnAdvance(const std::string& workspace_id, int64_t head_seq) = 0;
  virtual void OnWorkspaceDeleted(const std::string& workspace_id) = 0;
  virtual void OnTokenRevoked(const std::string& token_id) = 0;
  // The bus (re)connected to its peers after a time in which hints from
  // other instances may have been lost: catch up on every active workspace.
  virtual void OnBusReconnected() {}
  // A password login was decided on another instance (docs/security.md,
  // "Login throttling"): `account` is the hashed email, `address` the
  // client address key.
  virtual void OnLoginElsewhere(const std::string& /*account*/, const std::string& /*address*/,
                                bool /*success*/) {}
  // Another instance's count of `user`'s live streams on `ws` (sync/presence.h).
  virtual void OnPresenceElsewhere(const std::string& /*origin*/, const std::string& /*ws*/,
                                   const std::string& /*user*/, int /*streams*/, const std::string& /*last_seen*/) {}
};

class Bus {
 public:
  virtual ~Bus() = default;
  // After a commit that appended to the workspace's log.
  virtual void PublishAdvance(const std::string& workspace_id, int64_t head_seq) = 0;
  virtual void PublishWorkspaceDeleted(const std::string& workspace_id) = 0;
  virtual void PublishTokenRevoked(const std::string& token_id) = 0;
  // Tells the *other* instances how a login here went, so that failed
  // logins count across instances. In process: nobody else to tell.
  virtual void PublishLogin(const std::string& /*account*/, const std::string& /*address*/, bool /*success*/) {}
  // Tells the other instances how many live streams `user` has here on `ws`.
  virtual void PublishPresence(const std::string& /*ws*/, const std::string& /*user*/, int /*streams*/,
                               const std::string& /*last_seen*/) {}
  // Listeners are registered before serving and live as long as the bus.
  virtual void Subscribe(BusListener* listener) = 0;
  // Starts talking to peers (a no-op in process). Before serving.
  virtual void Start() {}
  // "local", "redis://host:port", "postgres://user@host/db", for logs.
  virtual std::string Describe() const { return "local"; }
  // Whether hints travel between instances, and so can be lost.
  virtual bool Shared() const { return false; }
};

// Calls listeners synchronously on the publishing thread.
class LocalBus final : public Bus {
 public:
  void PublishAdvance(const std::string& ws, int64_t head) override {
    for (auto* l : Listeners()) l->OnAdvance(ws, head);
  }
  void PublishWorkspaceDeleted(const std::string& ws) override {
    for (auto* l : Listeners()) l->OnWorkspaceDeleted(ws);
  }
  void PublishTokenRevoked(const std::string& token_id) override {
    for (auto* l : Listeners()) l->OnTokenRevoked(token_id);
  }
  void Subscribe(BusListener* listener) override {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_.push_back(listener);
  }

 private:
  std::vector<BusListener*> Listeners() {
    std::lock_guard<std::mutex> lock(mu_);
    return listeners_;
  }
  std::mutex mu_;
  std::vector<BusListener*> listeners_;
};

}  // namespace mgteam::server
