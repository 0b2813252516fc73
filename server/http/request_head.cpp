#include "http/request_head.h"

#include <algorithm>
#include <cctype>

namespace mgteam::server {
namespace {

bool NameIs(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

}  // namespace

HeadVerdict InspectHead(std::string_view bytes, const HeadLimits& limits) {
  HeadVerdict v;
  // Blank lines before the request line are allowed (RFC 9112 §2.2).
  size_t start = 0;
  while (start + 1 < bytes.size() && bytes[start] == '\r' && bytes[start + 1] == '\n') start += 2;
  size_t end = bytes.find("\r\n\r\n", start);
  std::string_view head = bytes.substr(0, end == std::string_view::npos ? bytes.size() : end + 4);
  // Counted on what has arrived, so a flood is refused before it completes.
  size_t lines = static_cast<size_t>(std::count(head.begin() + static_cast<long>(start), head.end(), '\n'));
  if (lines > limits.max_headers + 2) {
    v.kind = HeadVerdict::kTooLarge;
    v.reason = "more than " + std::to_string(limits.max_headers) + " header lines";
    return v;
  }
  if (head.size() > limits.max_bytes) {
    v.kind = HeadVerdict::kTooLarge;
    v.reason = "a request head larger than " + std::to_string(limits.max_bytes) + " bytes";
    return v;
  }
  // httplib ends a line at a bare LF too (and skips the line), so a bare LF
  // would let it find a header, or the end of the head, where this check
  // found none: "X: a\nContent-Length: 5" is one line here and two there.
  for (size_t lf = head.find('\n', start); lf != std::string_view::npos; lf = head.find('\n', lf + 1)) {
    if (lf == 0 || head[lf - 1] != '\r') {
      v.kind = HeadVerdict::kBadFraming;
      v.reason = "a line ending in a bare LF";
      return v;
    }
  }
  if (end == std::string_view::npos) return v;  // incomplete, within limits
  int content_length = 0, transfer_encoding = 0;
  bool zero_length = false;  // Content-Length: 0
  bool multiple_ranges = false;
  for (size_t pos = bytes.find("\r\n", start) + 2; pos < end + 2;) {
    size_t eol = bytes.find("\r\n", pos);
    std::string_view line = bytes.substr(pos, eol - pos);
    if (NameIs(line, "content-length")) {
      ++content_length;
      std::string_view value = line.substr(line.find(':') + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      zero_length = value == "0";
    }
    transfer_encoding += NameIs(line, "transfer-encoding");
    // cpp-httplib answers "Range: bytes=0-,0-,0-,..." with one part per range
    // and no cap: a few KiB of head for a response thousands of times the
    // file, built in memory. One range is all a client ever needs here.
    multiple_ranges = multiple_ranges || (NameIs(line, "range") && line.find(',') != std::string_view::npos);
    pos = eol + 2;
  }
  if (content_length > 1 || (content_length && transfer_encoding) || transfer_encoding > 1) {
    v.kind = HeadVerdict::kBadFraming;
    v.reason = content_length > 1 ? "more than one Content-Length"
               : transfer_encoding > 1 ? "more than one Transfer-Encoding"
                                       : "both Content-Length and Transfer-Encoding";
    return v;
  }
  v.length = end + 4;
  std::string_view method = bytes.substr(start, bytes.find(' ', start) - start);
  // cpp-httplib reads a body only for these methods; after a GET's head it
  // would parse the body as the next request — on a connection a proxy
  // reuses for other clients, a smuggled request.
  const bool body_read = method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE" ||
                         method == "PRI";
  if (!body_read && (transfer_encoding || (content_length && !zero_length))) {
    v.kind = HeadVerdict::kBadFraming;
    v.reason = "a body on a " + std::string(method) + " request";
    v.length = 0;
    return v;
  }
  if (multiple_ranges) {
    v.kind = HeadVerdict::kMultipleRanges;
    v.reason = "a Range header with more than one range";
    return v;
  }
  if (!content_length && !transfer_encoding && (method == "POST" || method == "PUT" || method == "PATCH")) {
    v.kind = HeadVerdict::kLengthRequired;
    v.reason = std::string(method);
    return v;
  }
  v.kind = HeadVerdict::kComplete;
  return v;
}

}  // namespace mgteam::server
