#include "text_file.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

namespace gatehouse::host::detail {

std::optional<std::string> read_text_file(const std::filesystem::path& path, std::string& reason) {
  // stdio rather than iostreams: errno tells why an open or read failed (iostreams only say "failed").
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    reason = std::error_code(errno, std::generic_category()).message();
    return std::nullopt;
  }
  // Configs and secrets are small; the cap keeps a mistaken path such as /dev/zero from eating memory.
  constexpr std::size_t limit = 16 * 1024 * 1024;
  std::string text;
  char buffer[8192];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > limit) {
      reason = "larger than 16 MiB";
      return std::nullopt;
    }
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file.get())) {  // e.g. EISDIR: opening a directory succeeds, reading it does not
    reason = std::error_code(errno ? errno : EIO, std::generic_category()).message();
    return std::nullopt;
  }
  return text;
}

}  // namespace gatehouse::host::detail
