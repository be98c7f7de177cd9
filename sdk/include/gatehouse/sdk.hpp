// The C++ API a gatehouse provider author writes against.
//
// A provider is one class deriving from gatehouse::Provider with
//   * a constructor taking `const gatehouse::Context&` (validated config, logger, handler id),
//   * a static `gatehouse::Schema schema()` describing config, resource types, loaders and target kinds,
//   * overrides of grant / revoke (and optionally load / check_health),
// followed by one line:  GATEHOUSE_PROVIDER(MyProvider, "publisher", "name", "1.0.0")
// With gatehouse_add_provider(... PUBLISHER publisher) in CMake, write the publisher only there and pass
// GATEHOUSE_PROVIDER_PUBLISHER to the macro; a different literal fails to compile.
//
// The macro exports the C entry point of <gatehouse/abi.h>, converts requests and responses to and from
// protobuf bytes, and turns every exception into a Status: throw gatehouse::Error for a deliberate outcome
// (Error::invalid_argument, Error::unavailable, ...); any other exception becomes INTERNAL with its what().
// Nothing C++ crosses the shared-object boundary.
#pragma once

#include <gatehouse/abi.h>
#include <gatehouse/version.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse {

// ---------------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------------

// Mirrors gatehouse.provider.v1.Status.Code. Retryable: unavailable, deadline_exceeded,
// resource_exhausted, aborted (the host fails over to another route, or retries later). Success: ok,
// already_exists (grant: the host records the grant as active, exactly as for ok) and already_revoked
// (revoke: the host records the access as gone). Every other code is final: the grant fails with the
// message and diagnostics you give.
enum class Code : int {
  ok = 0,
  invalid_argument = 1,
  not_found = 2,
  already_exists = 3,
  permission_denied = 4,
  failed_precondition = 5,
  unavailable = 6,
  deadline_exceeded = 7,
  resource_exhausted = 8,
  aborted = 9,
  unimplemented = 10,
  internal = 11,
  already_revoked = 12,
};

// Stable snake_case name of a code ("invalid_argument").
const char* code_name(Code code) noexcept;
bool is_retryable(Code code) noexcept;

// A fault in an input document, located by a JSON pointer ("/target/project").
struct Diagnostic {
  std::string path;
  std::string reason;
};

// Throw this from a provider to return a specific status; the message is shown to operators.
class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message, std::vector<Diagnostic> diagnostics = {})
      : std::runtime_error(message), code_(code), diagnostics_(std::move(diagnostics)) {}

  Code code() const noexcept { return code_; }
  const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

  // The request names something invalid; `path` is a JSON pointer such as "/target/role".
  static Error invalid_argument(const std::string& message, const std::string& path = {}) {
    return path.empty() ? Error(Code::invalid_argument, message)
                        : Error(Code::invalid_argument, message, {{path, message}});
  }
  static Error not_found(const std::string& message) { return Error(Code::not_found, message); }
  static Error permission_denied(const std::string& message) { return Error(Code::permission_denied, message); }
  static Error failed_precondition(const std::string& message) { return Error(Code::failed_precondition, message); }
  static Error unimplemented(const std::string& message) { return Error(Code::unimplemented, message); }
  static Error internal(const std::string& message) { return Error(Code::internal, message); }

  // Retryable: the host fails a grant over to the next route (or retries it later) and retries a revoke with
  // backoff. Pick the one that says what happened:
  //   unavailable         the backend cannot be reached or refuses to serve right now
  static Error unavailable(const std::string& message) { return Error(Code::unavailable, message); }
  //   deadline_exceeded   the backend did not answer in time (a timeout of your own client)
  static Error deadline_exceeded(const std::string& message) { return Error(Code::deadline_exceeded, message); }
  //   resource_exhausted  a quota, rate limit or pool is used up for now
  static Error resource_exhausted(const std::string& message) { return Error(Code::resource_exhausted, message); }
  //   aborted             a concurrent change got in the way (a lock, a conflicting transaction): try again
  static Error aborted(const std::string& message) { return Error(Code::aborted, message); }
  // There is no factory for already_exists or already_revoked: they are successes, not errors. Return
  // GrantResult{.already_exists = true} / RevokeResult{.already_revoked = true} instead of throwing.

 private:
  Code code_;
  std::vector<Diagnostic> diagnostics_;
};

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

using Clock = std::chrono::system_clock;

