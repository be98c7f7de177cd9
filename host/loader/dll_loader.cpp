// Loads a provider library in-process and checks it step by step; each refusal is a value whose sentence
// names the file and the reason. Order matters: each step only trusts what the previous one proved.
#include "loader/dll_loader.hpp"

#include "loader/in_process_client.hpp"
#include "loader/provider_calls.hpp"
#include "schema/provider_schema.hpp"

#include <gatehouse/abi.h>

#include <boost/dll/shared_library.hpp>
#include <dlfcn.h>

#include <cstddef>
#include <fstream>
#include <mutex>
#include <utility>

namespace gatehouse::host {
namespace {

namespace fs = std::filesystem;

// The size of ABI 1.0's vtable: a provider filling in less than this cannot be called safely.
constexpr std::size_t kMinimumVtableSize = sizeof(gatehouse_provider_vtable);
// The prefix every ABI version shares: struct_size, abi_major, abi_minor.
constexpr std::size_t kVersionPrefixSize = offsetof(gatehouse_provider_vtable, publisher);

Error refuse(const fs::path& path, ErrorCode code, const std::string& reason, std::vector<Diagnostic> diags = {}) {
  return make_error(code, "provider '" + path.string() + "' refused: " + reason, std::move(diags));
}

std::string version_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

bool has_elf_magic(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

// Boost.DLL reports every dlopen failure as "bad file descriptor"; dlerror() still holds the real reason
// (e.g. "libfoo.so.1: cannot open shared object file"), because Boost does not reset it on failure.
// dlerror state is per thread, but the message is only meaningful right after the failing call: serialise.
std::mutex& dlopen_mutex() {
  static std::mutex m;
  return m;
}

class InProcessModule final : public ProviderModule {
 public:
  InProcessModule(std::shared_ptr<boost::dll::shared_library> library, const gatehouse_provider_vtable* vtable,
                  ProviderIdentity identity, nlohmann::json schema, std::string path)
      : library_(std::move(library)),
        vtable_(vtable),
        identity_(std::move(identity)),
        schema_(std::move(schema)),
        path_(std::move(path)) {}

  const ProviderIdentity& identity() const override { return identity_; }
  const nlohmann::json& schema() const override { return schema_; }
  const std::string& path() const override { return path_; }

  Result<std::unique_ptr<ProviderClient>> create(const nlohmann::json& config, const std::string& handler_id) override {
    pb::ConfigureRequest request;
    request.set_config_json(config.dump());
    request.set_handler_id(handler_id);
    std::string bytes;
    request.SerializeToString(&bytes);
    auto api = host_api_for(handler_id);  // its log lines carry the handler id
    auto instance = create_instance(vtable_, bytes, label(), api.get());
    if (!instance) return instance.take_error();
    // The client shares ownership of the library (its code stays mapped while the instance lives) and of the
    // host api (the ABI promises it outlives the instance); both go after destroy() ran.
    auto keep_alive = std::make_shared<std::pair<std::shared_ptr<const void>, std::shared_ptr<const gatehouse_host_api>>>(
        library_, std::move(api));
    return make_in_process_client(std::move(keep_alive), vtable_, *instance, label());
  }

 private:
  std::string label() const { return "provider " + identity_.reference() + " (" + path_ + ")"; }

  std::shared_ptr<boost::dll::shared_library> library_;
  const gatehouse_provider_vtable* vtable_;
  ProviderIdentity identity_;
  nlohmann::json schema_;
  std::string path_;
};

Result<std::shared_ptr<boost::dll::shared_library>> open_library(const fs::path& path) {
  std::error_code fs_error;
  if (!fs::is_regular_file(path, fs_error)) {
    return refuse(path, ErrorCode::file_not_found, fs::exists(path, fs_error) ? "not a regular file" : "no such file");
  }
  if (!has_elf_magic(path)) return refuse(path, ErrorCode::not_a_shared_object, "not an ELF shared object");

  auto library = std::make_shared<boost::dll::shared_library>();
  std::lock_guard lock(dlopen_mutex());
  boost::dll::fs::error_code error;
  // RTLD_NOW: an unresolved symbol is a refusal now, not a crash in the middle of a grant later.
  // RTLD_LOCAL: two providers never see each other's symbols.
  library->load(boost::dll::fs::path(fs::absolute(path)), error,
                boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (error || !library->is_loaded()) {
    const char* reason = dlerror();
    return refuse(path, ErrorCode::load_failed,
                  std::string("the dynamic loader could not load it: ") + (reason ? reason : error.message()));
  }
  return library;
}

Result<const gatehouse_provider_vtable*> handshake(const fs::path& path, boost::dll::shared_library& library) {
  if (!library.has(GATEHOUSE_PROVIDER_ENTRY_SYMBOL)) {
    return refuse(path, ErrorCode::missing_entry_symbol,
                  std::string("it does not export ") + GATEHOUSE_PROVIDER_ENTRY_SYMBOL +
                      " (is it built with gatehouse_add_provider and GATEHOUSE_PROVIDER?)");
  }
  auto entry = library.get<const gatehouse_provider_vtable*()>(GATEHOUSE_PROVIDER_ENTRY_SYMBOL);
  const gatehouse_provider_vtable* vtable = nullptr;
  try {
    vtable = entry();
  } catch (...) {
    return refuse(path, ErrorCode::bad_vtable, std::string(GATEHOUSE_PROVIDER_ENTRY_SYMBOL) + " threw an exception");
  }
  if (vtable == nullptr) return refuse(path, ErrorCode::bad_vtable, std::string(GATEHOUSE_PROVIDER_ENTRY_SYMBOL) + " returned NULL");

  if (vtable->struct_size < kVersionPrefixSize) {
    return refuse(path, ErrorCode::bad_struct_size,
                  "its vtable declares struct_size " + std::to_string(vtable->struct_size) +
                      ", too small to hold even the ABI version");
  }
  if (vtable->abi_major != GATEHOUSE_ABI_MAJOR) {
    return refuse(path, ErrorCode::abi_major_mismatch,
                  "it was built for provider ABI " + version_text(vtable->abi_major, vtable->abi_minor) +
                      " but this host speaks ABI " + version_text(GATEHOUSE_ABI_MAJOR, GATEHOUSE_ABI_MINOR) +
                      "; rebuild it against a matching gatehouse SDK");
  }
  if (vtable->abi_minor > GATEHOUSE_ABI_MINOR) {
    return refuse(path, ErrorCode::abi_minor_too_new,
                  "it needs provider ABI " + version_text(vtable->abi_major, vtable->abi_minor) +
                      " but this host only provides ABI " + version_text(GATEHOUSE_ABI_MAJOR, GATEHOUSE_ABI_MINOR) +
                      "; upgrade gatehouse or rebuild the provider against this SDK");
  }
  if (vtable->struct_size < kMinimumVtableSize) {
    return refuse(path, ErrorCode::bad_struct_size,
                  "its vtable declares struct_size " + std::to_string(vtable->struct_size) + " but ABI " +
                      version_text(vtable->abi_major, vtable->abi_minor) + " needs at least " +
                      std::to_string(kMinimumVtableSize));
  }
  if (!vtable->create || !vtable->invoke || !vtable->destroy) {
    return refuse(path, ErrorCode::bad_vtable, "its vtable lacks create, invoke or destroy");
  }
  if (!vtable->publisher || !vtable->name || !vtable->version || !vtable->framework_version ||
      !*vtable->publisher || !*vtable->name || !*vtable->version) {
    return refuse(path, ErrorCode::bad_vtable, "its vtable lacks publisher, name, version or framework version");
  }
  return vtable;
}

Result<nlohmann::json> describe(const fs::path& path, const gatehouse_provider_vtable* vtable,
                                const ProviderIdentity& identity) {
  pb::Request request;
  request.mutable_describe();
  std::string bytes;
  request.SerializeToString(&bytes);
  const std::string label = "it";
  auto reply = invoke_vtable(vtable, nullptr, bytes, label);
  if (!reply) return refuse(path, ErrorCode::describe_failed, reply.error().message);
  auto response = parse_response(*reply, label);
  if (!response) return refuse(path, ErrorCode::bad_response, "Describe returned " + std::to_string(reply->size()) +
                                                         " bytes that are not a valid Response message");
  if (response->status().code() != pb::Status::OK) {
    return refuse(path, ErrorCode::describe_failed, "Describe failed with " + status_code_name(response->status().code()) +
                                               ": " + response->status().message());
  }
  if (!response->has_describe()) return refuse(path, ErrorCode::bad_response, "Describe answered without a description");
  const auto& d = response->describe();
  if (d.publisher() != identity.publisher || d.name() != identity.name || d.version() != identity.version) {
    return refuse(path, ErrorCode::bad_response,
                  "Describe names " + d.publisher() + "/" + d.name() + "@" + d.version() + " but its vtable names " +
                      identity.reference());
  }
  auto schema = nlohmann::json::parse(d.schema_json(), nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return refuse(path, ErrorCode::schema_invalid, "its schema document is not valid JSON");

  std::vector<Diagnostic> faults;
  if (auto valid = validate_provider_schema(schema); !valid) faults = valid.error().diagnostics;
  // The document must describe the library that returned it.
  const auto meta = schema.is_object() ? schema.value("meta", nlohmann::json::object()) : nlohmann::json::object();
  auto check_meta = [&](const char* field, const std::string& expected) {
    if (meta.is_object() && meta.contains(field) && meta[field] != expected) {
      faults.push_back({std::string("/meta/") + field, "is " + meta[field].dump() + " but the vtable says \"" +
                                                            expected + "\""});
    }
  };
  check_meta("publisher", identity.publisher);
  check_meta("name", identity.name);
  check_meta("version", identity.version);
  if (!faults.empty()) {
    // Build the sentence before moving the faults: argument evaluation order is unspecified.
    const std::string reason = "its schema document breaks provider.v1.schema.json (" +
                               std::to_string(faults.size()) + " fault" + (faults.size() == 1 ? "" : "s") + ")";
    return refuse(path, ErrorCode::schema_invalid, reason, std::move(faults));
  }
  return schema;
}

}  // namespace

Result<std::shared_ptr<ProviderModule>> load_provider_in_process(const std::filesystem::path& path) {
  auto library = open_library(path);
  if (!library) return library.take_error();
  auto vtable = handshake(path, **library);
  if (!vtable) return vtable.take_error();

  const gatehouse_provider_vtable* v = *vtable;
  ProviderIdentity identity{v->publisher, v->name, v->version, v->framework_version, v->abi_major, v->abi_minor};
  auto schema = describe(path, v, identity);
  if (!schema) return schema.take_error();
  return std::shared_ptr<ProviderModule>(std::make_shared<InProcessModule>(
      std::move(*library), v, std::move(identity), std::move(*schema), fs::absolute(path).string()));
}

}  // namespace gatehouse::host
