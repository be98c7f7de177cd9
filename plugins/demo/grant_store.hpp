// Where the demo provider's grants become real: one JSON file per active grant under
// <state_dir>/grants/ and an append-only history in <state_dir>/events.log (see README.md).
#pragma once

#include <gatehouse/sdk.hpp>

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace demo {

// The contents of grants/<grant_id>.json. Times are RFC 3339 UTC strings, readable with `cat`.
struct GrantRecord {
  std::string grant_id;
  std::string subject;
  std::string project;
  std::string role;
  std::string starts_at;
  std::string ends_at;
  std::string granted_at;

  nlohmann::ordered_json to_json() const;
  static std::optional<GrantRecord> from_json(const nlohmann::json& json);

  // Same subject and same access: what makes a repeated grant id a retry rather than a reuse.
  bool same_access(const GrantRecord& other) const;
};

// "2024-05-01T12:00:00.000Z"
std::string format_time(gatehouse::Clock::time_point time);

// Grant ids become file names, so only [A-Za-z0-9._:-]{1,128} is accepted: no '/', so never a path
// outside grants/ ("." and ".." are harmless because ".json" is appended). Throws invalid_argument
// naming "/grant_id" otherwise.
void check_grant_id(std::string_view grant_id);

// Durable, idempotent grant records, safe for concurrent calls from threads of one process and from
// several processes (or handlers) sharing one state directory.
class GrantStore {
 public:
  // Creates grants/ when it can; an unusable directory is reported by problem() and by each call.
  explicit GrantStore(std::filesystem::path state_dir);

  struct Recorded {
    GrantRecord record;  // the record on disk: `record` as given, or the one already there
    bool created;        // false when a record with this grant id already existed (nothing was written)
  };
  // Writes the record and logs a "grant" event, unless its grant id is already recorded.
  Recorded record(const GrantRecord& record);

  // Deletes the record and logs a "revoke" event; nullopt when there was no record.
  std::optional<GrantRecord> remove(const std::string& grant_id);

  // Why the state directory cannot be used right now, or nullopt when it can.
  std::optional<std::string> problem() const;

  const std::filesystem::path& state_dir() const noexcept { return state_dir_; }

  // "grants/<grant_id>.json", relative to the state directory.
  static std::string relative_path(const std::string& grant_id);

 private:
  std::optional<GrantRecord> read_record(const std::string& grant_id) const;
  void append_event(std::string_view event, const GrantRecord& record, const std::string& at) const;
  [[noreturn]] void unusable(const std::string& why) const;

  std::filesystem::path state_dir_;
  // Serializes this instance's threads; the flock on <state_dir>/.lock then serializes everyone else
  // sharing the directory. flock alone is not enough: on NFS it becomes a POSIX record lock, which does
  // not exclude threads of the same process.
  std::mutex mutex_;
};

}  // namespace demo
