// Shared by the fuzz targets: a reader that turns fuzzer bytes into choices,
// and FUZZ_REQUIRE, which stops the process on a broken property so that
// libFuzzer (and the replay driver under ctest) report it as a crash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#define FUZZ_REQUIRE(cond)                                                             \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

namespace mgteam::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Consumes the input from the front; past its end every read yields zeros or
// empty strings, so a target never has to check lengths.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : rest_(bytes) {}

  uint8_t Byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  bool Bool() { return Byte() & 1; }
  // A number in [0, n) for n >= 1.
  size_t Below(size_t n) { return Byte() % n; }
  // A string of up to `max` bytes, its length taken from the input.
  std::string Text(size_t max) {
    size_t wanted = Byte() % (max + 1);  // read before rest_.size(): it shrinks it
    size_t n = std::min(wanted, rest_.size());
    std::string out(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return out;
  }
  std::string_view Rest() {
    std::string_view r = rest_;
    rest_ = {};
    return r;
  }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// dump -> parse gives the same value back, and dumping again the same text.
// (nlohmann refuses numbers past double's range, so parsed documents hold no
// infinities, which it would write as null.)
inline void RequireJsonRoundTrip(const nlohmann::json& j) {
  std::string text = j.dump();
  nlohmann::json again = nlohmann::json::parse(text, nullptr, false);
  FUZZ_REQUIRE(!again.is_discarded());
  FUZZ_REQUIRE(again == j);
  FUZZ_REQUIRE(again.dump() == text);
}

}  // namespace mgteam::fuzz
