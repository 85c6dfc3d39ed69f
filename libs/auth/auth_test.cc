#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_split.h"

#include "jaring/v1/appeals_service.pb.h"
#include "jaring/v1/audit_service.pb.h"
#include "jaring/v1/eligibility_service.pb.h"
#include "jaring/v1/ledger_service.pb.h"
#include "jaring/v1/population_service.pb.h"
#include "libs/auth/guard.h"
#include "libs/auth/keys.h"
#include "libs/validation/validation.h"
#include "libs/auth/policy.h"
#include "libs/auth/token.h"

namespace jaring::auth {
namespace {

using ::testing::HasSubstr;

const std::string kKey = "0123456789abcdef0123456789abcdef";
const absl::Time kNow = absl::FromUnixSeconds(1795000000);

TokenClaims Claims(Role role, std::string subject, std::string region = "") {
  TokenClaims c;
  c.principal.role = role;
  c.principal.subject = std::move(subject);
  c.principal.region = std::move(region);
  c.audience = "jaring";
  c.issued_at = kNow;
  c.expires_at = kNow + absl::Hours(8);
  return c;
}

TEST(TokenTest, RoundTrip) {
  auto token = MintToken(Claims(Role::kRegional, "dinsos-mataram", "52.71"), kKey);
  ASSERT_TRUE(token.ok()) << token.status();
  auto c = VerifyToken(*token, kKey, "jaring", kNow + absl::Hours(1));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->principal.role, Role::kRegional);
  EXPECT_EQ(c->principal.subject, "dinsos-mataram");
  EXPECT_EQ(c->principal.region, "52.71");
  EXPECT_EQ(c->principal.proven_by, "token");
}

TEST(TokenTest, ExpiredTamperedWrongAudienceWrongKey) {
  const std::string token = *MintToken(Claims(Role::kNational, "kemensos-ops"), kKey);
  auto expired = VerifyToken(token, kKey, "jaring", kNow + absl::Hours(8));
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired at"));

  // Claims changed (oversight -> national) under the old signature.
  const std::string forged_claims = *MintToken(Claims(Role::kOversight, "kemensos-ops"), kKey);
  const std::string tampered =
      forged_claims.substr(0, forged_claims.rfind('.')) + token.substr(token.rfind('.'));
  auto t = VerifyToken(tampered, kKey, "jaring", kNow);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(t.status().message(), HasSubstr("signature does not verify"));

  std::string flipped = token;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_THAT(VerifyToken(flipped, kKey, "jaring", kNow).status().message(), HasSubstr("signature"));

  auto aud = VerifyToken(token, kKey, "jaring-staging", kNow);
  EXPECT_THAT(aud.status().message(), HasSubstr("audience"));
  EXPECT_THAT(VerifyToken(token, "another-key-of-32-bytes-........", "jaring", kNow).status().message(),
              HasSubstr("signature"));
  EXPECT_THAT(VerifyToken("Bearer x", kKey, "jaring", kNow).status().message(), HasSubstr("not a Jaring token"));
  EXPECT_THAT(VerifyToken("jrg1.", kKey, "jaring", kNow).status().message(), HasSubstr("malformed"));
}

TEST(TokenTest, MintRefusesInconsistentClaims) {
  EXPECT_THAT(MintToken(Claims(Role::kRegional, "x", ""), kKey).status().message(), HasSubstr("region:"));
  EXPECT_THAT(MintToken(Claims(Role::kRegional, "x", "52.7"), kKey).status().message(), HasSubstr("region:"));
  EXPECT_THAT(MintToken(Claims(Role::kNational, "x", "52.71"), kKey).status().message(), HasSubstr("region:"));
  EXPECT_THAT(MintToken(Claims(Role::kNational, ""), kKey).status().message(), HasSubstr("subject:"));
  EXPECT_THAT(MintToken(Claims(Role::kPublic, "x"), kKey).status().message(), HasSubstr("role:"));
  EXPECT_THAT(MintToken(Claims(Role::kNational, "x"), "short").status().message(), HasSubstr("key:"));
}

TEST(RegionTest, PrefixesAndKkRegions) {
  EXPECT_TRUE(RegionWithin("52.71.01.1001", "52.71"));
  EXPECT_TRUE(RegionWithin("52.71", "52.71"));
  EXPECT_FALSE(RegionWithin("52.72.01", "52.71"));
  EXPECT_FALSE(RegionWithin("52", "52.71"));
  EXPECT_FALSE(RegionWithin("", "52.71"));
  EXPECT_FALSE(RegionWithin("52.71", ""));
  EXPECT_EQ(KkRegion("5271011203170001"), "52.71.01");
  EXPECT_EQ(KkRegion("52x1011203170001"), "");
  EXPECT_TRUE(IsRegionPrefix("52.71.01"));
  EXPECT_FALSE(IsRegionPrefix("5271"));
}

TEST(MaskTest, NamesAndNumbers) {
  EXPECT_EQ(MaskName("Siti Rahmawati"), "S*** R********");
  EXPECT_EQ(MaskName("Ni Luh Putu Ayu"), "N* L** P*** A**");
}

TEST(MaskTest, NamesKeepWholeMultiByteLetters) {
  // "Ñoman Ébert": the first letters are two bytes each.
  EXPECT_EQ(MaskName("\xC3\x91oman \xC3\x89" "bert"), "\xC3\x91**** \xC3\x89****");
  EXPECT_EQ(MaskName("\xE4\xBD\x95\xE4\xBD\x95"), "\xE4\xBD\x95*");       // two CJK letters
  EXPECT_EQ(MaskName("\xF0\x9F\x98\x80x"), "\xF0\x9F\x98\x80*");           // a 4-byte first character
  EXPECT_EQ(MaskName("\xC3 ab"), "* a*");                                  // a broken byte is never copied
  for (const char* n : {"\xC3\x91oman \xC3\x89" "bert", "\xE4\xBD\x95\xE4\xBD\x95", "\xC3 ab", "\xE4\xBD"}) {
    EXPECT_TRUE(validation::IsValidUtf8(MaskName(n))) << n;
  }
  EXPECT_EQ(MaskNumber("5271011203170001"), "527101******0001");
  EXPECT_EQ(KeyedHash("k", "5271011203170001").size(), 64u);
  EXPECT_NE(KeyedHash("k1", "x"), KeyedHash("k2", "x"));
}

// Every method of every service has exactly one row, and every row names a
// method that exists with the fields it reads.
TEST(PolicyTest, CoversEveryMethodOfEveryService) {
  const google::protobuf::FileDescriptor* files[] = {
      v1::GetFamilyRequest::descriptor()->file(), v1::GetDecisionRequest::descriptor()->file(),
      v1::GetAppealRequest::descriptor()->file(), v1::GetCycleRequest::descriptor()->file(),
      v1::ListEligibleOnRequest::descriptor()->file()};
  std::set<std::string> methods;
  for (const auto* file : files) {
    ASSERT_EQ(file->service_count(), 1) << file->name();
    const auto* service = file->service(0);
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* m = service->method(i);
      const std::string name = "/" + service->full_name() + "/" + m->name();
      methods.insert(name);
      const MethodPolicy* p = FindPolicy(name);
      ASSERT_NE(p, nullptr) << name << " has no row in libs/auth/policy.cc";
      for (std::string_view field : {p->field, p->second_field}) {
        if (field.empty()) continue;
        const google::protobuf::Descriptor* d = m->input_type();
        const google::protobuf::FieldDescriptor* f = nullptr;
        for (absl::string_view part : absl::StrSplit(absl::string_view(field.data(), field.size()), '.')) {
          ASSERT_NE(d, nullptr) << name << ": " << field;
          f = d->FindFieldByName(std::string(part));
          ASSERT_NE(f, nullptr) << name << ": no field " << field;
          d = f->message_type();
        }
        EXPECT_EQ(f->type(), google::protobuf::FieldDescriptor::TYPE_STRING) << name << ": " << field;
      }
      const bool needs_field = p->scope != Scope::kGlobal;
      EXPECT_EQ(!p->field.empty(), needs_field) << name;
    }
  }
  EXPECT_EQ(methods.size(), Policies().size()) << "a row names a method no service has";
}

