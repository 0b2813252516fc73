// Text helpers for validation at the edge: UTF-8 checks, code-point counts,
// case folding, slugs. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mgteam {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or values past
// U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Number of code points in well-formed UTF-8.
size_t CodePointCount(std::string_view s);

// True if `s` holds a C0 control character (other than tab/LF/CR when
// `allow_whitespace`) or DEL.
bool HasControlChars(std::string_view s, bool allow_whitespace);

std::string AsciiLower(std::string_view s);
std::string Trim(std::string_view s);
// "a,b,,c" -> a, b, c: the non-empty parts between `sep`s, as given.
std::vector<std::string> SplitList(std::string_view s, char sep = ',');

// "My Team!" -> "my-team": lowercase ASCII letters, digits and single dashes.
std::string Slugify(std::string_view s);
// A slug as Slugify makes them, 2-48 characters.
bool IsValidSlug(std::string_view s);

// Cuts `s` to at most `max_code_points`, adding "…" when cut (for tables).
std::string Ellipsize(std::string_view s, size_t max_code_points);

}  // namespace mgteam