// What access is granted to: one target kind of the schema and its property values. Values are text; the
// host has already checked each against the property's declaration (type, enum, pattern, lengths, range),
// so integer properties hold plain decimal ("5432") and boolean properties "true" or "false".
struct Target {
  std::string kind;
  std::map<std::string, std::string> properties;

  // The property's value; throws Error::invalid_argument naming "/target/<name>" when absent.
  const std::string& at(const std::string& name) const;
  // An integer property's value; throws Error::invalid_argument naming "/target/<name>" when absent or not
  // an integer.
  std::int64_t integer(const std::string& name) const;
  // A boolean property's value; throws Error::invalid_argument naming "/target/<name>" when absent or not
  // true/false.
  bool boolean(const std::string& name) const;
};

struct GrantRequest {
  std::string grant_id;  // idempotency key: the same id must never grant twice
  std::string subject;   // who receives access (email or user id)
  Target target;
  Clock::time_point starts_at;
  Clock::time_point ends_at;
};

struct GrantResult {
  std::string state;    // opaque; the host stores it and hands it back to revoke()
  std::string message;  // optional human note
  bool already_exists = false;  // set when this grant id was already in place (still a success)
};

// Overlapping grants (same subject, same target group, same target) share one provider-side access: the
// host calls grant() once, for the first of them, and revoke() once, when the last one ends. So grant_id may
// be the id of an earlier grant than the one that just ended, and `state` is what grant() returned for that
// earlier id. Revoke by what `state` and the target say, not by looking up the id of the grant that ended.
struct RevokeRequest {
  std::string grant_id;  // the id grant() was called with (the first grant of an overlapping run)
  std::string subject;
  Target target;
  std::string state;  // what grant() returned for grant_id
};

struct RevokeResult {
  std::string message;
  bool already_revoked = false;  // set when the access was already gone (still a success)
};

struct LoadRequest {
  std::string loader;      // a loader name from the schema
  std::string page_token;  // empty for the first page
};

struct Resource {
  std::string type;  // a resource type from the schema
  std::string id;    // unique within (handler, type)
  std::string name;
  nlohmann::json data = nlohmann::json::object();  // the type's data fields
};

struct LoadTask {
  std::string loader;
  std::string page_token;
};

struct LoadResult {
  std::vector<Resource> resources;
  std::string next_page_token;  // empty when the loader is finished
  std::vector<LoadTask> tasks;  // more work found while loading
};

// A target this handler cannot grant right now, and why. `target.properties` holds only the properties that
// identify it: {"role": "app_new"} stands for app_new with any other property values.
struct UnavailableTarget {
  Target target;
  std::string reason;  // shown to requesters whose request names the target
};

// What check_health() answers. Three states:
//   ok        serves every target;
//   degraded  serves, but the targets in `unavailable` cannot be granted: the handler's routes stay usable
//             and the host refuses requests for those targets with their reason (say why in `message`);
//   failing   cannot serve at all: its routes are unavailable until a later check passes.
// Revokes are attempted whatever the health says.
struct Health {
  bool healthy = true;
  std::string message;
  bool degraded = false;  // only meaningful when healthy
  std::vector<UnavailableTarget> unavailable;
  static Health ok(std::string message = "ok") { return {true, std::move(message), false, {}}; }
  static Health failing(std::string message) { return {false, std::move(message), false, {}}; }
  static Health degraded_with(std::string message, std::vector<UnavailableTarget> unavailable) {
    return {true, std::move(message), true, std::move(unavailable)};
  }
};

// ---------------------------------------------------------------------------------------------
// Configuration and context
// ---------------------------------------------------------------------------------------------

// The handler's config, already validated by the host against the schema's config section, with
// secret references (env:NAME, file:PATH) resolved. Absent optional fields fall back to their default.
class Config {
 public:
  Config(nlohmann::json values, nlohmann::json field_schema);

  bool has(const std::string& field) const;
  std::string string(const std::string& field) const;
  bool boolean(const std::string& field) const;
  std::int64_t integer(const std::string& field) const;
  double number(const std::string& field) const;
  const nlohmann::json& json() const noexcept { return values_; }

 private:
  const nlohmann::json& lookup(const std::string& field) const;
  nlohmann::json values_;
  nlohmann::json fields_;
};

