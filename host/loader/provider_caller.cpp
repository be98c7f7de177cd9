#include "loader/provider_caller.hpp"

#include <algorithm>

namespace gatehouse::host {

std::string seconds_text(std::chrono::milliseconds d) {
  if (d < std::chrono::seconds(1)) return std::to_string(std::max<long long>(d.count(), 0)) + " ms";
  return std::to_string(d.count() / 1000) + "." + std::to_string((d.count() % 1000) / 100) + " s";
}

ProviderCaller::ProviderCaller(ProviderCallerOptions options)
    : options_(options), pool_(options.max_threads == 0 ? 1 : options.max_threads) {
  if (options_.max_abandoned_per_handler == 0) options_.max_abandoned_per_handler = 1;
}

ProviderCaller::~ProviderCaller() = default;  // pool_ goes first and waits for the calls still out

std::size_t ProviderCaller::abandoned(std::string_view handler) const {
  std::lock_guard lock(mutex_);
  auto it = outstanding_.find(handler);
  return it == outstanding_.end() ? 0 : it->second.count;
}

std::size_t ProviderCaller::abandoned_total() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [_, o] : outstanding_) n += o.count;
  return n;
}

std::optional<Error> ProviderCaller::refusal(const std::string& handler, std::string_view what) const {
  std::lock_guard lock(mutex_);
  auto it = outstanding_.find(handler);
  if (it == outstanding_.end() || it->second.count < options_.max_abandoned_per_handler) return std::nullopt;
  const auto out = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                         it->second.since);
  return make_error(ErrorCode::deadline_exceeded,
                    std::string(what) + " was not sent: " + std::to_string(it->second.count) +
                        (it->second.count == 1 ? " earlier call" : " earlier calls") + " to handler '" + handler +
                        "' passed its deadline and has not returned for " + seconds_text(out) +
                        " (an in-process provider that hangs keeps its thread until it returns)");
}

void ProviderCaller::abandoned_one(const std::string& handler) {
  std::lock_guard lock(mutex_);
  auto& o = outstanding_[handler];
  if (o.count++ == 0) o.since = std::chrono::steady_clock::now();
}

void ProviderCaller::returned_one(const std::string& handler) {
  std::lock_guard lock(mutex_);
  auto it = outstanding_.find(handler);
  if (it == outstanding_.end()) return;
  if (--it->second.count == 0) outstanding_.erase(it);
}

}  // namespace gatehouse::host
