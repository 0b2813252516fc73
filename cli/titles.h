// Memory titles by id, from this machine's local copy: listings of
// relationships, events and activity name what was linked ("Fixed Redis
// timeout" SOLVES "Redis timeouts under load") instead of printing UUIDs.
// Read from disk only, never the network; an id the copy does not know is
// shown shortened.
#pragma once

#include "session.h"

#include "replica.h"

#include <map>
#include <memory>
#include <string>

namespace mgteam::cli {

// This machine's replica of the current server, if it has one yet (nullptr
// otherwise). Never creates one: readers that only want names must not
// leave files behind.
std::unique_ptr<agent::Replica> OpenExistingReplica(Session& s);

class MemoryTitles {
 public:
  MemoryTitles() = default;  // knows no titles
  MemoryTitles(agent::Replica* replica, std::string ws) : replica_(replica), ws_(std::move(ws)) {}
  // Opens the local copy itself (see OpenExistingReplica).
  MemoryTitles(Session& s, std::string ws);

  // "\"Fixed Redis timeout\"", or the first 13 characters of an unknown id.
  std::string Of(const std::string& id);

 private:
  std::unique_ptr<agent::Replica> owned_;
  agent::Replica* replica_ = nullptr;
  std::string ws_;
  std::map<std::string, std::string> cache_;
};

}  // namespace mgteam::cli
