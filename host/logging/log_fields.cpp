#include "logging/log_fields.hpp"

namespace gatehouse::host::logging {
namespace {

LogFields& fields() {
  thread_local LogFields current;
  return current;
}

}  // namespace

const LogFields& current_fields() { return fields(); }

FieldScope::FieldScope(const LogFields& added) : previous_size_(fields().size()) {
  fields().insert(fields().end(), added.begin(), added.end());
}

FieldScope::~FieldScope() { fields().resize(previous_size_); }

}  // namespace gatehouse::host::logging
