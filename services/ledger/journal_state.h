// The journal's state machine, built from the records of jaring.ledger.v1
// alone (docs/ledger.md, "The state machine"): the hash chain of every
// partition, every entitlement's state (created -> instructed -> paid /
// failed / returned; failed -> instructed again; one recovery claim per paid
// entitlement), every cycle's state and exports, and the balances, with the
// ledger's limits on money.
//
// The writer keeps one, rebuilt from the log at start and fed with every
// record it appends, and checks each new entry against it before appending:
// the journal refuses a second instruction or settlement whatever the store
// says. VerifyLedger replays a fresh one over the whole log and compares the
// store with it. Not thread-safe (the writer holds its mutex).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "jaring/v1/envelope.pb.h"
#include "jaring/v1/ledger_service.pb.h"
#include "services/ledger/store.h"

namespace jaring::ledger_service {

class JournalState {
 public:
  struct EntitlementState {
    std::array<char, 16> kk{};
    int64_t amount = 0;
    int32_t attempts = 0;
    int32_t cycle = 0;  // index into cycles()
    v1::EntitlementStatus status = v1::ENTITLEMENT_STATUS_CREATED;
    bool claimed = false;
    std::string reference;  // of the latest instruction
    std::string kk_number() const { return std::string(kk.data(), kk.size()); }
  };
  struct ExportState {
    std::string export_id;
    int64_t instructions = 0;
    int64_t total_amount = 0;
    int64_t recorded = 0;
    int64_t recorded_amount = 0;
    bool complete() const { return recorded == instructions && recorded_amount == total_amount; }
  };
  struct CycleState {
    std::string cycle_id;
    v1::CycleOpened opened;
    int32_t partition = 0;
    int64_t entitled_families = 0;
    int64_t entitled_amount = 0;
    bool closed = false;
    std::vector<ExportState> exports;
    bool complete() const {
      return entitled_families == opened.families() && entitled_amount == opened.total_amount();
    }
  };

  // `all_balances`: keep every account's balance (VerifyLedger); otherwise
  // the per-family accounts (payable/, recovery/) are left out, which the
  // writer never reads and which would take memory in proportion to the
  // families.
  explicit JournalState(bool all_balances = false) : all_balances_(all_balances) {}

  enum class Applied { kApplied, kDuplicate };
  // Applies one record (`bytes`, decoded as `e`) of ledger partition `p`.
  // A record whose sequence is below the partition's next is a second copy
  // of a retried append: kDuplicate, nothing changes. Otherwise every rule
  // is checked first and the state changes only when all hold; a broken
  // rule is kFailedPrecondition saying which (nothing changed).
  absl::StatusOr<Applied> Apply(int32_t p, std::string_view bytes, const v1::Envelope& e);

  const ChainHead& Head(int32_t p);
  const EntitlementState* Entitlement(std::string_view id) const;
  const CycleState* Cycle(std::string_view cycle_id) const;
  const std::vector<CycleState>& cycles() const { return cycles_; }
  // The balance as the journal gives it (0 for an account never posted to,
  // or a per-family account when not all_balances).
  int64_t Balance(std::string_view account) const;
  const std::map<std::string, int64_t, std::less<>>& balances() const { return balances_; }
  int64_t entitlements() const { return static_cast<int64_t>(entitlements_.size()); }
  // The next offset to read, per partition (a reader resumes there).
  std::map<int32_t, int64_t>& next_offsets() { return next_offsets_; }

  // How an entitlement's stored copy (services/ledger/store.cc) disagrees
  // with this state; empty when it agrees.
  std::string Disagreement(const v1::Entitlement& stored) const;

 private:
  absl::Status Check(int32_t p, const v1::Envelope& e) const;

  const bool all_balances_;
  std::map<int32_t, ChainHead> heads_;
  absl::flat_hash_map<std::string, EntitlementState> entitlements_;
  std::vector<CycleState> cycles_;
  absl::flat_hash_map<std::string, int32_t> cycle_index_;
  std::map<std::string, int64_t, std::less<>> balances_;
  std::map<int32_t, int64_t> next_offsets_;
};

// "created", "instructed", ...
std::string StatusWord(v1::EntitlementStatus s);

}  // namespace jaring::ledger_service
