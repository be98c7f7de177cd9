#include "isolation/scan_cache.hpp"

#include <gatehouse/version.h>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

namespace gatehouse::host::isolation {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFormat = 1;

// One process updates the file at a time (read-modify-write); other processes may race, in which case the
// last writer wins and the loser's file is simply scanned again next time.
std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}

Result<std::string> sha256_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::file_not_found, "cannot read '" + path.string() + "'");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    return make_error(ErrorCode::internal_error, "OpenSSL could not start a SHA-256 digest");
  }
  std::vector<char> chunk(1 << 16);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(context.get(), chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return make_error(ErrorCode::file_not_found, "error while reading '" + path.string() + "'");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

json read_cache(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return json::object();
  std::stringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("format", 0) != kFormat || !j.contains("providers") || !j["providers"].is_array()) {
    spdlog::warn("provider scan cache '{}' is unreadable; every provider will be scanned again", file.string());
    return json::object();
  }
  return j;
}

bool matches(const json& entry, const FileFingerprint& f) {
  return entry.is_object() && entry.value("path", "") == f.path && entry.value("size", std::uintmax_t{0}) == f.size &&
         entry.value("mtime_ns", std::int64_t{0}) == f.mtime_ns && entry.value("sha256", "") == f.sha256 &&
         entry.value("framework_version", "") == GATEHOUSE_FRAMEWORK_VERSION;
}

}  // namespace

Result<FileFingerprint> fingerprint(const fs::path& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  struct stat st {};
  if (::stat(absolute.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::file_not_found, "provider '" + path.string() + "' refused: " +
                                            (::access(absolute.c_str(), F_OK) == 0 ? "not a regular file" : "no such file"));
  }
  auto hash = sha256_of(absolute);
  if (!hash) return hash.take_error();
  FileFingerprint f;
  f.path = absolute.string();
  f.size = static_cast<std::uintmax_t>(st.st_size);
  f.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  f.sha256 = std::move(*hash);
  return f;
}

std::optional<ProviderIdentity> ScanCache::accepted(const FileFingerprint& file) const {
  std::lock_guard lock(cache_mutex());
  const json cache = read_cache(file_);
  if (!cache.contains("providers")) return std::nullopt;
  for (const auto& entry : cache["providers"]) {
    if (!matches(entry, file)) continue;
    ProviderIdentity id;
    id.publisher = entry.value("publisher", "");
    id.name = entry.value("name", "");
    id.version = entry.value("version", "");
    id.framework_version = entry.value("provider_framework_version", "");
    id.abi_major = entry.value("abi_major", 0u);
    id.abi_minor = entry.value("abi_minor", 0u);
    return id;
  }
  return std::nullopt;
}

Result<void> ScanCache::remember(const FileFingerprint& file, const ProviderIdentity& identity) const {
  std::lock_guard lock(cache_mutex());
  json cache = read_cache(file_);
  json providers = json::array();
  if (cache.contains("providers")) {
    for (auto& entry : cache["providers"]) {
      if (entry.is_object() && entry.value("path", "") != file.path) providers.push_back(std::move(entry));
    }
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  providers.push_back({{"path", file.path},
                       {"size", file.size},
                       {"mtime_ns", file.mtime_ns},
                       {"sha256", file.sha256},
                       {"framework_version", GATEHOUSE_FRAMEWORK_VERSION},
                       {"publisher", identity.publisher},
                       {"name", identity.name},
                       {"version", identity.version},
                       {"provider_framework_version", identity.framework_version},
                       {"abi_major", identity.abi_major},
                       {"abi_minor", identity.abi_minor},
                       {"accepted_at", now}});
  const json out = {{"format", kFormat}, {"providers", std::move(providers)}};

  auto fail = [&](const std::string& why) {
    return make_error(ErrorCode::cache_write_failed, "cannot update provider scan cache '" + file_.string() + "': " + why);
  };
  std::error_code ec;
  if (file_.has_parent_path()) fs::create_directories(file_.parent_path(), ec);
  const fs::path temporary = file_.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream o(temporary, std::ios::trunc);
    o << out.dump(2) << "\n";
    o.flush();
    if (!o) return fail("cannot write " + temporary.string());
  }
  fs::rename(temporary, file_, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temporary, ec);
    return fail(why);
  }
  return {};
}

}  // namespace gatehouse::host::isolation
