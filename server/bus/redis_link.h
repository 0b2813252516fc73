// RedisLink: a BusLink over Redis pub/sub (hiredis), one connection to
// publish and one to subscribe, on the channel "mgteam:bus".
//
// URL: redis://[:password@]host[:port]  (the default port is 6379). Redis
// pub/sub ignores database numbers, so a path is refused rather than
// silently meaning nothing.
#pragma once

#include "bus/shared_bus.h"

#include <string>

struct redisContext;

namespace mgteam::server {

struct RedisAddress {
  std::string host;
  int port = 6379;
  std::string password;
};
Result<RedisAddress> ParseRedisUrl(const std::string& url);

class RedisLink final : public BusLink {
 public:
  explicit RedisLink(RedisAddress address);
  ~RedisLink() override;

  std::string Describe() const override;
  Status Publish(const std::string& payload) override;
  Status Subscribe() override;
  Status Receive(std::chrono::milliseconds timeout, std::vector<std::string>& out, bool& heard) override;
  Status Probe() override;

 private:
  Result<redisContext*> Connect();
  void Drop(redisContext*& c);

  const RedisAddress address_;
  redisContext* pub_ = nullptr;
  redisContext* sub_ = nullptr;
};

}  // namespace mgteam::server
