// The smallest useful gatehouse provider: it "grants" a greeting in a room by remembering it.
// Real providers call a backend in grant()/revoke(); the shape stays the same.
#include <gatehouse/sdk.hpp>

#include <mutex>
#include <set>

class Hello : public gatehouse::Provider {
 public:
  explicit Hello(const gatehouse::Context& ctx) : greeting_(ctx.config.string("greeting")) {}

  static gatehouse::Schema schema() {
    using namespace gatehouse;
    return Schema{}
        .config("greeting", Field::string("What to say").default_value("hello"))
        .config("api_key", Field::string("Backend API key").secret().required())
        .target("Room", TargetKind("A chat room").property("room", Property::string("Room name")))
        // Limits on properties are checked by the host when a grant is requested (400 with /target/<name>),
        // so grant() never sees a room name the pattern refuses or 0 seats.
        .target("Booking", TargetKind("Seats booked in a room")
                               .description("Books seats in a room, optionally with a moderator")
                               .property("room", Property::string("Room name")
                                                     .pattern("^[a-z][a-z0-9-]*$")
                                                     .max_length(32)
                                                     .description("Lowercase letters, digits and '-'"))
                               .property("seats", Property::integer("Seats").minimum(1).maximum(50))
                               .property("moderated", Property::boolean("Moderated").optional()));
  }

  gatehouse::GrantResult grant(const gatehouse::GrantRequest& request) override {
    std::string message = greeting_ + ", " + request.subject;
    if (request.target.kind == "Booking") {  // values arrive as text; integer()/boolean() convert
      message += ": " + std::to_string(request.target.integer("seats")) + " seats";
      if (request.target.properties.contains("moderated") && request.target.boolean("moderated")) message += ", moderated";
    }
    std::lock_guard lock(mutex_);  // the host may call concurrently
    const bool added = granted_.insert(request.grant_id).second;
    return {.state = request.target.at("room"), .message = message, .already_exists = !added};
  }

  gatehouse::RevokeResult revoke(const gatehouse::RevokeRequest& request) override {
    std::lock_guard lock(mutex_);
    return {.message = "bye", .already_revoked = granted_.erase(request.grant_id) == 0};
  }

 private:
  std::string greeting_;
  std::mutex mutex_;
  std::set<std::string> granted_;
};

GATEHOUSE_PROVIDER(Hello, "acme", "hello", "0.1.0")
