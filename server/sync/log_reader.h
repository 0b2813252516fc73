// LogReader: the stream hub's database reads, on a thread of their own.
//
// The hub's epoll thread serves every live stream; a query that takes a
// second there (a busy disk, a database at its connection limit) would be a
// second of silence on all of them. So the epoll thread only asks — "rows
// of workspace W after seq S", "the heads of these workspaces" — and goes
// back to its sockets; this thread reads and hands each answer back through
// a callback (the hub turns it into one of its commands).
//
// Asking again for a workspace that is still waiting replaces the earlier
// request rather than queueing a second read: a burst of doorbells for one
// workspace costs one query. Workspaces are served in the order they first
// asked, so one busy workspace does not starve the others.
//
// Answers carry the ticket they were asked with; the hub keeps at most one
// read per workspace in flight and ignores answers to tickets it no longer
// holds, which is what keeps delivery in order and free of duplicates.
//
// Thread-safety: Want*() from any thread; the callbacks run on the reader
// thread.
#pragma once

#include "mgteam/status.h"
#include "store/store.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mgteam::server {

class LogReader {
 public:
  struct Rows {
    std::string workspace;
    int64_t after = 0;
    uint64_t ticket = 0;
    Status status;               // not ok: rows is empty
    std::vector<EventRow> rows;  // in seq order, at most `page`
  };
  struct Heads {
    Status status;
    std::map<std::string, std::optional<int64_t>> heads;  // nullopt: the workspace is gone
  };
  struct Answers {
    std::function<void(Rows)> rows;
    std::function<void(Heads)> heads;
  };

  LogReader(Store& store, int page, Answers answers);
  ~LogReader();  // Stop()
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  void Start();
  // Finishes the read in progress, drops the rest, joins. Idempotent.
  void Stop();

  void WantRows(const std::string& workspace, int64_t after, uint64_t ticket);
  void WantHeads(std::vector<std::string> workspaces);

 private:
  struct RowsWanted {
    int64_t after;
    uint64_t ticket;
  };
  void Loop();

  Store& store_;
  const int page_;
  const Answers answers_;
  std::mutex mu_;
  std::condition_variable wanted_;
  bool stop_ = false;
  std::map<std::string, RowsWanted> rows_;
  std::deque<std::string> order_;  // the keys of rows_, first asked first
  std::optional<std::vector<std::string>> heads_;
  std::thread thread_;
};

}  // namespace mgteam::server
