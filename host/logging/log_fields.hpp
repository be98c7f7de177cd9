// Structured fields on log lines: while a FieldScope lives, every line its thread logs carries its fields
// ("handler", "source", ...). The JSON sink writes them as members of the line's object, the human pattern
// flag %& as "handler=demo-a source=provider " (log_sinks.hpp). Thread-local, so it works because spdlog's
// loggers here are synchronous: a line is formatted on the thread that logs it.
//
// Threads: each thread has its own fields; a FieldScope must end on the thread that began it (it is a
// stack object).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gatehouse::host::logging {

using LogFields = std::vector<std::pair<std::string, std::string>>;

// This thread's fields, outermost scope first.
const LogFields& current_fields();

class FieldScope {
 public:
  explicit FieldScope(const LogFields& fields);
  ~FieldScope();
  FieldScope(const FieldScope&) = delete;
  FieldScope& operator=(const FieldScope&) = delete;

 private:
  std::size_t previous_size_;
};

}  // namespace gatehouse::host::logging
