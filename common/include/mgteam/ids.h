// Identifiers: UUIDv7 generation (time-ordered, so ids sort by creation and
// clients can mint them offline), UUID validation/normalisation, and random
// hex strings. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mgteam {

// A new RFC 9562 UUIDv7 in canonical lowercase form. Ids minted by one process
// are strictly increasing even within one millisecond.
std::string NewUuidV7();

// Canonical lowercase form of any RFC 4122/9562 UUID (8-4-4-4-12 hex digits,
// any version: MemoryGraph exports carry v4 ids), or nullopt if `s` is not one.
std::optional<std::string> NormalizeUuid(std::string_view s);

// The version nibble of a canonical UUID.
int UuidVersion(std::string_view canonical_uuid);

// `nbytes` random bytes from the OS CSPRNG, hex-encoded.
std::string RandomHex(size_t nbytes);

}  // namespace mgteam
