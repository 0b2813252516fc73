// PostgresLink: a BusLink over PostgreSQL LISTEN/NOTIFY on the store's own
// database, so several instances on PostgreSQL need no other service. One
// connection publishes (pg_notify), one listens; each is a plain libpq
// connection of its own, outside the store's pool.
#pragma once

#include "bus/shared_bus.h"

#include <string>

struct pg_conn;

namespace mgteam::server {

class PostgresLink final : public BusLink {
 public:
  explicit PostgresLink(std::string url);
  ~PostgresLink() override;

  std::string Describe() const override;
  Status Publish(const std::string& payload) override;
  Status Subscribe() override;
  Status Receive(std::chrono::milliseconds timeout, std::vector<std::string>& out, bool& heard) override;
  Status Probe() override;

 private:
  Result<pg_conn*> Connect();
  void Drop(pg_conn*& c);

  const std::string url_;
  pg_conn* pub_ = nullptr;
  pg_conn* sub_ = nullptr;
  bool probe_pending_ = false;
};

}  // namespace mgteam::server
