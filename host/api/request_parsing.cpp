#include "api/request_parsing.hpp"

#include "common/duration_text.hpp"
#include "common/json_pointer.hpp"
#include "common/json_type_name.hpp"
#include "common/strict_json.hpp"
#include "common/utf8_text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

namespace gatehouse::host::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxTextField = 4096;  // no legitimate name, subject or reason is longer

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The decoded text, or (in `fault`) why it is refused, as the end of a sentence about the part.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space, std::string& fault) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      const bool complete = i + 2 < text.size();
      const int hi = complete ? hex_value(text[i + 1]) : -1, lo = complete ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        fault = "has a malformed percent-escape (% must be followed by two hex digits)";
        return std::nullopt;
      }
      c = static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') {
      fault = "contains a NUL character (%00), which gatehouse does not accept in any text";
      return std::nullopt;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      fault = "contains a control character";
      return std::nullopt;
    }
    out.push_back(c);
  }
  if (!is_valid_utf8(out)) {
    fault = "is not valid UTF-8 once percent-decoded";
    return std::nullopt;
  }
  return out;
}

std::string pointer_token(const std::string& name) { return json_pointer_token(name); }
std::string type_name(const json& v) { return json_type_name(v); }

// Reads the members of one JSON object, collecting a diagnostic per fault; unknown members are faults.
class Fields {
 public:
  Fields(const json& object, std::string base = "") : object_(object), base_(std::move(base)) {}

  std::optional<std::string> text(const std::string& name, bool required, std::size_t max = kMaxTextField) {
    const json* v = get(name, required);
    if (!v) return std::nullopt;
    if (!v->is_string()) return fault(name, std::string("must be a string, not ") + type_name(*v));
    const auto& s = v->get_ref<const std::string&>();
    if (required && s.empty()) return fault(name, "must not be empty");
    if (s.size() > max) return fault(name, "is longer than " + std::to_string(max) + " bytes");
    // parse_json_object already refused these; a document built another way (YAML, tests) is checked here.
    if (auto bad = text_fault(s)) return fault(name, *bad);
    return s;
  }

  // A name or identity (a subject, an id): text without control or invisible formatting characters, which no
  // identity has and which would only serve to disguise one in a listing or a log (name_fault).
  std::optional<std::string> name_text(const std::string& name, bool required, std::size_t max) {
    auto s = text(name, required, max);
    if (!s) return s;
    if (auto bad = name_fault(*s)) return fault(name, *bad);
    return s;
  }

