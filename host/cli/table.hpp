// Plain-text tables for people: columns padded to the widest cell, no borders, like kubectl.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace gatehouse::cli {

// Not thread-safe: one thread builds and prints a table (the CLI runs on one thread).
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out, const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace gatehouse::cli
