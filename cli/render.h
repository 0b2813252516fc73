// Output: JSON for scripts (--json), aligned tables and short lines for
// people. Colour only when stdout is a terminal and NO_COLOR is unset.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mgteam::cli {

bool StdoutIsTty();
bool StdinIsTty();
std::string Bold(const std::string& s);
std::string Dim(const std::string& s);

// Pretty JSON on stdout.
void PrintJson(const nlohmann::json& j);
// A line on stdout.
void Say(const std::string& line);
// A note on stderr (never mixed into output a script parses).
void Note(const std::string& line);

class Table {
 public:
  // `max_widths[i]` > 0 cuts column i to that many characters.
  explicit Table(std::vector<std::string> headers, std::vector<size_t> max_widths = {});
  void Add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  void Print() const;

 private:
  std::vector<std::string> headers_;
  std::vector<size_t> max_widths_;
  std::vector<std::vector<std::string>> rows_;
};

// "2026-11-25T10:14:57.123Z" -> "3 minutes ago".
std::string Ago(const std::string& rfc3339);

// Equal ignoring ASCII case (names and emails typed on the command line).
bool SameText(const std::string& a, const std::string& b);
// "a, b, c" from a JSON array of strings.
std::string JoinStrings(const nlohmann::json& arr, const std::string& sep = ", ");

}  // namespace mgteam::cli