  std::optional<std::int64_t> integer(const std::string& name, bool required, std::int64_t min, std::int64_t max) {
    const json* v = get(name, required);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) return fault(name, std::string("must be an integer, not ") + type_name(*v));
    std::int64_t n = 0;
    if (v->is_number_unsigned()) {
      const auto u = v->get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max)) return fault(name, "must be at most " + std::to_string(max));
      n = static_cast<std::int64_t>(u);
    } else {
      n = v->get<std::int64_t>();
    }
    if (n < min || n > max)
      return fault(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return n;
  }

  std::optional<bool> boolean(const std::string& name, bool required) {
    const json* v = get(name, required);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) return fault(name, std::string("must be true or false, not ") + type_name(*v));
    return v->get<bool>();
  }

  const json* object(const std::string& name, bool required) {
    const json* v = get(name, required);
    if (!v) return nullptr;
    if (!v->is_object()) {
      fault(name, std::string("must be an object, not ") + type_name(*v));
      return nullptr;
    }
    return v;
  }

  // "<name>" (text such as "1h30m", or an integer number of seconds) or "<name>_seconds" (integer); at most one
  // of them. Text follows parse_duration_detailed (common/duration_text.hpp): a unit on every number.
  std::optional<std::chrono::seconds> duration(const std::string& name, bool required) {
    const bool has_text = object_.contains(name), has_seconds = object_.contains(name + "_seconds");
    if (has_text && has_seconds) {
      seen_.insert(name);
      seen_.insert(name + "_seconds");
      return fault(name, "give either " + name + " or " + name + "_seconds, not both");
    }
    if (has_seconds) return seconds(name + "_seconds");
    const json* v = get(name, required);
    if (!v) return std::nullopt;
    if (v->is_number_integer()) return seconds(name);
    if (!v->is_string()) return fault(name, std::string("must be a duration such as \"1h30m\", not ") + type_name(*v));
    auto d = parse_duration_detailed(v->get_ref<const std::string&>());
    if (!d.value) return fault(name, d.fault);
    return d.value;
  }

  // An integer number of seconds, 1s to kMaxDurationSeconds.
  std::optional<std::chrono::seconds> seconds(const std::string& name) {
    const json* v = get(name, false);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) return fault(name, std::string("must be an integer number of seconds, not ") + type_name(*v));
    // nlohmann stores non-negative integers as unsigned: compare each kind in its own type.
    if (v->is_number_unsigned() ? v->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxDurationSeconds)
                                : v->get<std::int64_t>() > kMaxDurationSeconds)
      return fault(name, "is too long (at most 36500d)");
    const std::int64_t n = v->is_number_unsigned() ? static_cast<std::int64_t>(v->get<std::uint64_t>()) : v->get<std::int64_t>();
    if (n < 1) return fault(name, "must be at least 1s");
    return std::chrono::seconds(n);
  }

  void add(const std::string& path, const std::string& reason) { faults_.push_back({path, reason}); }
  std::string path(const std::string& name) const { return base_ + "/" + pointer_token(name); }

  // Ok, or every fault (unknown members included).
  Result<void> finish(const char* what) {
    for (const auto& [name, value] : object_.items()) {
      (void)value;
      if (!seen_.count(name)) faults_.push_back({path(name), "unknown field"});
    }
    if (faults_.empty()) return {};
    return make_error(ErrorCode::invalid_argument,
                      std::string("the ") + what + " is invalid (" + std::to_string(faults_.size()) +
                          (faults_.size() == 1 ? " fault)" : " faults)"),
                      faults_);
  }

 private:
  const json* get(const std::string& name, bool required) {
    seen_.insert(name);
    auto it = object_.find(name);
    if (it == object_.end() || it->is_null()) {
      if (required) faults_.push_back({path(name), "required field is missing"});
      return nullptr;
    }
    return &*it;
  }

  std::nullopt_t fault(const std::string& name, const std::string& reason) {
    faults_.push_back({path(name), reason});
    return std::nullopt;
  }

  const json& object_;
  std::string base_;
  std::set<std::string> seen_;
  std::vector<Diagnostic> faults_;
};

Result<void> require_object(const json& body) {
  if (!body.is_object()) return make_error(ErrorCode::invalid_argument, "the request body must be a JSON object");
  return {};
}

}  // namespace

Result<RequestTarget> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/')
    return make_error(ErrorCode::invalid_argument, "the request target must be an absolute path");
  if (target.size() > 8192) return make_error(ErrorCode::invalid_argument, "the request target is longer than 8192 bytes");
  RequestTarget out;
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto raw = path.substr(start, end - start);
    if (!raw.empty()) {
      std::string fault;
      auto decoded = percent_decode(raw, false, fault);
      if (!decoded) {
        // Faults of the request target are located in a virtual document {"path": [segments], "query": {…}}.
        const std::string where = "/path/" + std::to_string(out.segments.size());
        return make_error(ErrorCode::invalid_argument,
                          "path segment " + std::to_string(out.segments.size() + 1) + " of the request " + fault,
                          {{where, fault}});
      }
      out.segments.push_back(std::move(*decoded));
    }
    start = end + 1;
  }
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      const auto pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      std::string fault;
      auto name = percent_decode(pair.substr(0, eq), true, fault);
      if (!name || name->empty())
        return make_error(ErrorCode::invalid_argument, "a query parameter name " + (name ? std::string("is empty") : fault),
                          {{"/query", name ? "has a parameter without a name" : "has a parameter name that " + fault}});
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true, fault);
      if (!value)
        return make_error(ErrorCode::invalid_argument, "query parameter '" + *name + "' " + fault,
                          {{"/query/" + pointer_token(*name), fault}});
      if (!out.query.emplace(*name, *value).second)
        return make_error(ErrorCode::invalid_argument, "query parameter '" + *name + "' is given more than once");
    }
  }
  return out;
}

