// The server's SQLite schema, as numbered migrations. A migration, once
// released, is never edited: add a new one.
#pragma once

#include <string_view>
#include <vector>

namespace mgteam::server {

const std::vector<std::string_view>& SqliteMigrations();

}  // namespace mgteam::server
