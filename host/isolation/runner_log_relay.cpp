#include "isolation/runner_log_relay.hpp"

#include "logging/log_fields.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace gatehouse::host::isolation {

RunnerLogRelay::RunnerLogRelay(std::string handler_id, pid_t pid)
    : handler_id_(std::move(handler_id)), pid_(std::to_string(pid)) {}

void RunnerLogRelay::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(bytes);
      if (partial_.size() >= kMaxLine) {
        emit(partial_);
        partial_.clear();
      }
      return;
    }
    if (partial_.empty()) {
      emit(bytes.substr(0, newline));
    } else {
      partial_.append(bytes.substr(0, newline));
      emit(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
}

void RunnerLogRelay::finish() {
  if (!partial_.empty()) emit(partial_);
  partial_.clear();
}

void RunnerLogRelay::emit(std::string_view line) const {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  try {
    logging::LogFields fields;
    if (!handler_id_.empty()) fields.emplace_back("handler", handler_id_);
    fields.emplace_back("runner_pid", pid_);

    const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const bool structured = record.is_object() && record.contains("msg") && record["msg"].is_string() &&
                            record.contains("level") && record["level"].is_string();
    if (!structured) {
      fields.emplace_back("source", "provider-output");
      const logging::FieldScope scope(fields);
      spdlog::warn("{}", line);
      return;
    }
    auto level = spdlog::level::from_str(record["level"].get<std::string>());
    if (level == spdlog::level::off) level = spdlog::level::info;  // an unknown level name is not a reason to drop it
    const std::string source = record.value("source", "runner");
    fields.emplace_back("source", source == "provider" ? "provider" : "runner");
    const logging::FieldScope scope(fields);
    spdlog::log(level, "{}", record["msg"].get<std::string>());
  } catch (...) {
    // Logging must never take the host down (a bad_alloc, a logger that throws).
  }
}

}  // namespace gatehouse::host::isolation