class GuardTest : public ::testing::Test {
 protected:
  GuardTest() : guard_(Options()) {}
  static GuardOptions Options() {
    GuardOptions o;
    o.token_key = kKey;
    static ManualClock clock(kNow + absl::Hours(9));
    o.clock = &clock;
    o.log = [](const std::string&) {};
    o.resolvers.appeal = [](std::string_view id) -> absl::StatusOr<std::optional<AppealFacts>> {
      if (id == "A1") return AppealFacts{"5271011203170001", "52.71.01.1001", "petugas-7"};
      return std::nullopt;
    };
    o.resolvers.verifier_family = [](std::string_view v, std::string_view kk) -> absl::StatusOr<bool> {
      return v == "petugas-7" && kk == "5271011203170001";
    };
    return o;
  }
  absl::Status Call(Role role, std::string region, std::string_view method, const google::protobuf::Message& req,
                    std::string subject = "someone") {
    Principal p{role, std::move(subject), std::move(region), "token"};
    const MethodPolicy* policy = FindPolicy(method);
    if (policy == nullptr) return absl::NotFoundError(std::string(method));
    std::vector<std::string> families;
    std::string reg;
    return guard_.Authorize(p, *policy, &req, &families, &reg);
  }
  Guard guard_;
};

TEST_F(GuardTest, RegionalOfficeStaysInItsRegion) {
  v1::GetFamilyRequest in, out;
  in.set_kk_number("5271011203170001");
  out.set_kk_number("5272011203170001");
  EXPECT_TRUE(Call(Role::kRegional, "52.71", "/jaring.v1.PopulationService/GetFamily", in).ok());
  const absl::Status st = Call(Role::kRegional, "52.71", "/jaring.v1.PopulationService/GetFamily", out);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(st.message(), HasSubstr("kk_number: the family is outside region 52.71"));
  EXPECT_THAT(std::string(st.message()), ::testing::Not(HasSubstr("5272011203170001")));

  v1::ListFamiliesRequest all, mine, other;
  mine.set_region_prefix("52.71.01");
  other.set_region_prefix("52.72");
  EXPECT_FALSE(Call(Role::kRegional, "52.71", "/jaring.v1.PopulationService/ListFamilies", all).ok());
  EXPECT_TRUE(Call(Role::kRegional, "52.71", "/jaring.v1.PopulationService/ListFamilies", mine).ok());
  EXPECT_FALSE(Call(Role::kRegional, "52.71", "/jaring.v1.PopulationService/ListFamilies", other).ok());
  EXPECT_TRUE(Call(Role::kOversight, "", "/jaring.v1.PopulationService/ListFamilies", all).ok());
}

