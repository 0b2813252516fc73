// SqliteStore: the embedded default Store (WAL, one writer connection behind
// a mutex, a pool of reader connections so reads never wait for writes).
//
// The reader pool is bounded (docs/security.md, "Streams"): at most
// kMaxReaders connections are open, each with its own page cache, and at most
// kIdleReaders stay open when nobody reads; a read past the bound waits for a
// connection (up to 10 s, then 503 database_busy). Unbounded, a burst
// of 600 concurrent stream replays once kept 600 connections, and their
// memory, forever.
#pragma once

#include "store/store.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mgteam::server {

struct SqliteConnection;

class SqliteStore final : public Store {
 public:
  // Opens (creating) the database at `path` and applies pending migrations.
  // `synchronous` is "NORMAL" (durable across process crashes; the default)
  // or "FULL" (also across power loss, at the cost of an fsync per commit).
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const std::string& synchronous = "NORMAL");
  ~SqliteStore() override;

  Status Read(const std::function<Status(Tx&)>& fn) override;
  Status Write(const std::function<Status(Tx&)>& fn) override;
  void SetCommitListener(CommitListener listener) override { listener_ = std::move(listener); }
  std::string Describe() const override { return "sqlite:" + path_; }
  Status Ping() override;

  int schema_version() const override { return schema_version_; }
  // Reader connections open now (idle and in use), and the bounds.
  size_t readers_open();
  static constexpr size_t kMaxReaders = 32;
  static constexpr size_t kIdleReaders = 8;

 private:
  SqliteStore(std::string path, std::string synchronous);
  Result<std::unique_ptr<SqliteConnection>> OpenConnection(bool read_only);
  std::unique_ptr<SqliteConnection> TakeReader(Status& error);
  void ReturnReader(std::unique_ptr<SqliteConnection> c);
  void Checkpoints();

  std::string path_;
  std::string synchronous_;
  int schema_version_ = 0;
  std::mutex writer_mu_;
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex readers_mu_;
  std::condition_variable reader_returned_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;  // idle
  size_t readers_open_ = 0;                                 // idle + in use
  CommitListener listener_;

  // WAL checkpoints (and their fsyncs) run here, not in a committing request.
  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;
  int64_t commits_since_checkpoint_ = 0;
};

}  // namespace mgteam::server
