#include "mgteam/text.h"

#include <doctest/doctest.h>

using namespace mgteam;

TEST_CASE("UTF-8 validation accepts text and rejects malformed sequences") {
  CHECK(IsValidUtf8("plain"));
  CHECK(IsValidUtf8("café ☕ 東京 \xF0\x9F\x98\x80"));
  CHECK_FALSE(IsValidUtf8("\xC3"));              // truncated
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(IsValidUtf8("\xFF"));
  CHECK_FALSE(IsValidUtf8("ok\x80"));
}

TEST_CASE("code points, case, trimming, slugs") {
  CHECK(CodePointCount("café ☕") == 6);
  CHECK(AsciiLower("Redis TIMEOUT É") == "redis timeout É");
  CHECK(Trim("  a b \n") == "a b");
  CHECK(Slugify("Platform Team!") == "platform-team");
  CHECK(Slugify("  --Ops & SRE-- ") == "ops-sre");
  CHECK(Slugify("東京") == "");
  CHECK(IsValidSlug("platform-team"));
  CHECK_FALSE(IsValidSlug("Platform"));
  CHECK_FALSE(IsValidSlug("a--b"));
  CHECK_FALSE(IsValidSlug("-a"));
  CHECK_FALSE(IsValidSlug("a"));
  CHECK(Ellipsize("abcdef", 4) == "abc\u2026");
  CHECK(Ellipsize("東京東京東京", 3) == "東京\u2026");
  CHECK(HasControlChars("a\x01", true));
  CHECK_FALSE(HasControlChars("a\tb\n", true));
  CHECK(HasControlChars("a\tb", false));
}