TEST_F(GuardTest, VerifierSeesOnlyItsAppeals) {
  v1::GetAppealRequest a1, a2;
  a1.set_appeal_id("A1");
  a2.set_appeal_id("A2");
  EXPECT_TRUE(Call(Role::kVerifier, "", "/jaring.v1.AppealsService/GetAppeal", a1, "petugas-7").ok());
  EXPECT_FALSE(Call(Role::kVerifier, "", "/jaring.v1.AppealsService/GetAppeal", a1, "petugas-8").ok());
  EXPECT_FALSE(Call(Role::kVerifier, "", "/jaring.v1.AppealsService/GetAppeal", a2, "petugas-7").ok());
  v1::GetFamilyRequest f;
  f.set_kk_number("5271011203170001");
  EXPECT_TRUE(Call(Role::kVerifier, "", "/jaring.v1.PopulationService/GetFamily", f, "petugas-7").ok());
  EXPECT_FALSE(Call(Role::kVerifier, "", "/jaring.v1.PopulationService/GetFamily", f, "petugas-8").ok());
  v1::DecideAppealRequest d;
  d.set_appeal_id("A1");
  EXPECT_FALSE(Call(Role::kVerifier, "", "/jaring.v1.AppealsService/DecideAppeal", d, "petugas-7").ok());
}

