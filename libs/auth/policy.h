// Who may call which RPC: one row per method of every Jaring service. The
// guard (guard.h) applies it to every call; tests/auth_table_test.cc holds
// an independent table of expectations and calls every RPC as every role.
//
//   national   every method
//   oversight  every read (any region); no write
//   regional   reads and writes whose scope lies within its region prefix;
//              not the national-only writes (rule sets, appeal policy)
//   verifier   its assigned appeals and the families in them
//   public     LookupFamilyStatus only (rate limited)
#pragma once

#include <span>
#include <string_view>

#include "libs/auth/principal.h"

namespace jaring::auth {

enum class Access { kRead, kWrite };

// What part of the population a call touches, found in its request.
enum class Scope {
  // Nothing regional (rule sets, policies, ledger checks).
  kGlobal,
  // A region-code prefix field; a regional office must give one within its
  // own ("" means every region).
  kRegionField,
  // KK number fields: every non-empty one must be in the principal's
  // region (or, for a verifier, in one of its appeals).
  kFamilyField,
  // A NIK field: the member's current family decides.
  kMemberField,
  // An appeal id field: the appeal's family and verifier decide.
  kAppealField,
  // A cycle id field: the cycle's region prefix decides.
  kCycleField,
  // The public status lookup: anyone, the public rate limited; the service
  // checks the KK number and NIK belong together.
  kPublicLookup,
};

struct MethodPolicy {
  // The full gRPC method name: "/jaring.v1.PopulationService/GetFamily".
  std::string_view method;
  Access access;
  Scope scope;
  // Request fields holding the scope (dotted paths into nested messages:
  // "family.kk_number"); unused for kGlobal and kPublicLookup.
  std::string_view field = {};
  std::string_view second_field = {};
  // Regional offices may call it (within scope). False for national-only
  // writes and reads that span regions by nature.
  bool regional = true;
  // Field verifiers may call it for their assigned appeals' families.
  bool verifier = false;
  // An allowed call reads a family's data: it is recorded on
  // jaring.access.v1 (FamilyDataAccessed).
  bool family_data = false;
};

// Every row; one per method of the four services.
std::span<const MethodPolicy> Policies();

// The row of a full method name, or null (a Jaring method without a row is
// refused; other services, such as health checking and reflection, pass).
const MethodPolicy* FindPolicy(std::string_view method);

// Whether the method is one of Jaring's ("/jaring.").
bool IsJaringMethod(std::string_view method);

}  // namespace jaring::auth
