#include "libs/auth/policy.h"

#include <array>

namespace jaring::auth {
namespace {

constexpr Access R = Access::kRead;
constexpr Access W = Access::kWrite;

#define P "/jaring.v1.PopulationService/"
#define E "/jaring.v1.EligibilityService/"
#define A "/jaring.v1.AppealsService/"
#define L "/jaring.v1.LedgerService/"
#define U "/jaring.v1.AuditService/"

// clang-format off
constexpr std::array kPolicies = {
    // Population: commands name the families they change.
    MethodPolicy{P "RegisterFamily", W, Scope::kFamilyField, "family.kk_number"},
    MethodPolicy{P "RecordBirth", W, Scope::kFamilyField, "kk_number"},
    MethodPolicy{P "RecordDeath", W, Scope::kFamilyField, "kk_number"},
    MethodPolicy{P "MoveMember", W, Scope::kFamilyField, "from_kk_number", "to_kk_number"},
    MethodPolicy{P "SplitFamily", W, Scope::kFamilyField, "kk_number", "new_kk_number"},
    MethodPolicy{P "ChangeHead", W, Scope::kFamilyField, "kk_number"},
    MethodPolicy{P "RecordWelfareAssessment", W, Scope::kFamilyField, "kk_number"},
    MethodPolicy{P "ChangeMemberAttributes", W, Scope::kFamilyField, "kk_number"},
    MethodPolicy{P "CorrectRecord", W, Scope::kFamilyField, "kk_number"},
    MethodPolicy{P "Import", W, Scope::kFamilyField, "family.family.kk_number"},
    MethodPolicy{P "GetFamily", R, Scope::kFamilyField, "kk_number", {}, true, true, true},
    MethodPolicy{P "GetMember", R, Scope::kMemberField, "nik", {}, true, false, true},
    MethodPolicy{P "ListFamilies", R, Scope::kRegionField, "region_prefix", {}, true, false, true},
    MethodPolicy{P "GetFamilyHistory", R, Scope::kFamilyField, "kk_number", {}, true, true, true},
    MethodPolicy{P "ListOverlapFindings", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{P "ListAccessRecords", R, Scope::kGlobal, {}, {}, false},
    // Eligibility: rule sets are national; decisions are per family.
    MethodPolicy{E "PublishRuleSet", W, Scope::kGlobal, {}, {}, false},
    MethodPolicy{E "ListRuleSets", R, Scope::kGlobal},
    MethodPolicy{E "GetDecision", R, Scope::kFamilyField, "kk_number", {}, true, true, true},
    MethodPolicy{E "GetDecisionHistory", R, Scope::kFamilyField, "kk_number", {}, true, true, true},
    MethodPolicy{E "ListBeneficiaries", R, Scope::kRegionField, "region_prefix", {}, true, false, true},
    MethodPolicy{E "ListDecileMovements", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{E "ListEligibilityRisks", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{E "Simulate", R, Scope::kRegionField, "region_prefix"},
    // Appeals.
    MethodPolicy{A "FileAppeal", W, Scope::kFamilyField, "kk_number"},
    MethodPolicy{A "AssignAppeal", W, Scope::kAppealField, "appeal_id"},
    MethodPolicy{A "RecordVerification", W, Scope::kAppealField, "appeal_id", {}, true, true},
    MethodPolicy{A "DecideAppeal", W, Scope::kAppealField, "appeal_id"},
    MethodPolicy{A "CloseAppeal", W, Scope::kAppealField, "appeal_id"},
    MethodPolicy{A "WithdrawAppeal", W, Scope::kAppealField, "appeal_id"},
    MethodPolicy{A "SetAppealPolicy", W, Scope::kGlobal, {}, {}, false},
    MethodPolicy{A "OpenObjectionWindow", W, Scope::kRegionField, "region_prefix"},
    MethodPolicy{A "GetAppeal", R, Scope::kAppealField, "appeal_id", {}, true, true, true},
    MethodPolicy{A "ListFamilyAppeals", R, Scope::kFamilyField, "kk_number", {}, true, true, true},
    MethodPolicy{A "ListWorkQueue", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{A "ListBreaches", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{A "GetAppealStats", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{A "ListObjectionWindows", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{A "LookupFamilyStatus", R, Scope::kPublicLookup, "kk_number", {}, true, true, true},
    // Ledger: budgets and cycles carry a region prefix ("" is national).
    MethodPolicy{L "AllocateBudget", W, Scope::kRegionField, "region_prefix"},
    MethodPolicy{L "OpenCycle", W, Scope::kRegionField, "region_prefix"},
    MethodPolicy{L "ExportInstructions", W, Scope::kCycleField, "cycle_id", {}, true, false, true},
    MethodPolicy{L "FetchExport", W, Scope::kCycleField, "cycle_id", {}, true, false, true},
    MethodPolicy{L "ImportStatement", W, Scope::kCycleField, "cycle_id"},
    MethodPolicy{L "CloseCycle", W, Scope::kCycleField, "cycle_id"},
    MethodPolicy{L "GetCycle", R, Scope::kCycleField, "cycle_id"},
    MethodPolicy{L "ListAccounts", R, Scope::kGlobal, {}, {}, false},
    MethodPolicy{L "GetFamilyLedger", R, Scope::kFamilyField, "kk_number", {}, true, true, true},
    MethodPolicy{L "ListRecoveryClaims", R, Scope::kRegionField, "region_prefix"},
    MethodPolicy{L "GetInclusionProof", R, Scope::kFamilyField, "kk_number", {}, true, false, true},
    MethodPolicy{L "VerifyLedger", R, Scope::kGlobal, {}, {}, false},
    // Audit: reads over a region's families (a regional office audits its
    // own prefix); listings of families are recorded as reads of the region.
    MethodPolicy{U "GetAuditSource", R, Scope::kGlobal},
    MethodPolicy{U "ListEligibleOn", R, Scope::kRegionField, "region_prefix", {}, true, false, true},
    MethodPolicy{U "ListEligibilityChanges", R, Scope::kRegionField, "region_prefix", {}, true, false, true},
    MethodPolicy{U "ListPaymentsWithoutLivingMember", R, Scope::kRegionField, "region_prefix", {}, true, false, true},
    MethodPolicy{U "ListPeopleInTwoPlaces", R, Scope::kRegionField, "region_prefix", {}, true, false, true},
    MethodPolicy{U "ListCycleDiscrepancies", R, Scope::kRegionField, "region_prefix"},
};
// clang-format on

#undef P
#undef E
#undef A
#undef L
#undef U

}  // namespace

std::span<const MethodPolicy> Policies() { return kPolicies; }

const MethodPolicy* FindPolicy(std::string_view method) {
  for (const MethodPolicy& p : kPolicies) {
    if (p.method == method) return &p;
  }
  return nullptr;
}

bool IsJaringMethod(std::string_view method) { return method.substr(0, 8) == "/jaring."; }

}  // namespace jaring::auth
