// The two log formats of gatehouse, shared by gatehoused and gatehouse-provider-runner:
//   * JSON lines: {"time":"2026-12-01T05:16:24.123456Z","level":"info","logger":"gatehoused","msg":"…",
//     …fields} — one object per line, written with a single write(2) so lines of several processes sharing
//     one stderr never interleave mid-line. The message is JSON-escaped (control characters included);
//     invalid UTF-8 is replaced.
//   * human: an spdlog pattern in which %& prints the thread's fields ("handler=demo-a source=provider ").
//
// Threads: the sink serializes its writes (spdlog base_sink with a mutex); the formatter is used under the
// logger's own locking. Build them once at start-up.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/sinks/sink.h>

#include <memory>
#include <string>

namespace gatehouse::host::logging {

std::shared_ptr<spdlog::sinks::sink> json_lines_sink(int fd);

// A pattern formatter that understands %& (the thread's log fields) besides spdlog's own flags.
std::unique_ptr<spdlog::formatter> human_formatter(const std::string& pattern);

}  // namespace gatehouse::host::logging
