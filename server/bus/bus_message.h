// BusMessage: what instances tell each other over a shared bus, and its wire
// form. A message is a hint ("workspace W's log reached seq N"), never an
// event: each instance reads the events from the database itself, so a
// message may be lost, repeated or reordered without losing anything.
//
// Wire form: one line of JSON, e.g.
//   {"k":"advance","o":"<origin instance>","id":"<workspace>","seq":42}
//   {"k":"login","o":"...","id":"<hashed email>","addr":"203.0.113.9","ok":false}
//   {"k":"presence","o":"...","id":"<workspace>","user":"<user>","n":2,"at":"<last seen>"}
// `o` lets an instance skip its own messages, which it delivered locally
// at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgteam::server {

struct BusMessage {
  enum class Kind { kAdvance, kWorkspaceDeleted, kTokenRevoked, kLogin, kPresence };
  Kind kind = Kind::kAdvance;
  std::string origin;  // the sending instance
  std::string id;      // workspace id, token id, or (kLogin) hashed account
  int64_t seq = 0;     // kAdvance: the head reached
  std::string address;   // kLogin: the client address key; kPresence: the user id
  bool success = false;  // kLogin
  std::string at;        // kPresence: last_seen (RFC 3339); `seq` is the stream count
};

std::string EncodeBusMessage(const BusMessage& m);
// nullopt for anything that is not a well-formed message (a peer of another
// version, garbage on a shared channel).
std::optional<BusMessage> DecodeBusMessage(std::string_view text);

}  // namespace mgteam::server
