#include "mgteam/stream_client.h"

#include <httplib.h>

#include <random>

namespace mgteam {

EventStreamClient::EventStreamClient(StreamClientOptions options) : options_(std::move(options)) {}
EventStreamClient::~EventStreamClient() = default;

void EventStreamClient::set_last_event_id(std::string id) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.last_event_id = std::move(id);
}

std::string EventStreamClient::last_event_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_.last_event_id;
}

void EventStreamClient::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  if (active_) active_->stop();  // breaks a blocked read
  wake_.notify_all();
}

Status EventStreamClient::Connect(const EventFn& on_event, const StateFn& on_state, bool& got_data) {
  httplib::Client http(options_.server.Origin());
  http.set_connection_timeout(std::chrono::seconds(5));
  // No byte for this long (not even a heartbeat) means the connection is dead.
  http.set_read_timeout(options_.heartbeat_timeout);
  http.set_tcp_nodelay(true);
  httplib::Headers headers = {{"Accept", "text/event-stream"},
                              {"Authorization", "Bearer " + options_.token},
                              {"User-Agent", "mgteam/" MGTEAM_VERSION}};
  std::string resume = last_event_id();
  if (!resume.empty()) headers.emplace("Last-Event-ID", resume);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Ok();
    active_ = &http;
  }

  int status = 0;
  std::string error_body;
  SseParser parser(
      [&](const SseEvent& e) {
        got_data = true;
        if (e.has_id) set_last_event_id(e.last_event_id);
        on_event(e);
      },
      nullptr, [&](int64_t ms) { retry_floor_ms_ = ms; });
  auto res = http.Get(
      (options_.server.prefix + options_.path).c_str(), headers,
      [&](const httplib::Response& r) {
        status = r.status;
        if (status == 200) on_state(State::kConnected, Status::Ok());
        return true;
      },
      [&](const char* data, size_t n) {
        if (status != 200) {
          error_body.append(data, n);
          return error_body.size() < 64 * 1024;
        }
        parser.Feed(std::string_view(data, n));
        return !stopping_.load();
      });
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = nullptr;
  }
  if (stopping_) return Status::Ok();
  if (status >= 400) return StatusFromErrorBody(status, error_body);
  if (!res && res.error() != httplib::Error::Canceled)
    return Status::Unavailable("stream_lost", "the stream to " + options_.server.ToString() +
                                                  " dropped (" + httplib::to_string(res.error()) + ")");
  return Status::Unavailable("stream_closed", "the server closed the stream");
}

Status EventStreamClient::Run(const EventFn& on_event, const StateFn& on_state) {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  int attempt = 0;
  while (!stopping_) {
    bool got_data = false;
    Status why = Connect(on_event, on_state, got_data);
    if (stopping_) break;
    Code c = why.code();
    if (c == Code::kUnauthenticated || c == Code::kPermissionDenied || c == Code::kNotFound ||
        c == Code::kBadRequest || c == Code::kInvalid)
      return why;
    on_state(State::kDisconnected, why);
    if (got_data) attempt = 0;
    int64_t delay = BackoffDelayMs(attempt++, options_.backoff_base_ms, options_.backoff_cap_ms,
                                   retry_floor_ms_, uniform(rng));
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(delay), [&] { return stopping_.load(); });
  }
  return Status::Ok();
}

}  // namespace mgteam
