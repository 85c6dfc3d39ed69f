// Who is calling: a role, the principal's opaque id, and (for a regional
// office) the region-code prefix it may read and change.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jaring::auth {

enum class Role {
  // No credential: the status of one family, given its KK number and a
  // member's NIK, masked and rate limited.
  kPublic,
  // The national integration layer: every region, every write.
  kNational,
  // A regional social office (Dinas Sosial): reads and writes only within
  // its region-code prefix.
  kRegional,
  // A field verifier: its assigned appeals and the families in them.
  kVerifier,
  // An oversight body: every read, replay and audit; no writes.
  kOversight,
};

// "public", "national", "regional", "verifier", "oversight".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Principal {
  Role role = Role::kPublic;
  // An operator or system id chosen by whoever issued the credential (never
  // a NIK); empty for the public.
  std::string subject;
  // Regional offices only: a region-code prefix ("52.71", "52.71.01").
  std::string region;
  // How the principal was proven: "token", "certificate", or "none".
  std::string proven_by = "none";
};

// Whether `region` is a region-code prefix a credential may carry: 2, 4 or 6
// digits in dotted parts ("52", "52.71", "52.71.01").
bool IsRegionPrefix(std::string_view region);

// Whether the dotted region code or prefix `code` lies within `prefix`
// ("52.71.01.1001" and "52.71" are within "52.71"; "52.7" is not a part).
bool RegionWithin(std::string_view code, std::string_view prefix);

// The principal as recorded on the events it causes (Envelope.actor):
// "<role>:<subject>", or "regional/<region>:<subject>" for a regional
// office ("regional/52.71:dinsos-mataram"). Empty for the public (who never
// writes) and for a principal that was never proven (proven_by "none").
std::string ActorId(const Principal& p);

// The tenant a principal's request ids belong to: "" for the national
// namespace (national, oversight, the unproven), "regional/<region>" for a
// regional office, "verifier/<subject>" for a field verifier. Two callers
// with different scopes never share a request id (docs/security.md).
std::string RequestScope(const Principal& p);

// The request id as stored on events: `request_id` when `scope` is empty,
// else "<scope>/<request_id>". Client ids never contain '/'.
std::string ScopedRequestId(std::string_view scope, std::string_view request_id);

// The dotted region of a KK number's first six digits ("5271011203170001"
// -> "52.71.01"); empty when they are not six digits.
std::string KkRegion(std::string_view kk);

}  // namespace jaring::auth
