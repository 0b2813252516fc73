// SqliteStore: the embedded default Store (WAL, one writer connection behind
// a mutex, a pool of reader connections so reads never wait for writes).
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

  int schema_version() const { return schema_version_; }

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
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  CommitListener listener_;

  // WAL checkpoints (and their fsyncs) run here, not in a committing request.
  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;
  int64_t commits_since_checkpoint_ = 0;
};

}  // namespace mgteam::server
