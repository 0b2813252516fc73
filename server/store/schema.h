// The server's schema, as numbered migrations: SQLite's (schema.cpp) and
// PostgreSQL's (pg_schema.cpp), one for one. A migration, once released, is
// never edited: add a new one to both.
#pragma once

#include <string_view>
#include <vector>

namespace mgteam::server {

const std::vector<std::string_view>& SqliteMigrations();
const std::vector<std::string_view>& PostgresMigrations();

}  // namespace mgteam::server