Result<nlohmann::json> parse_json_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  auto parsed = parse_strict_json(body, "the request body");
  if (!parsed) return parsed.take_error();
  if (!parsed->is_object()) return make_error(ErrorCode::invalid_argument, "the request body must be a JSON object");
  return parsed;
}

Result<GrantRequestBody> parse_grant_request(const json& body) {
  if (auto r = require_object(body); !r) return r.take_error();
  Fields f(body);
  GrantRequestBody out;
  // Absent: the caller's own subject. Given: it must name someone ("" is a mistake, not "myself").
  out.subject = f.name_text("subject", body.contains("subject") && !body["subject"].is_null(), 320).value_or("");
  out.target_group = f.name_text("target_group", true, 63).value_or("");
  if (const json* target = f.object("target", true)) {
    for (const auto& [name, value] : target->items()) {
      const std::string path = f.path("target") + "/" + pointer_token(name);
      if (auto bad = text_fault(name)) {
        f.add(f.path("target"), "has a property name that " + *bad);
        continue;
      }
      // Integer and boolean properties travel to providers as text: 5432 and true become "5432" and "true";
      // the target group's schema then checks the type (grants/target_validation).
      if (value.is_boolean() || value.is_number_integer()) {
        out.target.emplace(name, value.dump());
        continue;
      }
      if (!value.is_string()) {
        f.add(path, std::string("must be a string, an integer or a boolean, not ") + type_name(value));
        continue;
      }
      if (value.get_ref<const std::string&>().size() > kMaxTextField) {
        f.add(path, "is longer than 4096 bytes");
        continue;
      }
      if (auto bad = text_fault(value.get_ref<const std::string&>())) {
        f.add(path, *bad);
        continue;
      }
      out.target.emplace(name, value.get<std::string>());
    }
  }
  out.duration = f.duration("duration", true).value_or(std::chrono::seconds(0));
  if (auto nb = f.text("not_before", false, 64)) {
    out.not_before = parse_rfc3339(*nb);
    if (!out.not_before) f.add(f.path("not_before"), "must be an RFC 3339 time such as 2026-12-01T09:00:00Z");
  }
  out.reason = f.text("reason", false).value_or("");
  if (auto r = f.finish("grant request"); !r) return r.take_error();
  return out;
}

namespace {

// A handler's `backend`: a name, or "" / null for none. Same rule as registry::check_backend_name (this file
// depends on host/common only: the fuzzer links it alone).
std::string backend_field(Fields& f) {
  // A null is no value (like ""): no backend.
  std::string backend = f.text("backend", false, 200).value_or("");
  const bool named = !backend.empty() && std::isalnum(static_cast<unsigned char>(backend.front())) &&
                     std::all_of(backend.begin(), backend.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._:/@-", c) != nullptr;
                     });
  if (!named && !backend.empty())
    f.add(f.path("backend"), "must be 1-200 characters from letters, digits and . _ : / @ -, starting with a "
                             "letter or digit");
  return backend;
}

}  // namespace

Result<HandlerBody> parse_handler(const json& body) {
  if (auto r = require_object(body); !r) return r.take_error();
  Fields f(body);
  HandlerBody out;
  out.id = f.name_text("id", true, 63).value_or("");
  out.provider = f.text("provider", true, 300).value_or("");
  out.isolation = f.text("isolation", false, 20).value_or("");
  if (!out.isolation.empty() && out.isolation != "in_process" && out.isolation != "process")
    f.add(f.path("isolation"), "must be one of in_process, process");
  if (body.contains("backend")) out.backend = backend_field(f);
  if (const json* config = f.object("config", true)) {
    out.config = *config;
    if (auto bad = find_unstorable_text(*config, f.path("config"))) f.add(bad->path, bad->reason);
  }
  if (auto r = f.finish("handler"); !r) return r.take_error();
  return out;
}

