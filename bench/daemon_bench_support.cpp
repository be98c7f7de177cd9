#include "daemon_bench_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace gatehouse::bench {

std::string sha256_hex(const std::string& text) {
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", digest[i]);
    out += b;
  }
  return out;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string http_request(const std::string& method, const std::string& target, const std::string& token,
                         const std::string& body, bool close) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (close) r += "Connection: close\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty()) r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int exchange(int fd, const std::string& request, std::string* body) {
  for (std::size_t sent = 0; sent < request.size();) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return 0;
    sent += static_cast<std::size_t>(n);
  }
  std::string data;
  std::size_t header_end = std::string::npos, need = 0;
  char buffer[16384];
  while (true) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return 0;
    data.append(buffer, static_cast<std::size_t>(n));
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      const auto cl = data.find("Content-Length: ");
      if (cl == std::string::npos || cl > header_end) return -1;
      need = header_end + 4 + std::stoul(data.substr(cl + 16));
    }
    if (data.size() >= need) break;
  }
  if (body) *body = data.substr(header_end + 4);
  return std::stoi(data.substr(9, 3));
}

int http_call(int port, const std::string& request, std::string* body) {
  const int fd = connect_loopback(port);
  if (fd < 0) return 0;
  const int status = exchange(fd, request, body);
  ::close(fd);
  return status;
}

pid_t start_gatehoused(const std::string& exe, const std::string& config, const std::string& log_path,
                       const std::map<std::string, std::string>& env, int port, std::string& why) {
  const pid_t pid = fork();
  if (pid < 0) {
    why = "fork failed";
    return -1;
  }
  if (pid == 0) {
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    if (!freopen(log_path.c_str(), "w", stderr)) _exit(126);
    execl(exe.c_str(), exe.c_str(), "--config", config.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 1200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      why = "gatehoused exited; see " + log_path;
      return -1;
    }
    if (http_call(port, http_request("GET", "/readyz", "", "", true)) == 200) return pid;
  }
  stop_gatehoused(pid);
  why = "gatehoused did not become ready within 120 s; see " + log_path;
  return -1;
}

void stop_gatehoused(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace gatehouse::bench
