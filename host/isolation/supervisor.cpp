#include "isolation/supervisor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gatehouse::host::isolation {
namespace {

// Each runner serves exactly one instance: a crash takes down one handler, never its neighbours.
constexpr std::uint64_t kInstanceId = 1;

std::string duration_text(std::chrono::milliseconds ms) {
  if (ms.count() >= 1000 && ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  return std::to_string(ms.count()) + " ms";
}

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(1), std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

std::string_view runner_state_name(RunnerState state) {
  switch (state) {
    case RunnerState::starting: return "starting";
    case RunnerState::running: return "running";
    case RunnerState::restarting: return "restarting";
    case RunnerState::down: return "down";
    case RunnerState::stopped: return "stopped";
  }
  return "unknown";
}

Supervisor::Supervisor(Settings settings) : settings_(std::move(settings)) {}

Supervisor::~Supervisor() { stop(); }

Result<std::shared_ptr<Supervisor>> Supervisor::start(Settings settings) {
  std::shared_ptr<Supervisor> supervisor(new Supervisor(std::move(settings)));
  auto process = supervisor->launch();
  if (!process) return process.take_error();
  RunnerHealth health;
  {
    std::lock_guard lock(supervisor->mutex_);
    health = supervisor->adopt_locked(std::move(*process), /*restart=*/false);
  }
  supervisor->thread_ = std::thread([raw = supervisor.get()] { raw->loop(); });
  supervisor->report(health);
  return supervisor;
}

Result<std::shared_ptr<RunnerProcess>> Supervisor::launch() {
  const auto deadline = Clock::now() + settings_.options.start_timeout;
  // The supervisor outlives every runner it starts (stop() shuts them all down), so `this` is safe here.
  auto started = RunnerProcess::start(settings_.command, settings_.label, deadline,
                                      [this](RunnerProcess& process, const RunnerExit& exit) { on_exit(process, exit); });
  if (!started) return started.take_error();
  std::shared_ptr<RunnerProcess> process = std::move(*started);
  auto fail = [&](Error error) -> Error {
    process->shutdown();
    return error;
  };

  auto described = process->request(FrameKind::describe, 0, {}, left_until(deadline));
  if (!described) return fail(described.take_error());
  auto description = decode_description(*described);
  if (!description) return fail(description.take_error());
  const auto& got = description->identity;
  const auto& want = settings_.identity;
  if (got.publisher != want.publisher || got.name != want.name || got.version != want.version) {
    return fail(make_error(ErrorCode::provider_changed, "provider file '" + settings_.command.provider.string() + "' now holds " +
                                                   got.reference() + ", not " + want.reference() +
                                                   " which " + settings_.label + " was created for"));
  }
  auto created = process->request(FrameKind::create, kInstanceId, settings_.configure_request, left_until(deadline));
  if (!created) return fail(created.take_error());
  return process;
}

RunnerHealth Supervisor::health_locked() const {
  RunnerHealth health;
  health.state = state_;
  health.healthy = state_ == RunnerState::running;
  health.reason = reason_;
  health.pid = (state_ == RunnerState::running && current_) ? current_->pid() : 0;
  health.restarts = restarts_;
  return health;
}

RunnerHealth Supervisor::health() const {
  std::lock_guard lock(mutex_);
  return health_locked();
}

RunnerHealth Supervisor::adopt_locked(std::shared_ptr<RunnerProcess> process, bool restart) {
  current_ = std::move(process);
  // It may have died between its start and now; its exit handler then found it was not current_ yet.
  if (auto exit = current_->exit_info()) return retire_locked(exit->sentence);
  state_ = RunnerState::running;
  if (restart) {
    ++restarts_;
    reason_ = "runner restarted (pid " + std::to_string(current_->pid()) + ") after: " + reason_;
  } else {
    reason_ = "runner started (pid " + std::to_string(current_->pid()) + ")";
  }
  changed_.notify_all();
  return health_locked();
}

RunnerHealth Supervisor::retire_locked(const std::string& reason) {
  if (current_) retired_.push_back(std::move(current_));
  const auto& o = settings_.options;
  const auto now = Clock::now();
  while (!recent_restarts_.empty() && now - recent_restarts_.front() > o.restart_window) recent_restarts_.pop_front();
  if (recent_restarts_.size() >= o.max_restarts) {
    state_ = RunnerState::down;
    reason_ = reason + "; it stays down: it was already restarted " + std::to_string(recent_restarts_.size()) +
              " times within " + duration_text(o.restart_window) + " (the restart limit)";
    spdlog::error("{}", reason_);
  } else {
    const auto shift = std::min<std::size_t>(recent_restarts_.size(), 30);
    const auto delay = std::min(o.max_backoff, o.initial_backoff * (std::int64_t{1} << shift));
    next_start_ = now + delay;
    recent_restarts_.push_back(now);
    state_ = RunnerState::restarting;
    reason_ = reason + "; restarting it in " + duration_text(delay);
    spdlog::warn("{}", reason_);
  }
  changed_.notify_all();
  return health_locked();
}

void Supervisor::on_exit(RunnerProcess& process, const RunnerExit& exit) {
  RunnerHealth health;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || exit.requested || current_.get() != &process) return;
    health = retire_locked(exit.sentence);
  }
  report(health);
}

