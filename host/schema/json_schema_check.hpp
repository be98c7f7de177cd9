// Private to host/schema: JSON Schema (draft 7) validation that reports readable diagnostics.
// The only place that includes valijson, so its heavy templates compile once.
#pragma once

#include "common/result.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gatehouse::host::detail {

// A parsed schema, immutable and safe to share between threads.
class CompiledSchema {
 public:
  // `noun` names the members of checked objects in reasons: "field" gives "required field is missing",
  // "property" gives "unknown property 'x'". Error "schema_unusable" when valijson rejects the schema.
  static Result<CompiledSchema> compile(const nlohmann::json& schema, std::string noun);

  // Every fault of `document`, located by JSON pointer, with a human reason. Reasons never quote a value
  // of the document (configs carry secrets); they may quote member names and the schema's own values.
  std::vector<Diagnostic> validate(const nlohmann::json& document) const;

 private:
  struct Impl;
  explicit CompiledSchema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// RFC 6901: "~" becomes "~0", "/" becomes "~1".
std::string escape_pointer_token(const std::string& token);

// JSON Schema's name for a value's type: host::json_type_name (common/json_type_name.hpp).

// " (did you mean 'token'?)" when one candidate is a close spelling of `name`, else "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

// "1 fault", "3 faults".
std::string count_faults(std::size_t n);

}  // namespace gatehouse::host::detail
