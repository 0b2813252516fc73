#include "mgteam/ids.h"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace mgteam {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void EnsureSodium() {
  static const int rc = sodium_init();  // idempotent; < 0 only if no entropy source
  (void)rc;
}

std::string Format(const std::array<uint8_t, 16>& b) {
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string NewUuidV7() {
  EnsureSodium();
  // Monotonicity: within one millisecond the 12-bit rand_a field is used as a
  // counter (RFC 9562 §6.2 method 1); if it overflows we borrow the next ms.
  static std::mutex mu;
  static uint64_t last_ms = 0;
  static uint16_t counter = 0;

  std::array<uint8_t, 16> b{};
  randombytes_buf(b.data(), b.size());
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  uint16_t seq;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (ms <= last_ms) {
      ms = last_ms;
      if (++counter > 0x0fff) {
        counter = 0;
        ++ms;
      }
    } else {
      counter = static_cast<uint16_t>((b[6] << 4 | b[7] >> 4) & 0x07ff);  // random start, headroom
    }
    last_ms = ms;
    seq = counter;
  }
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((seq >> 8) & 0x0f));
  b[7] = static_cast<uint8_t>(seq & 0xff);
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));
  return Format(b);
}

std::optional<std::string> NormalizeUuid(std::string_view s) {
  if (s.size() != 36) return std::nullopt;
  std::string out(s);
  for (size_t i = 0; i < 36; ++i) {
    char c = out[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    if (c >= 'A' && c <= 'F') out[i] = static_cast<char>(c - 'A' + 'a');
    else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return out;
}

int UuidVersion(std::string_view u) {
  if (u.size() != 36) return -1;
  char c = u[14];
  return (c >= '0' && c <= '9') ? c - '0' : c - 'a' + 10;
}

std::string RandomHex(size_t nbytes) {
  EnsureSodium();
  std::string raw(nbytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out;
  out.reserve(nbytes * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

}  // namespace mgteam
