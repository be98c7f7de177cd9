// Whether a handler's target kind can serve a target group: the check that makes a route valid.
//
// A target kind schema is one entry of a provider schema's "targets":
//   {"title": …, "description"?: …, "properties": {NAME: {"type", "title", "resource"?, "enum"?, "description"?}},
//    "required": [NAME…]}
//
// COMPATIBLE when, comparing the group's kind schema (fixed when the group was created) with the handler's:
//   * both declare the same property names (a property missing on either side is a difference);
//   * each property has the same "type" (compared as JSON values; an absent type equals only an absent type);
//   * each property references the same resource type: same "resource" string, or absent on both sides;
//   * the same set of required property names (order and duplicates do not matter);
//   * enum: the handler must accept every value the group allows —
//       handler has no enum                    → compatible (it accepts any value);
//       both have an enum, handler ⊇ group     → compatible (extra handler values are unreachable, harmless);
//       group has no enum but the handler has  → incompatible (the group lets requesters ask for values the
//                                                handler would refuse);
//       a group value missing from the handler → incompatible, naming the missing values.
//   * titles and descriptions (of the kind and of properties) are presentation and never matter; so does
//     any other key not listed above.
//
// INCOMPATIBLE → Error{code "route_invalid"}: the message is one sentence listing every difference, e.g.
//   "the handler's kind is incompatible with the target group: property 'role' is integer in the handler
//    but string in the group; property 'database' references resource Database in the group but nothing in
//    the handler"
// with one Diagnostic per difference located in the kind schema by JSON pointer:
//   /properties/NAME            property present on one side only
//   /properties/NAME/type       type differs
//   /properties/NAME/resource   resource reference differs
//   /properties/NAME/enum       enum not accepted by the handler (or malformed)
//   /required                   required set differs (one diagnostic per property)
//   /properties                 "properties" missing or not an object (treated as no properties)
// The message is what the control plane stores as the route's invalidity reason and shows to operators.
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

namespace gatehouse::host::routing {

Result<void> check_kind_compatibility(const nlohmann::json& group_kind_schema,
                                      const nlohmann::json& handler_kind_schema);

}  // namespace gatehouse::host::routing
