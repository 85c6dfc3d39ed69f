// The ledger service's projection. It reads jaring.population.v1 (each
// family's events, to know who was alive at a cycle's cutoff and to notice
// late deaths), jaring.eligibility.v1 (every recorded decision, to pin a
// cycle's entitlements at its cutoff) and jaring.ledger.v1 (its own journal:
// balances, cycles, entitlements, payments, claims, and the hash chain,
// checked link by link as it is applied).
//
// Key layout (docs/formats/ledger-store.md):
//   f/<kk>                                  v1::Family (current)
//   ft/<kk>                                 v1::FamilyTimeline (its h/ keys)
//   h/<kk>/<BE32 p><BE64 o>                 the family's population envelopes
//   i/<event id>                            "" or the h/ key (drops duplicates)
//   c/<BE32 p><BE64 o>                      <kk>: a death to check for overpayments
//   d/<program>/<kk>/<BE64 recorded ms><BE64 version>   EligibilityDecided envelope
//   j/<BE32 p>/<BE64 sequence>              the journal record's bytes
//   jh/<BE32 p>                             chain head: BE64 next sequence, 32-byte hash
//   a/<account>                             BE64 balance (two's complement)
//   y/<cycle id>                            v1::GetCycleResponse (the cycle's state)
//   yl/<cycle id>/<BE64 leaf index>         32-byte leaf hash of one of its entries
//   ye/<cycle id>/<kk>                      entitlement id
//   e/<entitlement id>                      v1::Entitlement
//   fe/<kk>/<entitlement id>                ""
//   ref/<reference>                         entitlement id
//   rc/<claim id>                           v1::RecoveryClaimRaised
//   rcf/<kk>/<claim id>                     ""
//   x/<export id>                           its cycle id
//   xi/<export id>/<BE64 line index>        j/ key of the line's PaymentInstructed
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "jaring/v1/envelope.pb.h"
#include "jaring/v1/ledger_service.pb.h"
#include "libs/family/fold.h"
#include "libs/ledger/merkle.h"
#include "libs/projection/projection.h"

namespace rocksdb {
class DB;
}

namespace jaring::ledger_service {

namespace keys {
std::string Family(std::string_view kk);
std::string Timeline(std::string_view kk);
std::string HistoryPrefix(std::string_view kk);
std::string History(std::string_view kk, int32_t partition, int64_t offset);
std::string EventSeen(std::string_view event_id);
inline constexpr std::string_view kDeathPrefix = "c/";
std::string Death(int32_t partition, int64_t offset);
std::string DecisionPrefix(std::string_view program);
std::string Decision(std::string_view program, std::string_view kk, int64_t recorded_ms, int64_t version);
std::string JournalPrefix(int32_t partition);
std::string Journal(int32_t partition, int64_t sequence);
std::string Head(int32_t partition);
std::string Account(std::string_view account);
inline constexpr std::string_view kAccountPrefix = "a/";
std::string Cycle(std::string_view cycle_id);
std::string LeafPrefix(std::string_view cycle_id);
std::string Leaf(std::string_view cycle_id, int64_t index);
std::string CycleFamilyPrefix(std::string_view cycle_id);
std::string CycleFamily(std::string_view cycle_id, std::string_view kk);
std::string Entitlement(std::string_view id);
std::string FamilyEntitlementPrefix(std::string_view kk);
std::string FamilyEntitlement(std::string_view kk, std::string_view id);
std::string Reference(std::string_view reference);
inline constexpr std::string_view kClaimPrefix = "rc/";
std::string Claim(std::string_view claim_id);
std::string FamilyClaimPrefix(std::string_view kk);
std::string FamilyClaim(std::string_view kk, std::string_view claim_id);
std::string Export(std::string_view export_id);
std::string ExportLinePrefix(std::string_view export_id);
std::string ExportLine(std::string_view export_id, int64_t index);
}  // namespace keys

// Account names (docs/ledger.md).
namespace accounts {
std::string Funding(std::string_view program, std::string_view period);
std::string Budget(std::string_view program, std::string_view region_prefix, std::string_view period);
std::string Payable(std::string_view program, std::string_view period, std::string_view kk);
std::string Clearing(v1::PaymentChannel channel, std::string_view cycle_id);
std::string Paid(std::string_view program, std::string_view region_prefix, std::string_view period);
std::string Recovery(std::string_view program, std::string_view kk);
std::string Overpayment(std::string_view program, std::string_view region_prefix, std::string_view period);
}  // namespace accounts

// The chain head of a partition: the next sequence and H(last record).
struct ChainHead {
  int64_t next_sequence = 0;
  ledger::Hash hash{};
};
std::string EncodeHead(const ChainHead& h);
std::optional<ChainHead> DecodeHead(std::string_view bytes);

class LedgerApplier final : public projection::Applier {
 public:
  absl::Status Apply(const projection::Event& event, projection::Batch& batch) override;

 private:
  absl::Status ApplyPopulation(const projection::Event& event, projection::Batch& batch);
  absl::Status ApplyDecision(const projection::Event& event, projection::Batch& batch);
  absl::Status ApplyJournal(const projection::Event& event, projection::Batch& batch);
};

// Reads one value; nullopt when absent.
absl::StatusOr<std::optional<std::string>> Read(rocksdb::DB* db, std::string_view key);

// The family's population events, only those recorded at or before
// `known_at_ms` when given.
absl::StatusOr<std::vector<family::FamilyEvent>> FamilyEvents(rocksdb::DB* db, std::string_view kk,
                                                              std::optional<int64_t> known_at_ms);

// Whether the family had a living member at `at_ms`, as known at `known_ms`.
absl::StatusOr<bool> HadLivingMember(rocksdb::DB* db, std::string_view kk, int64_t at_ms, int64_t known_ms);

int64_t DecodeBalance(std::string_view bytes);

// Checked money (docs/ledger.md, "Amounts"). Every posting's amount is at
// most kMaxPosting in magnitude (Rp1.000.000.000.000.000, a thousand
// trillion: above any one year's national budget), every account's balance
// at most kMaxBalance (a hundred times that), both far below 2^63, so no sum
// the ledger forms can wrap.
inline constexpr int64_t kMaxPosting = 1'000'000'000'000'000;
inline constexpr int64_t kMaxBalance = 100 * kMaxPosting;
// a + b, refused (kFailedPrecondition naming `what`) when the result is
// beyond +-limit or the addition would overflow.
absl::StatusOr<int64_t> AddMoney(int64_t a, int64_t b, int64_t limit, std::string_view what);

// Every posting within kMaxPosting and the entry summing to zero;
// kDataLoss naming the posting otherwise.
absl::Status CheckPostings(const v1::LedgerEntry& le);

// Whether every entitlement the cycle's CycleOpened announced is on the
// journal. (Cycles applied before entitled_families was counted have it 0
// and are complete when their amounts agree.)
bool CycleComplete(const v1::GetCycleResponse& c);

// The id of the one recovery claim an entitlement can have (derived, so a
// claim is never raised twice).
std::string RecoveryClaimId(std::string_view entitlement_id);

}  // namespace jaring::ledger_service
