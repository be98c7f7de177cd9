#include "loader/in_process_client.hpp"

#include "logging/log_fields.hpp"

#include <gatehouse/provider/v1/provider.pb.h>
#include <spdlog/spdlog.h>

namespace gatehouse::host {
namespace {

namespace pb = ::gatehouse::provider::v1;

// Receives the provider's response bytes; the copy happens here, on our heap, before the sink returns.
struct Sink {
  std::string bytes;
  int calls = 0;
  static void write(void* context, const uint8_t* data, size_t length) noexcept {
    auto* sink = static_cast<Sink*>(context);
    try {
      sink->bytes.assign(reinterpret_cast<const char*>(data), length);
    } catch (...) {
      sink->bytes.clear();
    }
    ++sink->calls;
  }
};

// `context` is the handler id (a std::string owned by the instance's host api, host_api_for) or null.
void log_from_provider(void* context, int32_t level, const char* message, size_t length) noexcept {
  try {
    std::string_view text(message != nullptr ? message : "", message != nullptr ? length : 0);
    logging::LogFields fields;
    if (context != nullptr) fields.emplace_back("handler", *static_cast<const std::string*>(context));
    fields.emplace_back("source", "provider");
    // The line carries its handler as a field (a member of the JSON object, "handler=…" in human logs).
    const logging::FieldScope scope(fields);
    switch (level) {
      case GATEHOUSE_LOG_DEBUG: spdlog::debug("{}", text); break;
      case GATEHOUSE_LOG_INFO: spdlog::info("{}", text); break;
      case GATEHOUSE_LOG_WARN: spdlog::warn("{}", text); break;
      default: spdlog::error("{}", text); break;
    }
  } catch (...) {
    // Logging must never take the host down.
  }
}

// One instance's host api and the handler id its log lines carry, in one allocation.
struct InstanceHostApi {
  gatehouse_host_api api;
  std::string handler_id;
};

class InProcessClient final : public ProviderClient {
 public:
  InProcessClient(std::shared_ptr<const void> keep_alive, const gatehouse_provider_vtable* vtable, void* instance,
                  std::string label)
      : keep_alive_(std::move(keep_alive)), vtable_(vtable), instance_(instance), label_(std::move(label)) {}

  ~InProcessClient() override {
    if (instance_ != nullptr && vtable_->destroy != nullptr) {
      try {
        vtable_->destroy(instance_);
      } catch (...) {
        spdlog::error("{}: destroy let an exception escape the C ABI", label_);
      }
    }
  }

  // The deadline is not enforced here (see ProviderClient): the provider reads it from the request.
  Result<std::string> call(std::string_view request, CallDeadline) override {
    return invoke_vtable(vtable_, instance_, request, label_);
  }

 private:
  std::shared_ptr<const void> keep_alive_;  // declared first: destroyed last, after destroy() ran
  const gatehouse_provider_vtable* vtable_;
  void* instance_;
  std::string label_;
};

}  // namespace

const gatehouse_host_api* host_api() {
  static const gatehouse_host_api api{sizeof(gatehouse_host_api), nullptr, &log_from_provider};
  return &api;
}

std::shared_ptr<const gatehouse_host_api> host_api_for(std::string handler_id) {
  auto holder = std::make_shared<InstanceHostApi>();
  holder->handler_id = std::move(handler_id);
  holder->api = gatehouse_host_api{sizeof(gatehouse_host_api), &holder->handler_id, &log_from_provider};
  return std::shared_ptr<const gatehouse_host_api>(holder, &holder->api);
}

Result<std::string> invoke_vtable(const gatehouse_provider_vtable* vtable, void* instance, std::string_view request,
                                  std::string_view label) {
  Sink sink;
  try {
    vtable->invoke(instance, reinterpret_cast<const uint8_t*>(request.data()), request.size(), &Sink::write, &sink);
  } catch (...) {
    // A provider built without the SDK may throw through C; it must not unwind further into the host.
    return make_error(ErrorCode::transport_failed, std::string(label) + " let an exception escape its C ABI invoke()");
  }
  if (sink.calls == 0) {
    return make_error(ErrorCode::transport_failed, std::string(label) + " returned from invoke() without writing a response");
  }
  return std::move(sink.bytes);
}

Result<void*> create_instance(const gatehouse_provider_vtable* vtable, std::string_view configure_request,
                              std::string_view label, const gatehouse_host_api* api) {
  Sink sink;
  void* instance = nullptr;
  gatehouse_result result = GATEHOUSE_RESULT_ERROR;
  try {
    result = vtable->create(api != nullptr ? api : host_api(), reinterpret_cast<const uint8_t*>(configure_request.data()),
                            configure_request.size(), &instance, &Sink::write, &sink);
  } catch (...) {
    return make_error(ErrorCode::create_failed, std::string(label) + " let an exception escape its C ABI create()");
  }
  if (result == GATEHOUSE_RESULT_OK && instance != nullptr) return instance;

  Error error{ErrorCode::create_failed, std::string(label) + " could not create an instance", {}};
  pb::Response response;
  if (sink.calls > 0 && response.ParseFromString(sink.bytes) && response.has_status()) {
    if (!response.status().message().empty()) error.message += ": " + response.status().message();
    for (const auto& d : response.status().diagnostics()) error.diagnostics.push_back({d.path(), d.reason()});
  } else if (result == GATEHOUSE_RESULT_OK) {
    error.message += ": create() reported success but returned no instance";
  } else {
    error.message += " and gave no reason";
  }
  if (instance != nullptr && vtable->destroy != nullptr) vtable->destroy(instance);
  return error;
}

std::unique_ptr<ProviderClient> make_in_process_client(std::shared_ptr<const void> keep_alive,
                                                       const gatehouse_provider_vtable* vtable, void* instance,
                                                       std::string provider_label) {
  return std::make_unique<InProcessClient>(std::move(keep_alive), vtable, instance, std::move(provider_label));
}

}  // namespace gatehouse::host
