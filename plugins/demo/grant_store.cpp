#include "grant_store.hpp"

#include "durable_file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

namespace demo {

using gatehouse::Error;

nlohmann::ordered_json GrantRecord::to_json() const {
  // ordered_json keeps the keys in this order, so `cat grants/<id>.json` reads naturally.
  return {{"grant_id", grant_id}, {"subject", subject},       {"project", project},      {"role", role},
          {"starts_at", starts_at}, {"ends_at", ends_at}, {"granted_at", granted_at}};
}

std::optional<GrantRecord> GrantRecord::from_json(const nlohmann::json& json) {
  auto text = [&](const char* key) -> std::optional<std::string> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (!json.is_object()) return std::nullopt;
  auto id = text("grant_id"), subject = text("subject"), project = text("project"), role = text("role");
  if (!id || !subject || !project || !role) return std::nullopt;
  return GrantRecord{*id, *subject, *project, *role, text("starts_at").value_or(""), text("ends_at").value_or(""),
                     text("granted_at").value_or("")};
}

bool GrantRecord::same_access(const GrantRecord& other) const {
  // Times are left out on purpose: a retried request is the same grant even if it was re-stamped.
  return subject == other.subject && project == other.project && role == other.role;
}

std::string format_time(gatehouse::Clock::time_point time) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(std::chrono::milliseconds(ms));
  const std::time_t whole = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(ms - seconds.count() * 1000));
  return std::string(date) + fraction;
}

void check_grant_id(std::string_view grant_id) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
  };
  if (grant_id.empty() || grant_id.size() > 128 || !std::all_of(grant_id.begin(), grant_id.end(), allowed)) {
    throw Error::invalid_argument("grant id must be 1 to 128 characters from [A-Za-z0-9._:-]", "/grant_id");
  }
}

std::string GrantStore::relative_path(const std::string& grant_id) { return "grants/" + grant_id + ".json"; }

GrantStore::GrantStore(std::filesystem::path state_dir) : state_dir_(std::move(state_dir)) {
  // The state directory itself is the operator's to create: making it here would hide a typo in the
  // config. grants/ inside it is ours. Failing is fine now; problem() and every call will say why.
  try {
    durable::make_directory(state_dir_ / "grants");
  } catch (const std::system_error&) {
  }
}

GrantStore::Recorded GrantStore::record(const GrantRecord& record) {
  check_grant_id(record.grant_id);
  std::lock_guard in_process(mutex_);
  try {
    const durable::Fd across_processes = durable::lock_exclusive(state_dir_ / ".lock");
    if (auto existing = read_record(record.grant_id)) return {*existing, false};
    durable::make_directory(state_dir_ / "grants");  // the state directory may have appeared after start-up
    durable::replace_file(state_dir_ / relative_path(record.grant_id), record.to_json().dump(2) + "\n");
    // The record is the truth and the event its history, written after the change it reports: a crash
    // in between can lose a line of history, never leave history describing a grant that is not there.
    append_event("grant", record, record.granted_at);
    return {record, true};
  } catch (const std::system_error& e) {
    unusable(e.what());
  }
}

std::optional<GrantRecord> GrantStore::remove(const std::string& grant_id) {
  check_grant_id(grant_id);  // before the id becomes a path
  const auto path = state_dir_ / relative_path(grant_id);
  std::lock_guard in_process(mutex_);
  try {
    const durable::Fd across_processes = durable::lock_exclusive(state_dir_ / ".lock");
    const auto text = durable::read_file(path);
    if (!text) return std::nullopt;
    // A damaged record must not keep access alive: it is removed all the same, and the event says
    // what is still known.
    auto record = GrantRecord::from_json(nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false))
                      .value_or(GrantRecord{grant_id, "", "", "", "", "", ""});
    durable::remove_file(path);
    append_event("revoke", record, format_time(gatehouse::Clock::now()));
    return record;
  } catch (const std::system_error& e) {
    unusable(e.what());
  }
}

std::optional<std::string> GrantStore::problem() const {
  const std::string name = "state directory '" + state_dir_.string() + "'";
  struct stat info {};
  if (::stat(state_dir_.c_str(), &info) != 0) {
    const int error = errno;
    if (error == ENOENT) return name + " does not exist";
    return name + " is not usable: " + std::generic_category().message(error);
  }
  if (!S_ISDIR(info.st_mode)) return name + " is not a directory";
  // Existing is not enough (read-only mounts, full disks, wrong owner): write a probe the way a grant
  // writes its record. The name is unique so concurrent checks do not trip over each other.
  static std::atomic<unsigned long> probes{0};
  const auto probe =
      state_dir_ / (".health-probe-" + std::to_string(::getpid()) + "-" + std::to_string(probes.fetch_add(1)));
  try {
    durable::replace_file(probe, "probe\n");
    durable::remove_file(probe);
  } catch (const std::system_error& e) {
    return name + " is not usable: " + e.code().message();
  }
  return std::nullopt;
}

std::optional<GrantRecord> GrantStore::read_record(const std::string& grant_id) const {
  const auto text = durable::read_file(state_dir_ / relative_path(grant_id));
  if (!text) return std::nullopt;
  auto record = GrantRecord::from_json(nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false));
  if (!record) {
    throw Error::failed_precondition("grant record '" + relative_path(grant_id) + "' in state directory '" +
                                     state_dir_.string() + "' is damaged; revoke the grant or move the file aside");
  }
  return record;
}

void GrantStore::append_event(std::string_view event, const GrantRecord& record, const std::string& at) const {
  const nlohmann::ordered_json line = {{"event", std::string(event)},        {"grant_id", record.grant_id},
                                       {"subject", record.subject}, {"project", record.project},
                                       {"role", record.role},       {"at", at}};
  durable::append_line(state_dir_ / "events.log", line.dump());
}

void GrantStore::unusable(const std::string& why) const {
  // Unavailable, not a final failure: the host retries or fails over, and health reports the same cause.
  throw Error::unavailable("state directory '" + state_dir_.string() + "' is not usable: " + why);
}

}  // namespace demo
