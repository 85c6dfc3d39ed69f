// jaring token: issues a signed token (libs/auth/token.h) for a principal.
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/auth/keys.h"
#include "libs/auth/token.h"
#include "libs/base/status.h"
#include "services/jaring/commands.h"

namespace jaring::server {

absl::Status IssueToken(const TokenFlags& flags) {
  absl::Duration ttl;
  if (!absl::ParseDuration(flags.ttl, &ttl) || ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--ttl: ", flags.ttl, " is not a positive duration (e.g. 8h, 30m)"));
  }
  std::string key_path = flags.key;
  if (key_path.empty()) {
    const std::filesystem::path keys = std::filesystem::path(flags.data_dir) / "keys";
    std::error_code ec;
    std::filesystem::create_directories(keys, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", keys.string(), ": ", ec.message()));
    key_path = (keys / "auth.key").string();
  }
  JARING_ASSIGN_OR_RETURN(std::string key, auth::LoadOrCreateKey(key_path));
  auth::TokenClaims claims;
  std::optional<auth::Role> role = auth::ParseRole(flags.role);
  if (!role.has_value()) return absl::InvalidArgumentError(absl::StrCat("--role: unknown role ", flags.role));
  claims.principal.role = *role;
  claims.principal.subject = flags.subject;
  claims.principal.region = flags.region;
  claims.audience = flags.audience;
  claims.issued_at = absl::Now();
  claims.expires_at = claims.issued_at + ttl;
  absl::StatusOr<std::string> token = auth::MintToken(claims, key);
  if (!token.ok()) return absl::InvalidArgumentError(absl::StrCat("--", token.status().message()));
  std::printf("%s\n", token->c_str());
  return absl::OkStatus();
}

}  // namespace jaring::server
