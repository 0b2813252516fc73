#include "render.h"

#include "mgteam/clock.h"
#include "mgteam/text.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace mgteam::cli {
namespace {

bool ColourOn() {
  static const bool on = StdoutIsTty() && std::getenv("NO_COLOR") == nullptr;
  return on;
}

std::string Pad(const std::string& s, size_t width) {
  size_t n = CodePointCount(s);
  return n >= width ? s : s + std::string(width - n, ' ');
}

}  // namespace

bool StdoutIsTty() { return ::isatty(STDOUT_FILENO) == 1; }
bool StdinIsTty() { return ::isatty(STDIN_FILENO) == 1; }
std::string Bold(const std::string& s) { return ColourOn() ? "\033[1m" + s + "\033[0m" : s; }
std::string Dim(const std::string& s) { return ColourOn() ? "\033[2m" + s + "\033[0m" : s; }

void PrintJson(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void Say(const std::string& line) { std::cout << line << "\n"; }
void Note(const std::string& line) { std::cerr << line << "\n"; }

Table::Table(std::vector<std::string> headers, std::vector<size_t> max_widths)
    : headers_(std::move(headers)), max_widths_(std::move(max_widths)) {
  max_widths_.resize(headers_.size(), 0);
}

void Table::Add(std::vector<std::string> row) {
  row.resize(headers_.size());
  for (size_t i = 0; i < row.size(); ++i) {
    std::replace(row[i].begin(), row[i].end(), '\n', ' ');
    if (max_widths_[i] > 0) row[i] = Ellipsize(row[i], max_widths_[i]);
  }
  rows_.push_back(std::move(row));
}

void Table::Print() const {
  std::vector<size_t> width(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) width[i] = CodePointCount(headers_[i]);
  for (const auto& r : rows_)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], CodePointCount(r[i]));
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      bool last = i + 1 == cells.size();
      std::string cell = last ? cells[i] : Pad(cells[i], width[i]);
      out += header ? Bold(cell) : cell;
      if (!last) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::cout << out << "\n";
  };
  line(headers_, true);
  for (const auto& r : rows_) line(r, false);
}

std::string Ago(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  return t ? HumanizeAgo(*t, Now()) : rfc3339;
}

std::string JoinStrings(const nlohmann::json& arr, const std::string& sep) {
  std::string out;
  if (!arr.is_array()) return out;
  for (const auto& x : arr) {
    if (!x.is_string()) continue;
    if (!out.empty()) out += sep;
    out += x.get<std::string>();
  }
  return out;
}

bool SameText(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace mgteam::cli
