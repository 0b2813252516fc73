// Test support: sanitizer reports from the binaries a test starts.
//
// In a sanitizer build (scripts/test --sanitize) the server, agent and CLI a
// test runs are instrumented too, but their stderr goes to files the test may
// never read, to /dev/null, or to a process the CLI detached. So every test
// process gives its children a directory of its own for reports (log_path in
// ASAN_OPTIONS, UBSAN_OPTIONS and TSAN_OPTIONS, which children inherit) and,
// once its test cases have run, fails if anything was written there, printing
// each report. In a normal build this does nothing.
#pragma once

#include <string>

namespace mgteam::test {

class SanitizerReports {
 public:
  SanitizerReports();   // sets log_path for the processes started from now on
  ~SanitizerReports();  // removes the directory
  SanitizerReports(const SanitizerReports&) = delete;
  SanitizerReports& operator=(const SanitizerReports&) = delete;

  // Prints every report to stderr; false if there was one.
  bool Check() const;

 private:
  std::string dir_;
};

}  // namespace mgteam::test
