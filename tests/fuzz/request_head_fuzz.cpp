// InspectHead decides which request heads reach cpp-httplib. Its verdict must
// not depend on what follows the head, must never call a strict prefix of a
// head complete, and must agree with how httplib 0.11 reads the same bytes
// (lines end at LF; a line not ending in CRLF is skipped; the name is what
// precedes the first colon), or a head it passed as unambiguous could carry
// a second Content-Length that only httplib sees.
#include "fuzz_support.h"
#include "http/request_head.h"

#include <cctype>

namespace {

using mgteam::server::HeadLimits;
using mgteam::server::HeadVerdict;
using mgteam::server::InspectHead;

bool SameVerdict(const HeadVerdict& a, const HeadVerdict& b) {
  return a.kind == b.kind && a.length == b.length && a.reason == b.reason;
}

bool NameIs(std::string_view line, std::string_view name) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon != name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

struct LibraryView {
  bool complete = false;
  size_t length = 0;  // bytes up to and including the blank line
  int content_length = 0;
  int transfer_encoding = 0;
};

// The head as httplib reads it, after the leading CRLFs InspectHead skips.
LibraryView ReadLikeHttplib(std::string_view bytes) {
  LibraryView view;
  size_t pos = 0;
  while (bytes.substr(pos, 2) == "\r\n") pos += 2;
  size_t eol = bytes.find('\n', pos);
  if (eol == std::string_view::npos) return view;
  pos = eol + 1;  // the request line, whatever it ends with
  while ((eol = bytes.find('\n', pos)) != std::string_view::npos) {
    std::string_view line = bytes.substr(pos, eol + 1 - pos);
    pos = eol + 1;
    if (line.size() < 2 || line[line.size() - 2] != '\r') continue;
    if (line == "\r\n") {
      view.complete = true;
      view.length = pos;
      return view;
    }
    view.content_length += NameIs(line, "content-length");
    view.transfer_encoding += NameIs(line, "transfer-encoding");
  }
  return view;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mgteam::fuzz::ByteReader in(mgteam::fuzz::AsText(data, size));
  HeadLimits limits;
  if (uint8_t choice = in.Byte(); choice & 1) {
    limits.max_headers = 1 + choice % 16;
    limits.max_bytes = 32 + choice * 4u;
  }
  const std::string_view bytes = in.Rest();
  const HeadVerdict v = InspectHead(bytes, limits);
  FUZZ_REQUIRE(SameVerdict(v, InspectHead(bytes, limits)));

  if (v.kind == HeadVerdict::kTooLarge || v.kind == HeadVerdict::kBadFraming || v.kind == HeadVerdict::kMultipleRanges)
    FUZZ_REQUIRE(!v.reason.empty());
  if (v.kind != HeadVerdict::kComplete && v.kind != HeadVerdict::kLengthRequired) return 0;

  FUZZ_REQUIRE(v.length >= 4 && v.length <= bytes.size() && v.length <= limits.max_bytes);
  const std::string_view head = bytes.substr(0, v.length);
  FUZZ_REQUIRE(head.substr(head.size() - 4) == "\r\n\r\n");
  // The verdict is the head's alone: not what follows, and no strict prefix
  // of it is complete.
  FUZZ_REQUIRE(SameVerdict(v, InspectHead(head, limits)));
  for (size_t cut : {v.length - 1, v.length - 2, v.length / 2})
    FUZZ_REQUIRE(InspectHead(head.substr(0, cut), limits).kind == HeadVerdict::kIncomplete);

  const LibraryView lib = ReadLikeHttplib(bytes);
  FUZZ_REQUIRE(lib.complete && lib.length == v.length);
  FUZZ_REQUIRE(lib.content_length <= 1 && lib.transfer_encoding <= 1);
  FUZZ_REQUIRE(!(lib.content_length && lib.transfer_encoding));
  if (v.kind == HeadVerdict::kComplete) {
    std::string_view line = head;
    while (line.substr(0, 2) == "\r\n") line.remove_prefix(2);
    std::string_view method = line.substr(0, line.find(' '));
    if (method == "POST" || method == "PUT" || method == "PATCH")
      FUZZ_REQUIRE(lib.content_length || lib.transfer_encoding);
  }
  return 0;
}
