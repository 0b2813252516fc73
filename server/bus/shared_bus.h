// SharedBus: the Bus of an instance that shares its database with others
// (docs/deploy.md). Local listeners hear a publication at once, on the
// publishing thread; the other instances hear it through a BusLink (Redis
// pub/sub or PostgreSQL LISTEN/NOTIFY).
//
// Hints only (bus_message.h), so the link is allowed to fail: publications
// are handed to a sender thread (a commit never waits for the network) and
// wait, bounded, while the link is down (advances fold into the newest head
// per workspace); a receiver thread re-subscribes with backoff and then
// tells every listener to catch up (OnBusReconnected). A subscription can
// also die silently (a proxy or a restarted peer that never says goodbye),
// so the receiver probes the link and treats a link that stops answering as
// dead. Together with the stream hub's periodic head and token checks, a
// lost hint delays a delivery or a stream's end, it never loses one.
//
// The channel is trusted: anyone who can publish on it can end streams and
// skew login throttling. Keep Redis (or PostgreSQL) reachable by the
// instances only, with a password (docs/deploy.md).
#pragma once

#include "bus/bus.h"
#include "bus/bus_message.h"
#include "mgteam/status.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mgteam::server {

// One pub/sub transport. Publish() is called only from the sender thread;
// the other calls only from the receiver thread, so an implementation keeps
// one connection for each and needs no locking.
class BusLink {
 public:
  virtual ~BusLink() = default;
  virtual std::string Describe() const = 0;

  // Sends one payload to every subscriber, connecting first if needed. An
  // error drops the connection; the next call connects again.
  virtual Status Publish(const std::string& payload) = 0;

  // (Re)connects the receiving side and subscribes.
  virtual Status Subscribe() = 0;
  // Waits up to `timeout` for input: appends payloads to `out` and sets
  // `heard` if anything at all arrived (a payload or a probe's answer). An
  // error means the subscription is gone.
  virtual Status Receive(std::chrono::milliseconds timeout, std::vector<std::string>& out,
                         bool& heard) = 0;
  // Asks the peer for an answer that Receive() will hear.
  virtual Status Probe() = 0;
};

struct SharedBusOptions {
  // How often the receiver probes a quiet link, and how long without
  // hearing anything makes it dead.
  std::chrono::milliseconds probe_interval{2000};
  std::chrono::milliseconds dead_after{6000};
  std::chrono::milliseconds max_backoff{2000};
};

class SharedBus final : public Bus {
 public:
  SharedBus(std::unique_ptr<BusLink> link, SharedBusOptions options = {});
  ~SharedBus() override;

  void PublishAdvance(const std::string& workspace_id, int64_t head_seq) override;
  void PublishWorkspaceDeleted(const std::string& workspace_id) override;
  void PublishTokenRevoked(const std::string& token_id) override;
  void PublishLogin(const std::string& account, const std::string& address, bool success) override;
  void PublishPresence(const std::string& ws, const std::string& user, int streams,
                       const std::string& last_seen) override;
  void Subscribe(BusListener* listener) override;
  void Start() override;
  std::string Describe() const override { return link_->Describe(); }
  bool Shared() const override { return true; }

  const std::string& instance() const { return instance_; }

 private:
  std::vector<BusListener*> Listeners();
  void Deliver(const BusMessage& m);
  // Delivers `m` here at once (unless only for others) and queues it for
  // the other instances.
  void Send(BusMessage m, bool here = true);
  void SendLoop();
  void ReceiveLoop();
  bool Stopping();

  std::unique_ptr<BusLink> link_;
  const SharedBusOptions options_;
  const std::string instance_;

  std::mutex listeners_mu_;
  std::vector<BusListener*> listeners_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  // Waiting to be sent: advances coalesced per workspace (only the newest
  // head matters), everything else in order.
  std::map<std::string, int64_t> advances_;
  std::deque<BusMessage> others_;

  std::thread sender_;
  std::thread receiver_;
};

}  // namespace mgteam::server
