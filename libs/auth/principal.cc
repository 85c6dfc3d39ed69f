#include "libs/auth/principal.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "libs/base/strings.h"

namespace jaring::auth {
namespace {

constexpr std::array<std::pair<Role, std::string_view>, 5> kRoles = {{
    {Role::kPublic, "public"},
    {Role::kNational, "national"},
    {Role::kRegional, "regional"},
    {Role::kVerifier, "verifier"},
    {Role::kOversight, "oversight"},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [r, n] : kRoles) {
    if (n == name) return r;
  }
  return std::nullopt;
}

bool IsRegionPrefix(std::string_view region) {
  if (region.size() != 2 && region.size() != 5 && region.size() != 8) return false;
  for (size_t i = 0; i < region.size(); ++i) {
    const bool dot = i == 2 || i == 5;
    if (dot ? region[i] != '.' : !IsDigit(region[i])) return false;
  }
  return true;
}

bool RegionWithin(std::string_view code, std::string_view prefix) {
  if (prefix.empty() || code.size() < prefix.size() || code.substr(0, prefix.size()) != prefix) return false;
  return code.size() == prefix.size() || code[prefix.size()] == '.';
}

std::string KkRegion(std::string_view kk) {
  if (kk.size() < 6) return "";
  for (size_t i = 0; i < 6; ++i) {
    if (!IsDigit(kk[i])) return "";
  }
  std::string out;
  out.reserve(8);
  out.append(kk.substr(0, 2)).append(".").append(kk.substr(2, 2)).append(".").append(kk.substr(4, 2));
  return out;
}

std::string ActorId(const Principal& p) {
  if (p.role == Role::kPublic || p.proven_by == "none" || p.subject.empty()) return "";
  if (p.role == Role::kRegional) return absl::StrCat("regional/", p.region, ":", p.subject);
  return absl::StrCat(Av(RoleName(p.role)), ":", p.subject);
}

std::string RequestScope(const Principal& p) {
  if (p.proven_by == "none") return "";
  switch (p.role) {
    case Role::kRegional:
      return absl::StrCat("regional/", p.region);
    case Role::kVerifier:
      return absl::StrCat("verifier/", p.subject);
    default:
      return "";
  }
}

std::string ScopedRequestId(std::string_view scope, std::string_view request_id) {
  if (scope.empty()) return std::string(request_id);
  return absl::StrCat(Av(scope), "/", Av(request_id));
}

}  // namespace jaring::auth
