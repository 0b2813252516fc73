#include "mgteam/digest.h"

#include <sodium.h>

#include <cstring>

namespace mgteam {
namespace {

std::string ToHex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

}  // namespace

struct RowDigest::State {
  crypto_hash_sha256_state sha;
};

std::string RowHash(const json& row) {
  const std::string text = row.dump();
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return ToHex(h, sizeof h);
}

RowDigest::RowDigest() : state_(std::make_unique<State>()) { crypto_hash_sha256_init(&state_->sha); }
RowDigest::~RowDigest() = default;
RowDigest::RowDigest(RowDigest&&) noexcept = default;
RowDigest& RowDigest::operator=(RowDigest&&) noexcept = default;

void RowDigest::AddRow(const json& row) {
  std::string line = RowHash(row) + "\n";
  crypto_hash_sha256_update(&state_->sha, reinterpret_cast<const unsigned char*>(line.data()), line.size());
  ++count_;
}

void RowDigest::Add(const Memory& m) {
  if (!m.deleted) AddRow(m.ToJson());
}

void RowDigest::Add(const Relationship& r) {
  if (!r.deleted) AddRow(r.ToJson());
}

std::string RowDigest::Hex() const {
  crypto_hash_sha256_state copy;
  std::memcpy(&copy, &state_->sha, sizeof copy);
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&copy, h);
  return ToHex(h, sizeof h);
}

json RowDigest::ToJson() const { return {{"count", count_}, {"digest", Hex()}}; }

}  // namespace mgteam
