#include "libs/auth/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/base/strings.h"

namespace jaring::auth {
namespace {

constexpr std::string_view kPrefix = "jrg1.";

std::string Mac(std::string_view key, std::string_view signed_part) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

absl::Status Malformed(std::string_view why) { return absl::UnauthenticatedError(absl::StrCat("token: ", Av(why))); }

absl::Status CheckClaims(const TokenClaims& c) {
  const Principal& p = c.principal;
  if (p.role == Role::kPublic) return absl::InvalidArgumentError("role: the public needs no token");
  if (p.subject.empty()) return absl::InvalidArgumentError("subject: is required");
  if (p.subject.size() > 128) return absl::InvalidArgumentError("subject: longer than 128 characters");
  if (p.role == Role::kRegional) {
    if (!IsRegionPrefix(p.region)) {
      return absl::InvalidArgumentError("region: a regional office needs a region prefix such as 52.71");
    }
  } else if (!p.region.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("region: only a regional office carries a region (role is ", Av(RoleName(p.role)), ")"));
  }
  if (c.audience.empty()) return absl::InvalidArgumentError("audience: is required");
  if (c.expires_at <= c.issued_at) return absl::InvalidArgumentError("expires: must be after the time of issue");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> MintToken(const TokenClaims& claims, std::string_view key) {
  if (absl::Status st = CheckClaims(claims); !st.ok()) return st;
  if (key.size() < 16) return absl::InvalidArgumentError("key: needs at least 16 bytes");
  nlohmann::json j = {
      {"sub", claims.principal.subject},
      {"role", std::string(RoleName(claims.principal.role))},
      {"aud", claims.audience},
      {"iat", absl::ToUnixSeconds(claims.issued_at)},
      {"exp", absl::ToUnixSeconds(claims.expires_at)},
  };
  if (!claims.principal.region.empty()) j["region"] = claims.principal.region;
  std::string out = absl::StrCat(Av(kPrefix), absl::WebSafeBase64Escape(j.dump()));
  absl::StrAppend(&out, ".", absl::WebSafeBase64Escape(Mac(key, out)));
  return out;
}

absl::StatusOr<TokenClaims> VerifyToken(std::string_view token, std::string_view key, std::string_view audience,
                                        absl::Time now) {
  if (token.substr(0, kPrefix.size()) != kPrefix) return Malformed("not a Jaring token (expected jrg1.…)");
  const size_t dot = token.rfind('.');
  if (dot < kPrefix.size()) return Malformed("malformed (expected jrg1.<claims>.<signature>)");
  const std::string_view signed_part = token.substr(0, dot);
  std::string signature;
  if (!absl::WebSafeBase64Unescape(Av(token.substr(dot + 1)), &signature)) return Malformed("signature is not base64url");
  const std::string expected = Mac(key, signed_part);
  if (signature.size() != expected.size() || CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return Malformed("signature does not verify (tampered, or signed with another key)");
  }
  std::string payload;
  if (!absl::WebSafeBase64Unescape(Av(signed_part.substr(kPrefix.size())), &payload)) {
    return Malformed("claims are not base64url");
  }
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j["sub"].is_string() || !j["role"].is_string() || !j["aud"].is_string() ||
      !j["iat"].is_number_integer() || !j["exp"].is_number_integer()) {
    return Malformed("claims lack sub, role, aud, iat or exp");
  }
  TokenClaims c;
  std::optional<Role> role = ParseRole(j["role"].get<std::string>());
  if (!role.has_value()) return Malformed(absl::StrCat("unknown role ", j["role"].get<std::string>()));
  c.principal.role = *role;
  c.principal.subject = j["sub"].get<std::string>();
  if (j.contains("region") && j["region"].is_string()) c.principal.region = j["region"].get<std::string>();
  c.principal.proven_by = "token";
  c.audience = j["aud"].get<std::string>();
  c.issued_at = absl::FromUnixSeconds(j["iat"].get<int64_t>());
  c.expires_at = absl::FromUnixSeconds(j["exp"].get<int64_t>());
  if (absl::Status st = CheckClaims(c); !st.ok()) return Malformed(Sv(st.message()));
  if (c.audience != audience) {
    return Malformed(absl::StrCat("issued for audience \"", c.audience, "\", this deployment is \"", Av(audience), "\""));
  }
  if (now >= c.expires_at) {
    return Malformed(absl::StrCat("expired at ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", c.expires_at, absl::UTCTimeZone())));
  }
  if (c.issued_at > now + absl::Minutes(5)) return Malformed("issued in the future (clock skew over 5 minutes)");
  return c;
}

}  // namespace jaring::auth
