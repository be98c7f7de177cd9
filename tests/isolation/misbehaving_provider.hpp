// The providers behind the isolation fixtures (tests/fixtures/{crash,abort,hang,exit,leak}_*.cpp): written with
// the SDK like any provider, each plugs in ONE misbehaviour.
//
// Grant of a target whose "name" is
//   "boom"  misbehaves (the fixture's function: segfault, abort, hang, exit, leak, ...);
//   "slow"  sleeps 60 s, then grants (so a test can have calls in flight when another one crashes: far longer
//           than any test takes to get there, however loaded the machine);
//   else    grants from memory, idempotently (already_exists on a repeated grant id).
// Config "marker_dir" (optional): every Grant first creates an empty file there named by its grant id, so a
// test can wait until a call is inside the provider instead of sleeping.
// Revoke and CheckHealth always work. Kind "Thing" with one property, "name".
#pragma once

#include <gatehouse/sdk.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace misbehaving {

using Misbehaviour = void (*)();

inline void nothing() {}

template <Misbehaviour misbehave>
class Provider final : public gatehouse::Provider {
 public:
  explicit Provider(const gatehouse::Context& context)
      : marker_dir_(context.config.has("marker_dir") ? context.config.string("marker_dir") : "") {}

  static gatehouse::Schema schema() {
    using namespace gatehouse;
    return Schema()
        .config("label", Field::string("Free text, unused").default_value("fixture"))
        .config("marker_dir", Field::string("Directory where each Grant leaves a file named by its grant id"))
        .target("Thing", TargetKind("A thing").property("name", Property::string("Name")));
  }

  gatehouse::GrantResult grant(const gatehouse::GrantRequest& request) override {
    if (!marker_dir_.empty()) std::ofstream(std::filesystem::path(marker_dir_) / request.grant_id).flush();
    const std::string& name = request.target.at("name");
    if (name == "boom") misbehave();
    if (name == "slow") std::this_thread::sleep_for(std::chrono::seconds(60));
    std::lock_guard lock(mutex_);
    const bool added = granted_.insert(request.grant_id).second;
    return {.state = name, .message = "granted", .already_exists = !added};
  }

  gatehouse::RevokeResult revoke(const gatehouse::RevokeRequest& request) override {
    std::lock_guard lock(mutex_);
    return {.message = "revoked", .already_revoked = granted_.erase(request.grant_id) == 0};
  }

 private:
  const std::string marker_dir_;
  std::mutex mutex_;
  std::set<std::string> granted_;
};

}  // namespace misbehaving

// Exports misbehaving::Provider<FN> as provider fixture/NAME@1.0.0 (NAME: lowercase, digits and dashes).
#define MISBEHAVING_PROVIDER(NAME, FN)                       \
  using MisbehavingProvider = ::misbehaving::Provider<FN>;   \
  GATEHOUSE_PROVIDER(MisbehavingProvider, "fixture", NAME, "1.0.0")
