// Secret rotation: a handler's env:/file: references are resolved when its instance is created, and again
// before every health check (Registry::refresh_secrets); a changed value re-creates the instance, so a
// rotated password or a fixed token file takes effect within one health interval, with no delete and
// re-create of the handler (which would drop its routes).
#include "registry/secret_rotation.hpp"

#include "isolation/isolated_module.hpp"
#include "registry/registry.hpp"
#include "schema/secrets.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <optional>

namespace gatehouse::host::registry {
namespace {

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) length = 0;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  // OpenSSL failing to digest (out of memory): a non-cryptographic stand-in still notices a change.
  return length == 0 ? "std-hash:" + std::to_string(std::hash<std::string>{}(text)) : out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::map<std::string, std::string> resolved_digests_of(const nlohmann::json& resolved_config) {
  std::map<std::string, std::string> out;
  if (!resolved_config.is_object()) return out;
  for (const auto& [name, value] : resolved_config.items()) out[name] = sha256_hex(value.dump());
  return out;
}

std::vector<std::string> changed_fields(const std::map<std::string, std::string>& before,
                                        const std::map<std::string, std::string>& after) {
  std::vector<std::string> out;
  for (const auto& [name, digest] : after) {
    auto it = before.find(name);
    if (it == before.end() || it->second != digest) out.push_back(name);
  }
  for (const auto& [name, digest] : before) {
    (void)digest;
    if (!after.count(name)) out.push_back(name);
  }
  return out;
}

Result<std::string> Registry::refresh_secrets(std::string_view id) {
  Handler fresh;  // declared before any lock: an instance we do not keep is destroyed with no lock held
  std::optional<Handler> previous;
  std::shared_ptr<ProviderClient> old_client;
  std::map<std::string, std::string> old_digests;
  {
    std::lock_guard lock(mutex_);
    auto it = handlers_.find(id);
    if (it == handlers_.end()) return make_error(ErrorCode::not_found, "handler '" + std::string(id) + "' does not exist");
    fresh.info = it->second.info;
    old_client = it->second.runtime.client;
    old_digests = it->second.resolved_digests;
  }
  auto module = catalog_->find(fresh.info.provider);
  if (!module) return std::string();  // nothing to create from; the check says the provider is not loaded
  auto resolved = resolve_secrets(module->schema(), fresh.info.config);
  if (!resolved) return resolved.take_error();
  auto digests = resolved_digests_of(*resolved);
  if (old_client && digests == old_digests) return std::string();

  const std::vector<std::string> fields = changed_fields(old_digests, digests);
  fresh.runtime = HandlerRuntime{fresh.info.id, module, nullptr, fresh.info.config, ""};
  create_client(fresh, *resolved);  // touches only `fresh`
  if (!fresh.runtime.client) {
    const std::string problem = fresh.runtime.instance_problem;
    {
      std::lock_guard lock(mutex_);
      auto it = handlers_.find(id);
      if (it != handlers_.end() && !it->second.runtime.client) it->second.runtime.instance_problem = problem;
    }
    return make_error(ErrorCode::create_failed,
                      "handler '" + fresh.info.id + "': " +
                          (old_client ? "the provider refused the config with its changed field(s) " + joined(fields) +
                                            " (the previous instance keeps running): "
                                      : "") +
                          problem);
  }
  fresh.resolved_digests = std::move(digests);

  bool swapped = false;
  {
    std::lock_guard lock(mutex_);
    auto it = handlers_.find(id);
    // Updated or deleted meanwhile: that change wins, and ours is dropped (after the lock is released).
    if (it != handlers_.end() && it->second.runtime.client == old_client) {
      fresh.info = it->second.info;  // health and its reason as they are now; the check that follows records anew
      previous.emplace(std::move(it->second));
      it->second = std::move(fresh);
      swapped = true;
    }
  }
  if (!swapped) return std::string();
  std::string sentence;
  if (old_client) {
    sentence = "config field(s) " + joined(fields) + " resolved to new values; instance re-created";
    spdlog::info("handler {}: {}", std::string(id), sentence);
  } else {
    sentence = "instance created with its references resolved again";
    spdlog::info("handler {}: {}", std::string(id), sentence);
  }
  return sentence;  // `previous` (the old instance, an isolated handler's old runner) is stopped here, unlocked
}

}  // namespace gatehouse::host::registry
