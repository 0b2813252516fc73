// The integration tests' main: doctest's, plus a check that no process the
// tests started wrote a sanitizer report (support/sanitizer_reports.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "sanitizer_reports.h"

int main(int argc, char** argv) {
  mgteam::test::SanitizerReports reports;
  doctest::Context context(argc, argv);
  int rc = context.run();
  if (context.shouldExit()) return rc;
  if (!reports.Check()) return rc != 0 ? rc : 1;
  return rc;
}
