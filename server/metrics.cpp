#include "metrics.h"

#include "auth.h"

#include <cstdio>

namespace mgteam::server {

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::Render(const std::string& name, const std::string& help, std::string& out) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  char line[160];
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::snprintf(line, sizeof line, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), kBounds[i],
                  static_cast<unsigned long long>(cumulative));
    out += line;
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  std::snprintf(line, sizeof line, "%s_sum %.6f\n", name.c_str(),
                static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6);
  out += line;
  out += name + "_count " + std::to_string(count_.load(std::memory_order_relaxed)) + "\n";
}

std::string Metrics::Prometheus() const {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  metric("mgteam_streams_open", "gauge", "Open SSE streams.", streams_open.load());
  metric("mgteam_streams_opened_total", "counter", "SSE streams opened since start.", streams_opened.load());
  metric("mgteam_events_appended_total", "counter", "Events appended to change logs.", events_appended.load());
  metric("mgteam_frames_delivered_total", "counter", "Change frames written to streams.", frames_delivered.load());
  metric("mgteam_stream_replays_total", "counter", "Streams that resumed from a cursor.", replays.load());
  metric("mgteam_stream_replayed_events_total", "counter", "Events sent by replays.", replayed_events.load());
  metric("mgteam_slow_consumer_disconnects_total", "counter",
         "Streams cut off because the client did not keep up.", slow_consumer_disconnects.load());
  metric("mgteam_stream_backlog_bytes", "gauge", "Bytes queued for streams and not yet sent.",
         stream_backlog_bytes.load());
  metric("mgteam_long_polls_total", "counter", "Polling requests that waited for events.", long_polls.load());
  metric("mgteam_long_polls_waiting", "gauge", "Polling requests waiting now (parked, holding no thread).",
         long_polls_waiting.load());
  metric("mgteam_http_requests_total", "counter", "API requests handled.", http_requests.load());
  metric("mgteam_logins_throttled_total", "counter",
         "Logins refused with 429 after too many failures, without checking the password.",
         logins_throttled.load());
  const PasswordHashLoad hashes = CurrentPasswordHashLoad();
  metric("mgteam_password_hashes_running", "gauge", "Password hashes or checks running now.", hashes.running);
  metric("mgteam_password_hashes_waiting", "gauge", "Password hashes or checks waiting for a slot.",
         hashes.waiting);
  metric("mgteam_password_hashes_total", "counter", "Password hashes or checks started.", hashes.started);
  append_to_write.Render("mgteam_append_to_write_seconds",
                         "From a commit being announced to its frame being written to a stream.", out);
  return out;
}

}  // namespace mgteam::server