// Writes to the host's log. Never pass secrets.
class Logger {
 public:
  explicit Logger(const gatehouse_host_api* host = nullptr) noexcept : host_(host) {}
  void debug(const std::string& message) const noexcept { write(GATEHOUSE_LOG_DEBUG, message); }
  void info(const std::string& message) const noexcept { write(GATEHOUSE_LOG_INFO, message); }
  void warn(const std::string& message) const noexcept { write(GATEHOUSE_LOG_WARN, message); }
  void error(const std::string& message) const noexcept { write(GATEHOUSE_LOG_ERROR, message); }

 private:
  void write(gatehouse_log_level level, const std::string& message) const noexcept;
  const gatehouse_host_api* host_;
};

struct Context {
  const Config& config;
  const Logger& log;
  std::string handler_id;  // empty in offline tools
};

// ---------------------------------------------------------------------------------------------
// Schema builder: produces the provider schema document (schemas/provider.v1.schema.json).
// ---------------------------------------------------------------------------------------------

// A config field. Types: "string", "boolean", "integer", "number". The host checks a handler config against
// every limit before the provider is created: a refused config never reaches your constructor.
class Field {
 public:
  static Field string(std::string description) { return Field("string", std::move(description)); }
  static Field boolean(std::string description) { return Field("boolean", std::move(description)); }
  static Field integer(std::string description) { return Field("integer", std::move(description)); }
  static Field number(std::string description) { return Field("number", std::move(description)); }

  Field& required() { json_["required"] = true; return *this; }
  // Never logged or printed back; accepts env:NAME and file:PATH references in handler configs.
  Field& secret() { json_["secret"] = true; return *this; }
  Field& default_value(nlohmann::json value) { json_["default"] = std::move(value); return *this; }
  // Integer and number fields.
  Field& minimum(double value) { json_["minimum"] = value; return *this; }
  Field& maximum(double value) { json_["maximum"] = value; return *this; }
  // String fields (not secret ones: their value is known only after env:/file: resolution; check it in the
  // constructor). pattern: RE2 syntax, matching anywhere unless anchored with ^ and $. Lengths count characters.
  Field& pattern(std::string regex) { json_["pattern"] = std::move(regex); return *this; }
  Field& one_of(std::vector<std::string> values) { json_["enum"] = std::move(values); return *this; }
  Field& min_length(std::size_t characters) { json_["minLength"] = characters; return *this; }
  Field& max_length(std::size_t characters) { json_["maxLength"] = characters; return *this; }
  const nlohmann::json& json() const noexcept { return json_; }

 private:
  Field(const char* type, std::string description)
      : json_{{"type", type}, {"description", std::move(description)}} {}
  nlohmann::json json_;
};

// A data field of a resource type; `relation` names another resource type.
class DataField {
 public:
  static DataField string(std::string title) { return DataField("string", std::move(title)); }
  static DataField integer(std::string title) { return DataField("integer", std::move(title)); }
  static DataField boolean(std::string title) { return DataField("boolean", std::move(title)); }
  // A list of ids (e.g. group members); combine with relation().
  static DataField string_list(std::string title);

  DataField& relation(std::string resource_type) { json_["relation"] = std::move(resource_type); return *this; }
  const nlohmann::json& json() const noexcept { return json_; }

 private:
  DataField(const char* type, std::string title) : json_{{"type", type}, {"title", std::move(title)}} {}
  nlohmann::json json_;
};

// An inventory item type. Every type has "id" and "name"; data fields describe the rest.
class ResourceType {
 public:
  explicit ResourceType(std::string title) : title_(std::move(title)) {}
  ResourceType& data(const std::string& name, const DataField& field) { data_[name] = field.json(); return *this; }
  nlohmann::json json() const;

 private:
  std::string title_;
  nlohmann::json data_ = nlohmann::json::object();
};

// A property of a target kind: what a requester names in a grant request. The host checks every value
// against these limits when the grant is requested (400 with the path /target/<name>, before the grant
// exists), so grant() never sees a value the schema refuses. Values reach grant() as text (Target::integer
// and Target::boolean convert).
class Property {
 public:
  static Property string(std::string title) { return Property("string", std::move(title)); }
  static Property integer(std::string title) { return Property("integer", std::move(title)); }
  static Property boolean(std::string title) { return Property("boolean", std::move(title)); }