TEST(ReadOnlyGuardTest, RefusesEveryWriteForEveryRoleAndAllowsReads) {
  GuardOptions o;
  o.token_key = kKey;
  o.read_only = "a replay as of 2026-03-01";
  o.log = [](const std::string&) {};
  Guard guard(std::move(o));
  v1::RecordBirthRequest birth;
  birth.set_kk_number("5271011203170001");
  v1::GetFamilyRequest get;
  get.set_kk_number("5271011203170001");
  for (Role role : {Role::kNational, Role::kRegional, Role::kOversight}) {
    Principal p{role, "someone", "52.71", "token"};
    const absl::Status st =
        guard.Authorize(p, *FindPolicy("/jaring.v1.PopulationService/RecordBirth"), &birth, nullptr, nullptr);
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << RoleName(role);
    EXPECT_THAT(st.message(), HasSubstr("a replay as of 2026-03-01"));
    std::vector<std::string> families;
    std::string region;
    EXPECT_TRUE(
        guard.Authorize(p, *FindPolicy("/jaring.v1.PopulationService/GetFamily"), &get, &families, &region).ok());
  }
}

TEST_F(GuardTest, PublicIsRateLimitedPerPeer) {
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guard_.TakePublicLookup("ipv4:10.0.0.1").ok());
  const absl::Status st = guard_.TakePublicLookup("ipv4:10.0.0.1");
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(guard_.TakePublicLookup("ipv4:10.0.0.2").ok());
}

TEST_F(GuardTest, AuthenticateNamesWhatIsWrong) {
  EXPECT_EQ(guard_.Authenticate("", "")->role, Role::kPublic);
  EXPECT_THAT(guard_.Authenticate("Basic abc", "").status().message(), HasSubstr("Bearer"));
  const std::string token = *MintToken(Claims(Role::kNational, "ops"), kKey);
  EXPECT_THAT(guard_.Authenticate("Bearer " + token, "").status().message(), HasSubstr("expired"));
}

}  // namespace
}  // namespace jaring::auth

namespace jaring::auth {
namespace {

TEST(PrincipalTest, ActorAndRequestScopeComeFromTheCredential) {
  const Principal regional{Role::kRegional, "dinsos-mataram", "52.71", "token"};
  const Principal national{Role::kNational, "kemensos-ops", "", "certificate"};
  const Principal verifier{Role::kVerifier, "petugas-7", "", "token"};
  EXPECT_EQ(ActorId(regional), "regional/52.71:dinsos-mataram");
  EXPECT_EQ(ActorId(national), "national:kemensos-ops");
  EXPECT_EQ(ActorId(verifier), "verifier:petugas-7");
  EXPECT_EQ(ActorId(Principal{}), "");
  EXPECT_EQ(RequestScope(regional), "regional/52.71");
  EXPECT_EQ(RequestScope(national), "");
  EXPECT_EQ(RequestScope(verifier), "verifier/petugas-7");
  EXPECT_EQ(RequestScope(Principal{}), "");
  EXPECT_EQ(ScopedRequestId("regional/52.71", "r1"), "regional/52.71/r1");
  EXPECT_EQ(ScopedRequestId("", "r1"), "r1");
}

}  // namespace
}  // namespace jaring::auth
