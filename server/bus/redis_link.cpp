#include "bus/redis_link.h"

#include "store/open_store.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cstdlib>

namespace mgteam::server {

namespace {

constexpr const char* kChannel = "mgteam:bus";

Status LinkError(const char* what, const redisContext* c) {
  std::string msg = what;
  msg += ": ";
  msg += c && c->err ? c->errstr : "no answer";
  return Status::Unavailable("bus_unavailable", msg);
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { if (r) freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

Reply Command(redisContext* c, const char* format, const std::string& a, const std::string& b = {}) {
  void* raw = b.empty() ? redisCommand(c, format, a.data(), a.size())
                        : redisCommand(c, format, a.data(), a.size(), b.data(), b.size());
  return Reply(static_cast<redisReply*>(raw));
}

}  // namespace

Result<RedisAddress> ParseRedisUrl(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  auto bad = [&url](const char* why) {
    // Never the password: the message reaches logs.
    return Status::Invalid("invalid_config", "--redis " + RedactedDatabaseUrl(url) + ": " + why +
                                                 " (expected redis://[:password@]host[:port])");
  };
  if (url.rfind(kScheme, 0) != 0) return bad("not a redis:// URL");
  std::string rest = url.substr(kScheme.size());
  RedisAddress a;
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = auth.find(':');
    a.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return bad("a database number means nothing to pub/sub");
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
    size_t close = rest.find(']');
    if (close == std::string::npos) return bad("unclosed [");
    a.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad("junk after ]");
      port = rest.substr(close + 2);
    }
  } else if (size_t colon = rest.find(':'); colon != std::string::npos) {
    a.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    a.host = rest;
  }
  if (a.host.empty()) return bad("no host");
  if (!port.empty()) {
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || p < 1 || p > 65535) return bad("bad port");
    a.port = static_cast<int>(p);
  }
  return a;
}

RedisLink::RedisLink(RedisAddress address) : address_(std::move(address)) {}

RedisLink::~RedisLink() {
  Drop(pub_);
  Drop(sub_);
}

std::string RedisLink::Describe() const {
  return "redis://" + address_.host + ":" + std::to_string(address_.port);
}

void RedisLink::Drop(redisContext*& c) {
  if (c) redisFree(c);
  c = nullptr;
}

Result<redisContext*> RedisLink::Connect() {
  // Short timeouts: a Redis that does not answer must not hold the sender
  // (whose hints are dropped meanwhile) or delay the receiver's reconnect.
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout(address_.host.c_str(), address_.port, tv);
  if (!c || c->err) {
    Status s = LinkError("connect", c);
    if (c) redisFree(c);
    return s;
  }
  if (redisSetTimeout(c, tv) != REDIS_OK) {
    Status s = LinkError("set timeout", c);
    redisFree(c);
    return s;
  }
  if (!address_.password.empty()) {
    Reply r = Command(c, "AUTH %b", address_.password);
    if (!r || r->type == REDIS_REPLY_ERROR) {
      Status s = r ? Status::Unavailable("bus_unavailable", std::string("AUTH: ") + r->str) : LinkError("AUTH", c);
      redisFree(c);
      return s;
    }
  }
  return c;
}

// A kept connection may have died quietly (Redis restarted, an idle
// timeout): one failure on it is retried once on a fresh connection.
Status RedisLink::Publish(const std::string& payload) {
  for (;;) {
    const bool fresh = !pub_;
    if (fresh) {
      MG_ASSIGN_OR_RETURN(pub_, Connect());
    }
    Reply r = Command(pub_, "PUBLISH %b %b", std::string(kChannel), payload);
    if (r && r->type != REDIS_REPLY_ERROR) return Status::Ok();
    Status s = r ? Status::Unavailable("bus_unavailable", std::string("PUBLISH: ") + r->str)
                 : LinkError("PUBLISH", pub_);
    Drop(pub_);
    if (fresh) return s;
  }
}

Status RedisLink::Subscribe() {
  Drop(sub_);
  MG_ASSIGN_OR_RETURN(sub_, Connect());
  Reply r = Command(sub_, "SUBSCRIBE %b", std::string(kChannel));
  if (!r || r->type != REDIS_REPLY_ARRAY) {
    Status s = r && r->type == REDIS_REPLY_ERROR ? Status::Unavailable("bus_unavailable", std::string("SUBSCRIBE: ") + r->str)
                                                  : LinkError("SUBSCRIBE", sub_);
    Drop(sub_);
    return s;
  }
  return Status::Ok();
}

Status RedisLink::Receive(std::chrono::milliseconds timeout, std::vector<std::string>& out, bool& heard) {
  if (!sub_) return Status::Unavailable("bus_unavailable", "not subscribed");
  // Our own poll(), not hiredis's socket timeout: after a timed-out read a
  // hiredis context is unusable, and a quiet channel is normal.
  pollfd p{sub_->fd, POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n < 0) return errno == EINTR ? Status::Ok() : Status::Unavailable("bus_unavailable", "poll failed");
  if (n == 0) return Status::Ok();
  if (redisBufferRead(sub_) != REDIS_OK) {
    Status s = LinkError("read", sub_);
    Drop(sub_);
    return s;
  }
  for (;;) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(sub_, &raw) != REDIS_OK) {
      Status s = LinkError("parse", sub_);
      Drop(sub_);
      return s;
    }
    Reply r(static_cast<redisReply*>(raw));
    if (!r) break;
    heard = true;
    // ["message", channel, payload]; a probe answers ["pong", ""].
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
        std::string_view(r->element[0]->str, r->element[0]->len) == "message" &&
        r->element[2]->type == REDIS_REPLY_STRING)
      out.emplace_back(r->element[2]->str, r->element[2]->len);
  }
  return Status::Ok();
}

Status RedisLink::Probe() {
  if (!sub_) return Status::Unavailable("bus_unavailable", "not subscribed");
  if (redisAppendCommand(sub_, "PING") != REDIS_OK) return LinkError("PING", sub_);
  int done = 0;
  while (!done)
    if (redisBufferWrite(sub_, &done) != REDIS_OK) {
      Status s = LinkError("PING", sub_);
      Drop(sub_);
      return s;
    }
  return Status::Ok();
}

}  // namespace mgteam::server