  // String properties: the resource type its value must be an id of (checked against the inventory).
  Property& resource(std::string resource_type) { json_["resource"] = std::move(resource_type); return *this; }
  // String properties. pattern: RE2 syntax, matching anywhere unless anchored with ^ and $. Lengths count
  // characters (Unicode code points).
  Property& one_of(std::vector<std::string> values) { json_["enum"] = std::move(values); return *this; }
  Property& pattern(std::string regex) { json_["pattern"] = std::move(regex); return *this; }
  Property& min_length(std::size_t characters) { json_["minLength"] = characters; return *this; }
  Property& max_length(std::size_t characters) { json_["maxLength"] = characters; return *this; }
  // Integer properties.
  Property& minimum(std::int64_t value) { json_["minimum"] = value; return *this; }
  Property& maximum(std::int64_t value) { json_["maximum"] = value; return *this; }
  // Shown to operators by `gatehouse provider inspect` and `target-group show`.
  Property& description(std::string text) { json_["description"] = std::move(text); return *this; }
  Property& optional() { required_ = false; return *this; }
  const nlohmann::json& json() const noexcept { return json_; }
  bool is_required() const noexcept { return required_; }

 private:
  Property(const char* type, std::string title) : json_{{"type", type}, {"title", std::move(title)}} {}
  nlohmann::json json_;
  bool required_ = true;
};

// Something the provider can grant access to. Properties are required unless marked optional().
class TargetKind {
 public:
  explicit TargetKind(std::string title) : title_(std::move(title)) {}
  TargetKind& description(std::string text) { description_ = std::move(text); return *this; }
  TargetKind& property(const std::string& name, const Property& property);
  nlohmann::json json() const;

 private:
  std::string title_;
  std::string description_;
  nlohmann::json properties_ = nlohmann::json::object();
  std::vector<std::string> required_;
};

class Schema {
 public:
  Schema& config(const std::string& name, const Field& field) { config_[name] = field.json(); return *this; }
  Schema& resource_type(const std::string& name, const ResourceType& type) { types_[name] = type.json(); return *this; }
  // A loader fills the listed resource types, page by page.
  Schema& loader(const std::string& name, std::string title, std::vector<std::string> types);
  Schema& target(const std::string& kind, const TargetKind& target) { targets_[kind] = target.json(); return *this; }

  // The complete document, with $id, $schema and meta filled in from the provider's identity.
  nlohmann::json document(const std::string& publisher, const std::string& name, const std::string& version) const;
  const nlohmann::json& config_fields() const noexcept { return config_; }

 private:
  nlohmann::json config_ = nlohmann::json::object();
  nlohmann::json loaders_ = nlohmann::json::object();
  nlohmann::json types_ = nlohmann::json::object();
  nlohmann::json targets_ = nlohmann::json::object();
};

// ---------------------------------------------------------------------------------------------
// The provider base class
// ---------------------------------------------------------------------------------------------

// When the host stops waiting for the call this thread is handling (the request's deadline), or nullopt when the
// host sent none (hosts older than this SDK) or outside a call. Valid inside grant(), revoke(), load() and
// check_health(). An answer after it is not waited for — an isolated runner is killed at it — so give your
// backend client no more than time_left().
std::optional<std::chrono::system_clock::time_point> call_deadline();
// The time left until call_deadline() (zero once it passed), or `fallback` when there is none.
std::chrono::milliseconds time_left(std::chrono::milliseconds fallback);

// One instance per handler. Calls may arrive concurrently from several host threads: guard shared state.
class Provider {
 public:
  virtual ~Provider() = default;

  // Give `subject` access to `target`. Idempotent by grant_id: a repeated grant returns the same state.
  virtual GrantResult grant(const GrantRequest& request) = 0;
  // Take the access away. Idempotent: revoking what is already gone succeeds (already_revoked = true).
  virtual RevokeResult revoke(const RevokeRequest& request) = 0;
  // One page of a loader. The default says the provider has no loaders.
  virtual LoadResult load(const LoadRequest& request);
  // Can this instance do its job right now? Keep it quick; the host applies a timeout.
  virtual Health check_health() { return Health::ok(); }
};

