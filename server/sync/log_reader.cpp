#include "sync/log_reader.h"

namespace mgteam::server {

LogReader::LogReader(Store& store, int page, Answers answers)
    : store_(store), page_(page), answers_(std::move(answers)) {}

LogReader::~LogReader() { Stop(); }

void LogReader::Start() { thread_ = std::thread([this] { Loop(); }); }

void LogReader::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wanted_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogReader::WantRows(const std::string& workspace, int64_t after, uint64_t ticket) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, added] = rows_.insert_or_assign(workspace, RowsWanted{after, ticket});
    if (added) order_.push_back(it->first);
  }
  wanted_.notify_one();
}

void LogReader::WantHeads(std::vector<std::string> workspaces) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    heads_ = std::move(workspaces);
  }
  wanted_.notify_one();
}

void LogReader::Loop() {
  while (true) {
    std::optional<std::vector<std::string>> heads;
    Rows rows;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wanted_.wait(lock, [&] { return stop_ || heads_ || !order_.empty(); });
      if (stop_) return;
      if (heads_) {
        heads.swap(heads_);
      } else {
        rows.workspace = std::move(order_.front());
        order_.pop_front();
        auto it = rows_.find(rows.workspace);
        rows.after = it->second.after;
        rows.ticket = it->second.ticket;
        rows_.erase(it);
      }
    }
    if (heads) {
      Heads answer;
      answer.status = store_.Read([&](Tx& tx) -> Status {
        for (const auto& ws : *heads) {
          MG_ASSIGN_OR_RETURN(auto w, tx.FindWorkspace(ws));
          answer.heads[ws] = w ? std::optional<int64_t>(w->head_seq) : std::nullopt;
        }
        return Status::Ok();
      });
      if (!answer.status.ok()) answer.heads.clear();
      answers_.heads(std::move(answer));
      continue;
    }
    auto read = store_.ReadValue<std::vector<EventRow>>(
        [&](Tx& tx) { return tx.ListEventRows(rows.workspace, rows.after, page_); });
    if (read.ok()) rows.rows = std::move(read).value();
    else rows.status = read.status();
    answers_.rows(std::move(rows));
  }
}

}  // namespace mgteam::server
