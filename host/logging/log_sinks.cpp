#include "logging/log_sinks.hpp"

#include "logging/log_fields.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace gatehouse::host::logging {
namespace {

std::string timestamp(spdlog::log_clock::time_point time) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char stamp[64];  // room for any year gmtime_r can produce, so the compiler can prove no truncation
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  return stamp;
}

class JsonLinesSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JsonLinesSink(int fd) : fd_(fd) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    nlohmann::json line{{"time", timestamp(msg.time)},
                        {"level", std::string(level.data(), level.size())},
                        {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
                        {"msg", std::string(msg.payload.data(), msg.payload.size())}};
    for (const auto& [key, value] : current_fields())
      if (!line.contains(key)) line[key] = value;  // fields never overwrite the four fixed members
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::string_view rest(text);
    while (!rest.empty()) {
      const ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to log to: logging must never take the process down
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void flush_() override {}

 private:
  int fd_;
};

class FieldsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    for (const auto& [key, value] : current_fields()) {
      const std::string text = key + "=" + value + " ";
      dest.append(text.data(), text.data() + text.size());
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<FieldsFlag>(); }
};

}  // namespace

std::shared_ptr<spdlog::sinks::sink> json_lines_sink(int fd) { return std::make_shared<JsonLinesSink>(fd); }

std::unique_ptr<spdlog::formatter> human_formatter(const std::string& pattern) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<FieldsFlag>('&').set_pattern(pattern);
  return formatter;
}

}  // namespace gatehouse::host::logging
