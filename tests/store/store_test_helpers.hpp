// Small helpers shared by the store tests.
#pragma once

#include "run_process.hpp"

#include <sys/stat.h>

#include <string>

namespace gatehouse::test {

// A TempDir the embedded cluster's user can pass through (tests run as root; the cluster as "postgres").
class ClusterDir {
 public:
  ClusterDir() { chmod(dir_.path().c_str(), 0711); }
  std::string data() const { return dir_.path() + "/data"; }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_{"gatehouse-store"};
};

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace gatehouse::test
