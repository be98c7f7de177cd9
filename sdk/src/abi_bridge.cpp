// The provider side of the C ABI: bytes in, C++ calls, bytes out. Every exception stops here and becomes
// a Status, because nothing C++ may unwind into the host.
#include <gatehouse/provider/v1/provider.pb.h>
#include <gatehouse/sdk.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <new>

namespace gatehouse {
namespace {
// The deadline of the call the current thread is handling (0: none); set by detail::invoke for its duration.
thread_local std::uint64_t current_deadline_unix_ms = 0;
}  // namespace

std::optional<std::chrono::system_clock::time_point> call_deadline() {
  if (current_deadline_unix_ms == 0) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(current_deadline_unix_ms));
}

std::chrono::milliseconds time_left(std::chrono::milliseconds fallback) {
  const auto deadline = call_deadline();
  if (!deadline) return fallback;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::system_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

}  // namespace gatehouse

namespace gatehouse::detail {
namespace {

// Sets the thread's call deadline for one call, and clears it when the call ends however it ends.
class DeadlineScope {
 public:
  explicit DeadlineScope(std::uint64_t unix_ms) { current_deadline_unix_ms = unix_ms; }
  ~DeadlineScope() { current_deadline_unix_ms = 0; }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;
};

namespace pb = ::gatehouse::provider::v1;

// Everything one handler's provider needs, owned together so references handed to the provider stay valid.
struct Instance {
  Instance(Config c, const gatehouse_host_api* host) : config(std::move(c)), log(host) {}
  Config config;
  Logger log;
  std::unique_ptr<Provider> provider;
};

void emit(const pb::Response& response, gatehouse_host_sink_fn sink, void* sink_context) {
  std::string bytes;
  if (!response.SerializeToString(&bytes)) bytes.clear();
  sink(sink_context, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

gatehouse_result emit_status(Code code, const std::string& message, const std::vector<Diagnostic>& diagnostics,
                             gatehouse_host_sink_fn sink, void* sink_context) {
  pb::Response response;
  auto* status = response.mutable_status();
  status->set_code(static_cast<pb::Status::Code>(code));
  status->set_message(message);
  for (const auto& d : diagnostics) {
    auto* out = status->add_diagnostics();
    out->set_path(d.path);
    out->set_reason(d.reason);
  }
  emit(response, sink, sink_context);
  return GATEHOUSE_RESULT_ERROR;
}

// Runs `body`; any exception becomes a Status Response on the sink.
template <class Body>
gatehouse_result guarded(gatehouse_host_sink_fn sink, void* sink_context, Body&& body) noexcept {
  try {
    return body();
  } catch (const Error& e) {
    return emit_status(e.code(), e.what(), e.diagnostics(), sink, sink_context);
  } catch (const std::bad_alloc&) {
    return emit_status(Code::resource_exhausted, "provider ran out of memory", {}, sink, sink_context);
  } catch (const std::exception& e) {
    return emit_status(Code::internal, std::string("provider raised an unexpected exception: ") + e.what(), {},
                       sink, sink_context);
  } catch (...) {
    try {
      return emit_status(Code::internal, "provider raised an unknown exception", {}, sink, sink_context);
    } catch (...) {
      return GATEHOUSE_RESULT_ERROR;
    }
  }
}

Clock::time_point from_unix_ms(int64_t ms) { return Clock::time_point(std::chrono::milliseconds(ms)); }

Target from_proto(const pb::Target& in) {
  Target out;
  out.kind = in.kind();
  out.properties.insert(in.properties().begin(), in.properties().end());
  return out;
}

nlohmann::json schema_document(const Definition& d) { return d.schema().document(d.publisher, d.name, d.version); }

void describe(const Definition& d, pb::Response& response) {
  auto* out = response.mutable_describe();
  out->set_publisher(d.publisher);
  out->set_name(d.name);
  out->set_version(d.version);
  out->set_framework_version(GATEHOUSE_FRAMEWORK_VERSION);
  out->set_schema_json(schema_document(d).dump());
}

void grant(Provider& p, const pb::GrantRequest& in, pb::Response& response) {
  GrantRequest request{in.grant_id(), in.subject(), from_proto(in.target()), from_unix_ms(in.starts_at_unix_ms()),
                       from_unix_ms(in.ends_at_unix_ms())};
  GrantResult result = p.grant(request);
  auto* out = response.mutable_grant();
  out->set_state(result.state);
  out->set_message(result.message);
  if (result.already_exists) {
    response.mutable_status()->set_code(pb::Status::ALREADY_EXISTS);
    response.mutable_status()->set_message(result.message.empty() ? "grant already in place" : result.message);
  }
}

void revoke(Provider& p, const pb::RevokeRequest& in, pb::Response& response) {
  RevokeRequest request{in.grant_id(), in.subject(), from_proto(in.target()), in.state()};
  RevokeResult result = p.revoke(request);
  response.mutable_revoke()->set_message(result.message);
  if (result.already_revoked) {
    response.mutable_status()->set_code(pb::Status::ALREADY_REVOKED);
    response.mutable_status()->set_message(result.message.empty() ? "access already revoked" : result.message);
  }
}

void load(Provider& p, const pb::LoadRequest& in, pb::Response& response) {
  LoadResult result = p.load(LoadRequest{in.loader(), in.page_token()});
  auto* out = response.mutable_load();
  out->mutable_resources()->Reserve(static_cast<int>(result.resources.size()));
  for (auto& r : result.resources) {
    auto* resource = out->add_resources();
    resource->set_type(std::move(r.type));
    resource->set_id(std::move(r.id));
    resource->set_name(std::move(r.name));
    if (!r.data.is_null() && !r.data.empty()) resource->set_data_json(r.data.dump());
  }
  out->set_next_page_token(result.next_page_token);
  for (auto& t : result.tasks) {
    auto* task = out->add_tasks();
    task->set_loader(t.loader);
    task->set_page_token(t.page_token);
  }
}

void check_health(Provider& p, pb::Response& response) {
  Health health = p.check_health();
  auto* out = response.mutable_check_health();
  out->set_healthy(health.healthy);
  out->set_message(health.message);
  out->set_degraded(health.healthy && health.degraded);
  if (!out->degraded()) return;
  for (const auto& u : health.unavailable) {
    auto* item = out->add_unavailable_targets();
    item->mutable_target()->set_kind(u.target.kind);
    for (const auto& [k, v] : u.target.properties) (*item->mutable_target()->mutable_properties())[k] = v;
    item->set_reason(u.reason);
  }
}

}  // namespace

gatehouse_result create(const Definition& definition, const gatehouse_host_api* host, const uint8_t* bytes,
                        size_t length, void** out_instance, gatehouse_host_sink_fn sink, void* sink_context) noexcept {
  if (out_instance != nullptr) *out_instance = nullptr;
  return guarded(sink, sink_context, [&]() -> gatehouse_result {
    if (out_instance == nullptr) throw Error::invalid_argument("create called without an output pointer");
    pb::ConfigureRequest request;
    if (!request.ParseFromArray(bytes, static_cast<int>(length))) {
      throw Error::invalid_argument("configure request is not a valid ConfigureRequest message");
    }
    nlohmann::json values = nlohmann::json::object();
    if (!request.config_json().empty()) {
      values = nlohmann::json::parse(request.config_json(), nullptr, /*allow_exceptions=*/false);
      if (values.is_discarded() || !values.is_object()) throw Error::invalid_argument("config is not a JSON object");
    }
    auto instance = std::make_unique<Instance>(Config(std::move(values), definition.schema().config_fields()), host);
    Context context{instance->config, instance->log, request.handler_id()};
    instance->provider = definition.factory(context);
    if (!instance->provider) throw Error::internal("provider factory returned no instance");
    *out_instance = instance.release();
    return GATEHOUSE_RESULT_OK;
  });
}

gatehouse_result invoke(const Definition& definition, void* instance, const uint8_t* bytes, size_t length,
                        gatehouse_host_sink_fn sink, void* sink_context) noexcept {
  return guarded(sink, sink_context, [&]() -> gatehouse_result {
    pb::Request request;
    if (!request.ParseFromArray(bytes, static_cast<int>(length))) {
      throw Error::invalid_argument("request is not a valid Request message");
    }
    const DeadlineScope deadline(request.deadline_unix_ms());
    pb::Response response;
    if (request.call_case() == pb::Request::kDescribe) {
      describe(definition, response);
    } else {
      if (instance == nullptr) throw Error::failed_precondition("provider instance not created; only Describe is allowed");
      Provider& provider = *static_cast<Instance*>(instance)->provider;
      switch (request.call_case()) {
        case pb::Request::kCheckHealth: check_health(provider, response); break;
        case pb::Request::kGrant: grant(provider, request.grant(), response); break;
        case pb::Request::kRevoke: revoke(provider, request.revoke(), response); break;
        case pb::Request::kLoad: load(provider, request.load(), response); break;
        default: throw Error(Code::unimplemented, "request carries no call this provider understands");
      }
    }
    emit(response, sink, sink_context);
    return GATEHOUSE_RESULT_OK;
  });
}

void destroy(void* instance) noexcept {
  try {
    delete static_cast<Instance*>(instance);
  } catch (...) {
    // A throwing destructor must not unwind into the host; the instance is gone either way.
  }
}

}  // namespace gatehouse::detail
