// `mgteam-server migrate --from sqlite:PATH --to postgres://...`: moves a
// server's data from its SQLite file into an empty PostgreSQL database
// (docs/adr/0009-postgresql-store.md).
//
// Both sides are first brought to the latest schema, which is the same set
// of tables and columns on both, so rows are copied table by table, column by
// column, values unchanged: ids, seqs, head_seq and epoch included, so every
// client's cursor stays valid. The copy is one PostgreSQL transaction, read
// from one SQLite snapshot; it refuses a target that holds any row, and
// before committing it checks each table's row count and a digest of its
// rows in primary-key order on both sides. A failure leaves the target empty.
#pragma once

#include "store/open_store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mgteam::server {

struct CopiedTable {
  std::string name;
  int64_t rows = 0;
  std::string digest;  // hex SHA-256 of the rows, the same on both sides
};

// `from`: sqlite:PATH; `to`: postgres://... (an empty database).
Result<std::vector<CopiedTable>> CopySqliteToPostgres(const std::string& from, const std::string& to,
                                                      const StoreOptions& options);

}  // namespace mgteam::server