void Supervisor::report(const RunnerHealth& health) const {
  if (!settings_.options.on_health) return;
  try {
    settings_.options.on_health(settings_.handler_id, health);
  } catch (...) {
    spdlog::error("the health callback for {} threw; ignored", settings_.label);
  }
}

Result<std::string> Supervisor::call(std::string_view request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::shared_ptr<RunnerProcess> runner;
  {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, deadline, [&] { return state_ != RunnerState::starting; });
    switch (state_) {
      case RunnerState::running:
        runner = current_;
        break;
      case RunnerState::starting:
        return make_error(ErrorCode::deadline_exceeded, "provider runner for " + settings_.label +
                                                   " was still starting when the call's " + duration_text(timeout) +
                                                   " ran out");
      case RunnerState::restarting:
      case RunnerState::down:
        return make_error(ErrorCode::unavailable, reason_);
      case RunnerState::stopped:
        return make_error(ErrorCode::unavailable, "provider runner for " + settings_.label + " was shut down");
    }
  }
  return runner->request_until(FrameKind::invoke, kInstanceId, request, deadline, timeout);
}

void Supervisor::restart_now() {
  std::lock_guard lock(mutex_);
  if (stopping_ || (state_ != RunnerState::down && state_ != RunnerState::restarting)) return;
  recent_restarts_.clear();
  next_start_ = Clock::now();
  state_ = RunnerState::restarting;
  changed_.notify_all();
}

void Supervisor::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!retired_.empty()) {
      // Destroying a RunnerProcess joins its reader thread, which may want mutex_: release it first.
      auto dead = std::move(retired_);
      retired_.clear();
      lock.unlock();
      dead.clear();
      lock.lock();
      continue;
    }
    if (state_ == RunnerState::restarting && Clock::now() >= next_start_) {
      state_ = RunnerState::starting;
      lock.unlock();
      auto launched = launch();
      lock.lock();
      if (stopping_) {
        if (launched) {
          auto orphan = std::move(*launched);
          lock.unlock();
          orphan->shutdown();
          lock.lock();
        }
        break;
      }
      const RunnerHealth health = launched ? adopt_locked(std::move(*launched), /*restart=*/true)
                                           : retire_locked(launched.error().message);
      lock.unlock();
      report(health);
      lock.lock();
      continue;
    }
    if (state_ == RunnerState::restarting) {
      changed_.wait_until(lock, next_start_);
    } else {
      changed_.wait(lock);
    }
  }
}

void Supervisor::stop() {
  std::shared_ptr<RunnerProcess> current;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    state_ = RunnerState::stopped;
    reason_ = "stopped";
    current = std::move(current_);
    changed_.notify_all();
  }
  if (thread_.joinable()) {
    // From the supervisor thread itself (a health callback that dropped the last client): cannot join.
    if (thread_.get_id() == std::this_thread::get_id()) thread_.detach(); else thread_.join();
  }
  if (current) {
    // Let the provider's destroy() run (bounded by the grace period), then close: the runner exits.
    (void)current->request(FrameKind::destroy, kInstanceId, {}, settings_.options.shutdown_grace);
    current->shutdown();
  }
  std::vector<std::shared_ptr<RunnerProcess>> dead;
  {
    std::lock_guard lock(mutex_);
    dead.swap(retired_);
  }
}

}  // namespace gatehouse::host::isolation
