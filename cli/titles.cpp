#include "titles.h"

#include "paths.h"

#include <filesystem>

namespace mgteam::cli {

std::unique_ptr<agent::Replica> OpenExistingReplica(Session& s) {
  auto url = s.Server();
  if (!url.ok()) return nullptr;
  std::string file = agent::ReplicaPath(url->ToString());
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return nullptr;
  auto replica = agent::Replica::Open(file);
  return replica.ok() ? std::move(replica).value() : nullptr;
}

MemoryTitles::MemoryTitles(Session& s, std::string ws) : owned_(OpenExistingReplica(s)), ws_(std::move(ws)) {
  replica_ = owned_.get();
}

std::string MemoryTitles::Of(const std::string& id) {
  if (auto it = cache_.find(id); it != cache_.end()) return it->second;
  std::string shown = id.substr(0, 13);
  if (replica_) {
    auto heads = replica_->MemoriesByIdPrefix(ws_, id, true, 1);
    if (heads.ok() && !heads->empty() && heads->front().id == id) shown = "\"" + heads->front().title + "\"";
  }
  return cache_[id] = shown;
}

}  // namespace mgteam::cli
