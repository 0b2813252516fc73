// The replica's schema, as numbered migrations applied in order by
// sql::Migrate (a file made by an older agent is brought up to date when it
// is next opened). Never edit a shipped migration: add one.
#pragma once

#include <string_view>
#include <vector>

namespace mgteam::agent {

const std::vector<std::string_view>& ReplicaMigrations();

}  // namespace mgteam::agent
