#include "invitation_link.h"

#include "exit_codes.h"

#include <cctype>

namespace mgteam::cli {
namespace {

constexpr std::string_view kTokenPrefix = "mgi_";
constexpr std::string_view kJoinPath = "/join/";

std::string Trim(const std::string& s) {
  constexpr const char* kJunk = " \t\r\n\"'<>";
  auto b = s.find_first_not_of(kJunk);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(kJunk) - b + 1);
}

// "mgi_" and the letters and digits after it; "" if `s` does not start so.
std::string TokenAt(const std::string& s) {
  if (s.compare(0, kTokenPrefix.size(), kTokenPrefix) != 0) return "";
  size_t end = kTokenPrefix.size();
  while (end < s.size() && std::isalnum(static_cast<unsigned char>(s[end]))) ++end;
  return end == kTokenPrefix.size() ? "" : s.substr(0, end);
}

Status NotAnInvitation(const std::string& text) {
  // Appended, not "'" + Trim(text): GCC 12 at -O3 reports a bogus
  // -Wrestrict for a literal + std::string&& (GCC bug 105329).
  std::string message = "'";
  message += Trim(text);
  message += "' is not an invitation: pass the link the invitation came with "
             "(http://HOST:PORT/join/mgi_...) or its mgi_... token";
  return UsageError(message);
}

}  // namespace

std::string InvitationLink::ToString() const {
  return server ? server->ToString() + std::string(kJoinPath) + token : token;
}

Result<InvitationLink> ParseInvitationLink(const std::string& text) {
  const std::string t = Trim(text);
  InvitationLink link;
  const auto join = t.rfind(kJoinPath);
  link.token = TokenAt(join == std::string::npos ? t : t.substr(join + kJoinPath.size()));
  if (link.token.empty()) return NotAnInvitation(text);
  if (join == std::string::npos) return link;
  // Only the URL itself: a pasted "link: http://..." brings its words along.
  std::string before = t.substr(0, join);
  if (auto cut = before.find_last_of(" \t\r\n\"'<>("); cut != std::string::npos) before = before.substr(cut + 1);
  auto server = ParseServerUrl(before);
  if (!server.ok())
    return UsageError("the invitation link's server part is not a URL: " + server.status().message());
  link.server = std::move(server).value();
  return link;
}

}  // namespace mgteam::cli
