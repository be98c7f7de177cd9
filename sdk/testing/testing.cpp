// The test kit drives a provider through the host's own loader, so a provider that passes its tests here
// is loaded the same way by gatehoused.
#include <gatehouse/testing.hpp>

#include "loader/dll_loader.hpp"
#include "loader/provider_calls.hpp"
#include "schema/config_validation.hpp"
#include "schema/secrets.hpp"
#include "schema/value_limits.hpp"

namespace gatehouse::testing {
namespace {

namespace host = ::gatehouse::host;
namespace pb = ::gatehouse::provider::v1;

std::vector<Diagnostic> to_sdk(const std::vector<host::Diagnostic>& in) {
  std::vector<Diagnostic> out;
  for (const auto& d : in) out.push_back({d.path, d.reason});
  return out;
}

[[noreturn]] void throw_refused(const host::Error& error) {
  throw Refused(std::string(error.code_name()), error.describe(), to_sdk(error.diagnostics));
}

int64_t to_unix_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void to_proto(const Target& in, pb::Target& out) {
  out.set_kind(in.kind);
  for (const auto& [k, v] : in.properties) (*out.mutable_properties())[k] = v;
}

template <class T>
Call<T> outcome_of(const host::Result<pb::Response>& response) {
  Call<T> call;
  if (!response) {
    const auto& e = response.error();
    call.code = Code::internal;
    for (int c = 0; c <= static_cast<int>(Code::already_revoked); ++c) {
      if (e.code == code_name(static_cast<Code>(c))) call.code = static_cast<Code>(c);
    }
    if (e.code == "transport_failed" || e.code == "bad_response") call.message = std::string(e.code_name()) + ": ";
    call.message += e.message;
    call.diagnostics = to_sdk(e.diagnostics);
  } else {
    call.code = static_cast<Code>(response->status().code());
    call.message = response->status().message();
  }
  return call;
}

}  // namespace

struct Instance::Impl {
  std::unique_ptr<host::ProviderClient> client;
  std::string label;
};

struct ProviderUnderTest::Impl {
  std::shared_ptr<host::ProviderModule> module;
};

Instance::Instance(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Instance::~Instance() = default;
Instance::Instance(Instance&&) noexcept = default;
Instance& Instance::operator=(Instance&&) noexcept = default;

Call<GrantResult> Instance::grant(const GrantRequest& request) {
  pb::Request r;
  auto* g = r.mutable_grant();
  g->set_grant_id(request.grant_id);
  g->set_subject(request.subject);
  to_proto(request.target, *g->mutable_target());
  g->set_starts_at_unix_ms(to_unix_ms(request.starts_at));
  g->set_ends_at_unix_ms(to_unix_ms(request.ends_at));
  auto response = host::invoke(*impl_->client, r, ::gatehouse::host::deadline_in(std::chrono::seconds(30)), impl_->label);
  auto call = outcome_of<GrantResult>(response);
  if (response && response->has_grant()) {
    call.result.state = response->grant().state();
    call.result.message = response->grant().message();
    call.result.already_exists = call.code == Code::already_exists;
  }
  return call;
}

Call<RevokeResult> Instance::revoke(const RevokeRequest& request) {
  pb::Request r;
  auto* v = r.mutable_revoke();
  v->set_grant_id(request.grant_id);
  v->set_subject(request.subject);
  to_proto(request.target, *v->mutable_target());
  v->set_state(request.state);
  auto response = host::invoke(*impl_->client, r, ::gatehouse::host::deadline_in(std::chrono::seconds(30)), impl_->label);
  auto call = outcome_of<RevokeResult>(response);
  if (response) {
    if (response->has_revoke()) call.result.message = response->revoke().message();
    call.result.already_revoked = call.code == Code::already_revoked;
  }
  return call;
}

Call<LoadResult> Instance::load(const LoadRequest& request) {
  pb::Request r;
  r.mutable_load()->set_loader(request.loader);
  r.mutable_load()->set_page_token(request.page_token);
  auto response = host::invoke(*impl_->client, r, ::gatehouse::host::deadline_in(std::chrono::seconds(30)), impl_->label);
  auto call = outcome_of<LoadResult>(response);
  if (response && response->has_load()) {
    const auto& page = response->load();
    for (const auto& in : page.resources()) {
      Resource out{in.type(), in.id(), in.name(), nlohmann::json::object()};
      if (!in.data_json().empty()) out.data = nlohmann::json::parse(in.data_json(), nullptr, false);
      call.result.resources.push_back(std::move(out));
    }
    call.result.next_page_token = page.next_page_token();
    for (const auto& t : page.tasks()) call.result.tasks.push_back({t.loader(), t.page_token()});
  }
  return call;
}

Call<Health> Instance::check_health() {
  pb::Request r;
  r.mutable_check_health();
  auto response = host::invoke(*impl_->client, r, ::gatehouse::host::deadline_in(std::chrono::seconds(30)), impl_->label);
  auto call = outcome_of<Health>(response);
  if (response && response->has_check_health()) {
    const auto& h = response->check_health();
    call.result = Health{h.healthy(), h.message(), h.degraded(), {}};
    for (const auto& u : h.unavailable_targets()) {
      Target target{u.target().kind(), {u.target().properties().begin(), u.target().properties().end()}};
      call.result.unavailable.push_back({std::move(target), u.reason()});
    }
  } else {
    call.result = Health::failing(call.message);
  }
  return call;
}

std::vector<Resource> Instance::load_all(const std::string& loader) {
  std::vector<Resource> all;
  std::vector<LoadTask> queue{{loader, ""}};
  // A provider that keeps returning pages would hang a test: stop after a generous number of pages.
  constexpr int kMaxPages = 1'000'000;
  for (int pages = 0; !queue.empty(); ++pages) {
    if (pages >= kMaxPages) throw std::runtime_error("loader '" + loader + "' did not finish after 1,000,000 pages");
    LoadTask task = queue.back();
    queue.pop_back();
    auto page = load(LoadRequest{task.loader, task.page_token});
    if (!page.ok()) {
      throw std::runtime_error("loader '" + task.loader + "' failed with " + code_name(page.code) + ": " + page.message);
    }
    for (auto& r : page.result.resources) all.push_back(std::move(r));
    if (!page.result.next_page_token.empty()) queue.push_back({task.loader, page.result.next_page_token});
    for (auto& t : page.result.tasks) queue.push_back(std::move(t));
  }
  return all;
}

ProviderUnderTest::ProviderUnderTest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProviderUnderTest::~ProviderUnderTest() = default;
ProviderUnderTest::ProviderUnderTest(ProviderUnderTest&&) noexcept = default;
ProviderUnderTest& ProviderUnderTest::operator=(ProviderUnderTest&&) noexcept = default;

ProviderUnderTest ProviderUnderTest::load(const std::string& path) {
  auto module = host::load_provider_in_process(path);
  if (!module) throw_refused(module.error());
  return ProviderUnderTest(std::make_unique<Impl>(Impl{std::move(*module)}));
}

std::string ProviderUnderTest::publisher() const { return impl_->module->identity().publisher; }
std::string ProviderUnderTest::name() const { return impl_->module->identity().name; }
std::string ProviderUnderTest::version() const { return impl_->module->identity().version; }
std::string ProviderUnderTest::framework_version() const { return impl_->module->identity().framework_version; }
const nlohmann::json& ProviderUnderTest::schema() const { return impl_->module->schema(); }

std::vector<Diagnostic> ProviderUnderTest::validate_target(const Target& target) const {
  const auto& targets = schema().value("targets", nlohmann::json::object());
  auto kind = targets.find(target.kind);
  if (kind == targets.end()) return {{"/target", "'" + target.kind + "' is not a target kind of this provider"}};
  return to_sdk(host::target_faults(*kind, target.kind, target.properties));
}

std::vector<Diagnostic> ProviderUnderTest::validate_config(const nlohmann::json& config) const {
  auto valid = host::validate_config(schema(), config);
  return valid ? std::vector<Diagnostic>{} : to_sdk(valid.error().diagnostics);
}

Instance ProviderUnderTest::create(const nlohmann::json& config, const std::string& handler_id) const {
  if (auto valid = host::validate_config(schema(), config); !valid) throw_refused(valid.error());
  auto resolved = host::resolve_secrets(schema(), config);
  if (!resolved) throw_refused(resolved.error());
  auto client = impl_->module->create(*resolved, handler_id);
  if (!client) throw_refused(client.error());
  return Instance(std::make_unique<Instance::Impl>(
      Instance::Impl{std::move(*client), "provider " + impl_->module->identity().reference()}));
}

}  // namespace gatehouse::testing
