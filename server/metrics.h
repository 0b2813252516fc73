// Metrics: counters, gauges and one latency histogram, exported in the
// Prometheus text format at /metrics. Lock-free (atomics); safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace mgteam::server {

// A histogram with fixed bucket bounds (seconds).
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};
  void Observe(double seconds);
  // Appends the Prometheus lines for `name`.
  void Render(const std::string& name, const std::string& help, std::string& out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

struct Metrics {
  std::atomic<int64_t> streams_open{0};
  std::atomic<uint64_t> streams_opened{0};
  std::atomic<uint64_t> events_appended{0};
  std::atomic<uint64_t> frames_delivered{0};
  std::atomic<uint64_t> replays{0};
  std::atomic<uint64_t> replayed_events{0};
  std::atomic<uint64_t> slow_consumer_disconnects{0};
  std::atomic<uint64_t> stream_backlog_bytes{0};  // unsent, all streams
  std::atomic<uint64_t> long_polls{0};
  std::atomic<int64_t> long_polls_waiting{0};
  std::atomic<uint64_t> http_requests{0};
  std::atomic<uint64_t> logins_throttled{0};  // answered 429 without checking the password
  Histogram append_to_write;  // commit notified -> frame written to the socket

  std::string Prometheus() const;
};

}  // namespace mgteam::server
