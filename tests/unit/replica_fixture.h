// A replica on a real SQLite file in a temp dir, bound to a user and holding
// one team workspace (with `role`), for the replica's unit tests.
#pragma once

#include "replica.h"

#include "mgteam/sqlite.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

namespace mgteam::test {

using agent::Replica;

inline const std::string kWs = "01a2124c-a21f-739f-92bb-b20569d88acf";
inline const std::string kMe = "01a2124c-a21f-739e-9579-1fe8468105b5";
inline const std::string kTeammate = "01a2124c-a21f-739e-9579-000000000002";

struct Fixture {
  std::string dir;
  std::unique_ptr<Replica> r;

  explicit Fixture(const std::string& role = "admin") {
    char tmpl[] = "/tmp/mgteam-replica-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto opened = Replica::Open(dir + "/replica.db");
    REQUIRE(opened.ok());
    r = std::move(opened).value();
    REQUIRE(r->Bind("http://127.0.0.1:8474", kMe).ok());
    Workspace w;
    w.id = kWs;
    w.name = "Team";
    w.slug = "team";
    w.kind = "team";
    REQUIRE(r->RememberWorkspace(w, role).ok());
    REQUIRE(r->BeginSnapshot(kWs).ok());
    REQUIRE(r->FinishSnapshot(kWs, 2, "epoch-1").ok());
  }
  ~Fixture() {
    r.reset();
    std::filesystem::remove_all(dir);
  }
};

inline Memory ServerMemory(const std::string& id, int64_t version, const std::string& title) {
  Memory m;
  m.id = id;
  m.workspace_id = kWs;
  m.title = title;
  m.version = version;
  m.created_by = m.updated_by = kTeammate;
  m.created_at = m.updated_at = "2026-11-25T10:00:00.000Z";
  return m;
}

inline Event MemoryEvent(int64_t seq, const Memory& m, const std::string& type = "memory_updated") {
  Event e;
  e.workspace_id = kWs;
  e.seq = seq;
  e.type = type;
  e.entity_type = "memory";
  e.entity_id = m.id;
  e.entity = m.ToJson();
  return e;
}

inline Memory Draft(const std::string& title) {
  Memory m;
  m.title = title;
  return m;
}

}  // namespace mgteam::test
