#include "raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace gatehouse::test {
namespace {

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

RawResponse parse(const std::string& data) {
  RawResponse r;
  const auto end = data.find("\r\n\r\n");
  if (data.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(data.substr(9, 3));
  std::size_t pos = data.find("\r\n") + 2;
  while (pos < end) {
    const auto eol = data.find("\r\n", pos);
    const auto line = data.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    pos = eol + 2;
  }
  r.body = data.substr(end + 4);
  return r;
}

bool complete(const std::string& data) {
  const auto end = data.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  const auto r = parse(data);
  auto it = r.headers.find("content-length");
  if (it == r.headers.end()) return false;
  return data.size() >= end + 4 + std::stoul(it->second);
}

}  // namespace

RawResponse raw_exchange(int port, const std::string& bytes, int timeout_seconds, std::size_t stall_after) {
  return raw_exchange(port, bytes, timeout_seconds, stall_after, {});
}

RawResponse raw_exchange(int port, const std::string& bytes, int timeout_seconds, std::size_t stall_after,
                         const std::function<void()>& stalled) {
  const int fd = connect_loopback(port);
  if (fd < 0) return {};
  const std::string to_send = stall_after > 0 ? bytes.substr(0, stall_after) : bytes;
  std::size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::string received;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < to_send.size() ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 100) < 0) break;
    if ((p.revents & POLLOUT) && sent < to_send.size()) {
      const auto n = ::send(fd, to_send.data() + sent, std::min<std::size_t>(to_send.size() - sent, 65536), MSG_NOSIGNAL);
      if (n <= 0) sent = to_send.size();  // the server closed on us: read what it said
      else sent += static_cast<std::size_t>(n);
      if (sent == to_send.size() && stall_after > 0 && stalled) stalled();
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[65536];
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      received.append(buffer, static_cast<std::size_t>(n));
      if (complete(received)) break;
    }
  }
  ::close(fd);
  return parse(received);
}

std::string http_request(const std::string& method, const std::string& target, const std::string& token,
                         const std::string& body, const std::string& content_type) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH") {
    r += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

RawResponse http_call(int port, const std::string& method, const std::string& target, const std::string& token,
                      const std::string& body) {
  return raw_exchange(port, http_request(method, target, token, body));
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

}  // namespace gatehouse::test
