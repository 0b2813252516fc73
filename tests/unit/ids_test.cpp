#include "mgteam/ids.h"

#include <doctest/doctest.h>

#include <set>

using namespace mgteam;

TEST_CASE("UUIDv7 ids are canonical, version 7, RFC variant, and strictly increasing") {
  std::string prev;
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    std::string id = NewUuidV7();
    REQUIRE(id.size() == 36);
    CHECK(NormalizeUuid(id) == id);
    CHECK(UuidVersion(id) == 7);
    CHECK((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
    CHECK(id > prev);  // many per millisecond: the counter keeps them ordered
    prev = id;
    seen.insert(id);
  }
  CHECK(seen.size() == 20000);
}

TEST_CASE("NormalizeUuid accepts any version in any case and rejects the rest") {
  CHECK(NormalizeUuid("5B0F6D0E-3A51-4D6E-9A0C-1F3E2B7C9D01") == "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01");
  CHECK(UuidVersion("5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01") == 4);
  CHECK_FALSE(NormalizeUuid(""));
  CHECK_FALSE(NormalizeUuid("5b0f6d0e3a514d6e9a0c1f3e2b7c9d01"));
  CHECK_FALSE(NormalizeUuid("5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d0g"));
  CHECK_FALSE(NormalizeUuid("5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d011"));
  CHECK_FALSE(NormalizeUuid("5b0f6d0e_3a51-4d6e-9a0c-1f3e2b7c9d01"));
}

TEST_CASE("RandomHex gives the requested length and differs between calls") {
  CHECK(RandomHex(8).size() == 16);
  CHECK(RandomHex(16) != RandomHex(16));
}