// ---------------------------------------------------------------------------------------------
// Machinery behind GATEHOUSE_PROVIDER (not for direct use)
// ---------------------------------------------------------------------------------------------
namespace detail {

using Factory = std::unique_ptr<Provider> (*)(const Context&);
using SchemaFn = Schema (*)();

struct Definition {
  const char* publisher;
  const char* name;
  const char* version;
  Factory factory;
  SchemaFn schema;
};

gatehouse_result create(const Definition& definition, const gatehouse_host_api* host, const uint8_t* bytes,
                        size_t length, void** out_instance, gatehouse_host_sink_fn sink, void* sink_context) noexcept;
gatehouse_result invoke(const Definition& definition, void* instance, const uint8_t* bytes, size_t length,
                        gatehouse_host_sink_fn sink, void* sink_context) noexcept;
void destroy(void* instance) noexcept;

// One vtable per provider class; Tag::definition() supplies identity, factory and schema.
template <class Tag>
const gatehouse_provider_vtable* vtable() noexcept {
  static const gatehouse_provider_vtable table = [] {
    gatehouse_provider_vtable t{};
    const Definition& d = Tag::definition();
    t.struct_size = sizeof(gatehouse_provider_vtable);
    t.abi_major = GATEHOUSE_ABI_MAJOR;
    t.abi_minor = GATEHOUSE_ABI_MINOR;
    t.publisher = d.publisher;
    t.name = d.name;
    t.version = d.version;
    t.framework_version = GATEHOUSE_FRAMEWORK_VERSION;
    t.create = [](const gatehouse_host_api* host, const uint8_t* bytes, size_t length, void** out,
                  gatehouse_host_sink_fn sink, void* context) {
      return detail::create(Tag::definition(), host, bytes, length, out, sink, context);
    };
    t.invoke = [](void* instance, const uint8_t* bytes, size_t length, gatehouse_host_sink_fn sink,
                  void* context) { return detail::invoke(Tag::definition(), instance, bytes, length, sink, context); };
    t.destroy = &detail::destroy;
    return t;
  }();
  return &table;
}

}  // namespace detail
}  // namespace gatehouse

namespace gatehouse::detail {
constexpr bool same_text(std::string_view a, std::string_view b) noexcept { return a == b; }
}  // namespace gatehouse::detail

// gatehouse_add_provider(... PUBLISHER p) defines GATEHOUSE_PROVIDER_PUBLISHER="p": the macro's publisher must
// then be that one (a string literal or GATEHOUSE_PROVIDER_PUBLISHER itself), so CMake, the package and the
// provider's identity cannot drift apart.
#ifdef GATEHOUSE_PROVIDER_PUBLISHER
#define GATEHOUSE_DETAIL_CHECK_PUBLISHER(PUBLISHER)                                                        \
  static_assert(::gatehouse::detail::same_text(PUBLISHER, GATEHOUSE_PROVIDER_PUBLISHER),                  \
                "GATEHOUSE_PROVIDER names another publisher than gatehouse_add_provider(... PUBLISHER ...) "  \
                "in CMake: pass GATEHOUSE_PROVIDER_PUBLISHER to the macro and write the publisher once, in CMake");
#else
#define GATEHOUSE_DETAIL_CHECK_PUBLISHER(PUBLISHER)
#endif

// Export CLASS as this shared object's provider. Use once per provider library, at global scope.
#define GATEHOUSE_PROVIDER(CLASS, PUBLISHER, NAME, VERSION)                                                \
  GATEHOUSE_DETAIL_CHECK_PUBLISHER(PUBLISHER)                                                              \
  namespace {                                                                                              \
  struct gatehouse_provider_tag {                                                                          \
    static const ::gatehouse::detail::Definition& definition() noexcept {                                  \
      static const ::gatehouse::detail::Definition d{                                                      \
          PUBLISHER, NAME, VERSION,                                                                        \
          [](const ::gatehouse::Context& context) -> std::unique_ptr<::gatehouse::Provider> {              \
            return std::make_unique<CLASS>(context);                                                       \
          },                                                                                               \
          []() -> ::gatehouse::Schema { return CLASS::schema(); }};                                        \
      return d;                                                                                            \
    }                                                                                                      \
  };                                                                                                       \
  }                                                                                                        \
  extern "C" GATEHOUSE_ABI_EXPORT const gatehouse_provider_vtable* gatehouse_provider_v1(void);            \
  extern "C" GATEHOUSE_ABI_EXPORT const gatehouse_provider_vtable* gatehouse_provider_v1(void) {           \
    return ::gatehouse::detail::vtable<gatehouse_provider_tag>();                                          \
  }
