// Signed bearer tokens: what a principal presents in the `authorization`
// metadata when it has no client certificate.
//
//   jrg1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "jrg1." + claims))>
//
// The claims are {"sub","role","region","aud","iat","exp"}; the key is shared
// by whoever issues tokens (`jaring token`) and the servers that check them,
// and lives outside the repository (DATA/keys/auth.key by default).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/auth/principal.h"

namespace jaring::auth {

struct TokenClaims {
  Principal principal;
  // Which deployment the token is for ("jaring" unless configured): a token
  // issued for one deployment is refused by another.
  std::string audience;
  absl::Time issued_at;
  absl::Time expires_at;
};

// Checks the claims (role known, subject set, region a prefix for regional
// offices and empty for others, expiry after issue) and signs them.
absl::StatusOr<std::string> MintToken(const TokenClaims& claims, std::string_view key);

// Verifies a token: its form, its signature (constant time), its audience
// and its expiry at `now`. The error names what is wrong ("token: expired
// at 2026-11-23T08:00:00Z") and never echoes the token.
absl::StatusOr<TokenClaims> VerifyToken(std::string_view token, std::string_view key, std::string_view audience,
                                        absl::Time now);

}  // namespace jaring::auth
