#include "sanitizer_reports.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

namespace mgteam::test {

SanitizerReports::SanitizerReports() {
#ifdef MGTEAM_SANITIZE
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/mgteam-sanitizer-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::cerr << "cannot create a directory for sanitizer reports under " << tmpl << "\n";
    std::abort();
  }
  dir_ = tmpl;
  // Options are read when a process starts: this process keeps writing its
  // own reports to stderr, its children write to dir_/report.<pid>. A later
  // log_path overrides an earlier one.
  for (const char* var : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
    const char* old = std::getenv(var);
    std::string value = std::string(old ? old : "") + ":log_path=" + dir_ + "/report";
    ::setenv(var, value.c_str(), 1);
  }
#endif
}

SanitizerReports::~SanitizerReports() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool SanitizerReports::Check() const {
  if (dir_.empty()) return true;
  bool clean = true;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::ifstream in(entry.path());
    std::string report((std::istreambuf_iterator<char>(in)), {});
    std::cerr << "\n=== a process started by this test reported (" << entry.path().filename().string()
              << "; the number is its pid):\n"
              << report << "\n";
    clean = false;
  }
  return clean;
}

}  // namespace mgteam::test