Result<HandlerUpdateBody> parse_handler_update(const json& body) {
  if (auto r = require_object(body); !r) return r.take_error();
  Fields f(body);
  HandlerUpdateBody out;
  if (body.contains("id")) out.id = f.name_text("id", true, 63);
  if (body.contains("provider")) out.provider = f.text("provider", true, 300);
  if (body.contains("isolation")) {
    out.isolation = f.text("isolation", true, 20);
    if (out.isolation && *out.isolation != "in_process" && *out.isolation != "process")
      f.add(f.path("isolation"), "must be one of in_process, process");
  }
  if (body.contains("config")) {
    if (const json* config = f.object("config", true)) {
      out.config = *config;
      if (auto bad = find_unstorable_text(*config, f.path("config"))) f.add(bad->path, bad->reason);
    }
  }
  if (body.contains("backend")) out.backend = backend_field(f);
  if (auto r = f.finish("handler update"); !r) return r.take_error();
  if (!out.provider && !out.isolation && !out.config && !out.backend)
    return make_error(ErrorCode::invalid_argument,
                      "a handler update names at least one of provider, isolation, config, backend",
                      {{"", "give provider, isolation, config or backend"}});
  return out;
}

Result<TargetGroupBody> parse_target_group(const json& body) {
  if (auto r = require_object(body); !r) return r.take_error();
  Fields f(body);
  TargetGroupBody out;
  out.id = f.name_text("id", true, 63).value_or("");
  out.kind = f.text("kind", true, 400).value_or("");
  out.max_duration = f.duration("max_duration", false);
  if (auto r = f.finish("target group"); !r) return r.take_error();
  return out;
}

Result<RouteBody> parse_route(const json& body) {
  if (auto r = require_object(body); !r) return r.take_error();
  Fields f(body);
  RouteBody out;
  out.target_group = f.name_text("target_group", true, 63).value_or("");
  out.handler = f.name_text("handler", true, 63).value_or("");
  out.kind = f.text("kind", false, 300).value_or("");
  out.priority = static_cast<int>(f.integer("priority", true, 0, 999).value_or(0));
  if (auto r = f.finish("route"); !r) return r.take_error();
  return out;
}

Result<PriorityBody> parse_priority(const json& body) {
  if (auto r = require_object(body); !r) return r.take_error();
  Fields f(body);
  PriorityBody out;
  out.priority = static_cast<int>(f.integer("priority", true, 0, 999).value_or(0));
  if (auto r = f.finish("priority change"); !r) return r.take_error();
  return out;
}

Result<RevokeBody> parse_revoke(const json& body) {
  if (auto r = require_object(body); !r) return r.take_error();
  Fields f(body);
  RevokeBody out;
  out.reason = f.text("reason", false).value_or("");
  out.force = f.boolean("force", false).value_or(false);
  out.handler = f.name_text("handler", false, 63).value_or("");
  if (out.force && out.reason.empty()) f.add(f.path("reason"), "is required with force (why the access may persist)");
  if (out.force && !out.handler.empty()) f.add(f.path("handler"), "cannot be combined with force");
  if (auto r = f.finish("revoke request"); !r) return r.take_error();
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > text.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2), minute = digits(14, 2),
       second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text.size() < 20) return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: it spans 1678–2262. Refuse what it cannot hold (the fuzzer
  // found year 9999 overflowing) rather than wrap around to another time.
  if (*year < 1970 || *year > 2200) return std::nullopt;
  std::size_t pos = 19;
  std::chrono::microseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::int64_t scale = 100000, us = 0;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      us += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
    fraction = std::chrono::microseconds(us);
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || text[pos + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (*oh * 60 + *om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                           std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  const auto at = sys_days(ymd) + hours(*hour) + minutes(*minute) + seconds(*second) - minutes(offset_minutes);
  return time_point_cast<system_clock::duration>(at + fraction);
}

std::string format_rfc3339(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(at);
  const auto days = floor<std::chrono::days>(ms);
  const year_month_day ymd{days};
  const hh_mm_ss hms{ms - days};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buffer;
}

Result<std::size_t> query_limit(const RequestTarget& target, std::size_t fallback, std::size_t max) {
  auto it = target.query.find("limit");
  if (it == target.query.end()) return fallback;
  const std::string& text = it->second;
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return make_error(ErrorCode::invalid_argument, "query parameter 'limit' must be a number between 1 and " + std::to_string(max));
  const auto n = std::stoul(text);
  if (n < 1 || n > max)
    return make_error(ErrorCode::invalid_argument, "query parameter 'limit' must be a number between 1 and " + std::to_string(max));
  return static_cast<std::size_t>(n);
}

}  // namespace gatehouse::host::api
