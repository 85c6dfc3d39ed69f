#include "services/ledger/journal_state.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/ledger/chain.h"

namespace jaring::ledger_service {
namespace {

bool PerFamily(std::string_view account) {
  return absl::StartsWith(Av(account), "payable/") || absl::StartsWith(Av(account), "recovery/");
}

absl::Status Refused(std::string what) { return absl::FailedPreconditionError(std::move(what)); }

}  // namespace

std::string StatusWord(v1::EntitlementStatus s) {
  std::string name = v1::EntitlementStatus_Name(s);
  constexpr std::string_view kPrefix = "ENTITLEMENT_STATUS_";
  if (absl::StartsWith(name, Av(kPrefix))) name = name.substr(kPrefix.size());
  return absl::AsciiStrToLower(name);
}

const ChainHead& JournalState::Head(int32_t p) { return heads_[p]; }

const JournalState::EntitlementState* JournalState::Entitlement(std::string_view id) const {
  auto it = entitlements_.find(Av(id));
  return it == entitlements_.end() ? nullptr : &it->second;
}

const JournalState::CycleState* JournalState::Cycle(std::string_view cycle_id) const {
  auto it = cycle_index_.find(Av(cycle_id));
  return it == cycle_index_.end() ? nullptr : &cycles_[it->second];
}

int64_t JournalState::Balance(std::string_view account) const {
  auto it = balances_.find(account);
  return it == balances_.end() ? 0 : it->second;
}

absl::Status JournalState::Check(int32_t p, const v1::Envelope& e) const {
  if (!e.has_ledger_entry()) return Refused(absl::StrCat("a ", e.payload_case(), " payload is not a ledger entry"));
  const v1::LedgerEntry& le = e.ledger_entry();
  auto head_it = heads_.find(p);
  const ChainHead head = head_it == heads_.end() ? ChainHead{} : head_it->second;
  if (le.sequence() != head.next_sequence) {
    return Refused(absl::StrCat("chain broken: sequence ", le.sequence(), " where ", head.next_sequence,
                                " was expected"));
  }
  if (le.previous_hash() != ledger::AsBytes(head.hash)) {
    return Refused(absl::StrCat("chain broken: previous_hash does not match the chain at sequence ", le.sequence()));
  }
  if (absl::Status st = CheckPostings(le); !st.ok()) return Refused(std::string(st.message()));
  // Checked money: no balance beyond the limit, no sum wrapping.
  std::map<std::string_view, int64_t> after;
  for (const v1::Posting& posting : le.postings()) {
    if (!all_balances_ && PerFamily(posting.account())) continue;
    auto it = after.find(posting.account());
    const int64_t before = it != after.end() ? it->second : Balance(posting.account());
    absl::StatusOr<int64_t> sum =
        AddMoney(before, posting.amount(), kMaxBalance, absl::StrCat("account ", posting.account()));
    if (!sum.ok()) return Refused(std::string(sum.status().message()));
    after[posting.account()] = *sum;
  }

  const CycleState* cycle = nullptr;
  if (!le.cycle_id().empty()) {
    cycle = Cycle(le.cycle_id());
    if (cycle == nullptr && !le.has_cycle_opened()) {
      return Refused(absl::StrCat("entry of cycle ", le.cycle_id(), ", which was never opened"));
    }
  }
  auto not_closed = [&]() -> absl::Status {
    if (cycle->closed) return Refused(absl::StrCat("cycle ", cycle->cycle_id, " is closed"));
    return absl::OkStatus();
  };
  auto entitlement = [&](std::string_view id) -> absl::StatusOr<const EntitlementState*> {
    const EntitlementState* ent = Entitlement(id);
    if (ent == nullptr) return Refused(absl::StrCat("entitlement ", Av(id), " was never created"));
    if (cycle == nullptr || cycles_[ent->cycle].cycle_id != cycle->cycle_id) {
      return Refused(absl::StrCat("entitlement ", Av(id), " belongs to cycle ", cycles_[ent->cycle].cycle_id));
    }
    return ent;
  };
  auto instructed = [&](std::string_view id, std::string_view reference, int64_t amount,
                        std::string_view what) -> absl::Status {
    JARING_ASSIGN_OR_RETURN(const EntitlementState* ent, entitlement(id));
    if (ent->status != v1::ENTITLEMENT_STATUS_INSTRUCTED) {
      return Refused(absl::StrCat(Av(what), " of entitlement ", Av(id), ", which is ", StatusWord(ent->status),
                                  ", not instructed"));
    }
    if (ent->reference != reference) {
      return Refused(absl::StrCat(Av(what), " of entitlement ", Av(id), " under reference ", Av(reference),
                                  ", not its latest instruction ", ent->reference));
    }
    if (amount != ent->amount) {
      return Refused(absl::StrCat(Av(what), " of ", amount, " rupiah for an entitlement of ", ent->amount));
    }
    return absl::OkStatus();
  };

  switch (le.kind_case()) {
    case v1::LedgerEntry::kBudgetAllocated:
      return absl::OkStatus();
    case v1::LedgerEntry::kCycleOpened:
      if (cycle != nullptr) return Refused(absl::StrCat("cycle ", le.cycle_id(), " opened a second time"));
      if (le.cycle_id().empty()) return Refused("CycleOpened without a cycle id");
      return absl::OkStatus();
    case v1::LedgerEntry::kEntitlementCreated: {
      const v1::EntitlementCreated& c = le.entitlement_created();
      JARING_RETURN_IF_ERROR(not_closed());
      if (Entitlement(c.entitlement_id()) != nullptr) {
        return Refused(absl::StrCat("entitlement ", c.entitlement_id(), " created a second time"));
      }
      if (c.kk_number().size() != 16) return Refused(absl::StrCat("entitlement ", c.entitlement_id(), ": KK number is not 16 digits"));
      if (c.amount() <= 0) return Refused(absl::StrCat("entitlement ", c.entitlement_id(), " of ", c.amount(), " rupiah"));
      if (cycle->entitled_families + 1 > cycle->opened.families() ||
          cycle->entitled_amount + c.amount() > cycle->opened.total_amount()) {
        return Refused(absl::StrCat("entitlement ", c.entitlement_id(), " is beyond what cycle ", cycle->cycle_id,
                                    " announced (", cycle->opened.families(), " families, ",
                                    cycle->opened.total_amount(), " rupiah)"));
      }
      return absl::OkStatus();
    }
    case v1::LedgerEntry::kExportRecorded: {
      const v1::ExportRecorded& x = le.export_recorded();
      JARING_RETURN_IF_ERROR(not_closed());
      if (!cycle->complete()) return Refused(absl::StrCat("export of incomplete cycle ", cycle->cycle_id));
      if (!cycle->exports.empty() && !cycle->exports.back().complete()) {
        return Refused(absl::StrCat("export ", x.export_id(), " while export ", cycle->exports.back().export_id,
                                    " is incomplete"));
      }
      for (const ExportState& had : cycle->exports) {
        if (had.export_id == x.export_id()) return Refused(absl::StrCat("export ", x.export_id(), " recorded twice"));
      }
      if (x.number() != static_cast<int32_t>(cycle->exports.size()) + 1) {
        return Refused(absl::StrCat("export ", x.export_id(), " numbered ", x.number(), " where ",
                                    cycle->exports.size() + 1, " was expected"));
      }
      if (x.instructions() <= 0 || x.total_amount() <= 0) return Refused(absl::StrCat("export ", x.export_id(), " is empty"));
      return absl::OkStatus();
    }
    case v1::LedgerEntry::kPaymentInstructed: {
      const v1::PaymentInstructed& i = le.payment_instructed();
      JARING_RETURN_IF_ERROR(not_closed());
      JARING_ASSIGN_OR_RETURN(const EntitlementState* ent, entitlement(i.entitlement_id()));
      if (ent->status != v1::ENTITLEMENT_STATUS_CREATED && ent->status != v1::ENTITLEMENT_STATUS_FAILED) {
        return Refused(absl::StrCat("a second instruction of entitlement ", i.entitlement_id(), ", which is ",
                                    StatusWord(ent->status)));
      }
      if (i.attempt() != ent->attempts + 1) {
        return Refused(absl::StrCat("instruction attempt ", i.attempt(), " of entitlement ", i.entitlement_id(),
                                    " where ", ent->attempts + 1, " was expected"));
      }
      if (i.amount() != ent->amount) {
        return Refused(absl::StrCat("instruction of ", i.amount(), " rupiah for entitlement ", i.entitlement_id(),
                                    " of ", ent->amount));
      }
      if (!i.export_id().empty()) {
        const ExportState* x = cycle->exports.empty() ? nullptr : &cycle->exports.back();
        if (x == nullptr || x->export_id != i.export_id()) {
          return Refused(absl::StrCat("instruction in export ", i.export_id(), ", which is not the cycle's latest"));
        }
        if (x->recorded + 1 > x->instructions || x->recorded_amount + i.amount() > x->total_amount) {
          return Refused(absl::StrCat("instruction beyond what export ", i.export_id(), " announced"));
        }
      }
      return absl::OkStatus();
    }
    case v1::LedgerEntry::kPaymentSettled:
      JARING_RETURN_IF_ERROR(not_closed());
      return instructed(le.payment_settled().entitlement_id(), le.payment_settled().reference(),
                        le.payment_settled().amount(), "settlement");
    case v1::LedgerEntry::kPaymentFailed:
      JARING_RETURN_IF_ERROR(not_closed());
      return instructed(le.payment_failed().entitlement_id(), le.payment_failed().reference(),
                        le.payment_failed().amount(), "failure");
    case v1::LedgerEntry::kPaymentReturned:
      JARING_RETURN_IF_ERROR(not_closed());
      return instructed(le.payment_returned().entitlement_id(), le.payment_returned().reference(),
                        le.payment_returned().amount(), "return");
    case v1::LedgerEntry::kRecoveryClaimRaised: {
      const v1::RecoveryClaimRaised& c = le.recovery_claim_raised();
      JARING_ASSIGN_OR_RETURN(const EntitlementState* ent, entitlement(c.entitlement_id()));
      if (ent->status != v1::ENTITLEMENT_STATUS_PAID) {
        return Refused(absl::StrCat("recovery claim on entitlement ", c.entitlement_id(), ", which is ",
                                    StatusWord(ent->status), ", not paid"));
      }
      if (ent->claimed) return Refused(absl::StrCat("a second recovery claim on entitlement ", c.entitlement_id()));
      if (c.amount() != ent->amount) {
        return Refused(absl::StrCat("recovery claim of ", c.amount(), " rupiah for a payment of ", ent->amount));
      }
      return absl::OkStatus();
    }
    case v1::LedgerEntry::kCycleClosed:
      JARING_RETURN_IF_ERROR(not_closed());
      if (!cycle->complete()) return Refused(absl::StrCat("close of incomplete cycle ", cycle->cycle_id));
      return absl::OkStatus();
    case v1::LedgerEntry::KIND_NOT_SET:
      return Refused("ledger entry without a kind");
  }
  return Refused("unknown kind of ledger entry");
}

absl::StatusOr<JournalState::Applied> JournalState::Apply(int32_t p, std::string_view bytes, const v1::Envelope& e) {
  if (e.has_ledger_entry() && e.ledger_entry().sequence() < heads_[p].next_sequence) return Applied::kDuplicate;
  JARING_RETURN_IF_ERROR(Check(p, e));
  const v1::LedgerEntry& le = e.ledger_entry();
  ChainHead& head = heads_[p];
  head.hash = ledger::ChainHash(head.hash, bytes);
  head.next_sequence++;
  for (const v1::Posting& posting : le.postings()) {
    if (!all_balances_ && PerFamily(posting.account())) continue;
    balances_[posting.account()] += posting.amount();  // checked above
  }
  CycleState* cycle = nullptr;
  if (!le.cycle_id().empty() && !le.has_cycle_opened()) cycle = &cycles_[cycle_index_.at(le.cycle_id())];
  auto ent = [&](const std::string& id) -> EntitlementState& { return entitlements_.find(id)->second; };
  switch (le.kind_case()) {
    case v1::LedgerEntry::kCycleOpened: {
      cycle_index_[le.cycle_id()] = static_cast<int32_t>(cycles_.size());
      CycleState& c = cycles_.emplace_back();
      c.cycle_id = le.cycle_id();
      c.opened = le.cycle_opened();
      c.partition = p;
      break;
    }
    case v1::LedgerEntry::kEntitlementCreated: {
      const v1::EntitlementCreated& c = le.entitlement_created();
      EntitlementState& s = entitlements_[c.entitlement_id()];
      std::copy_n(c.kk_number().data(), 16, s.kk.data());
      s.amount = c.amount();
      s.cycle = cycle_index_.at(le.cycle_id());
      cycle->entitled_families++;
      cycle->entitled_amount += c.amount();
      break;
    }
    case v1::LedgerEntry::kExportRecorded: {
      ExportState& x = cycle->exports.emplace_back();
      x.export_id = le.export_recorded().export_id();
      x.instructions = le.export_recorded().instructions();
      x.total_amount = le.export_recorded().total_amount();
      break;
    }
    case v1::LedgerEntry::kPaymentInstructed: {
      const v1::PaymentInstructed& i = le.payment_instructed();
      EntitlementState& s = ent(i.entitlement_id());
      s.status = v1::ENTITLEMENT_STATUS_INSTRUCTED;
      s.attempts = i.attempt();
      s.reference = i.reference();
      if (!i.export_id().empty()) {
        cycle->exports.back().recorded++;
        cycle->exports.back().recorded_amount += i.amount();
      }
      break;
    }
    case v1::LedgerEntry::kPaymentSettled:
      ent(le.payment_settled().entitlement_id()).status = v1::ENTITLEMENT_STATUS_PAID;
      break;
    case v1::LedgerEntry::kPaymentFailed:
      ent(le.payment_failed().entitlement_id()).status = v1::ENTITLEMENT_STATUS_FAILED;
      break;
    case v1::LedgerEntry::kPaymentReturned:
      ent(le.payment_returned().entitlement_id()).status = v1::ENTITLEMENT_STATUS_RETURNED;
      break;
    case v1::LedgerEntry::kRecoveryClaimRaised:
      ent(le.recovery_claim_raised().entitlement_id()).claimed = true;
      break;
    case v1::LedgerEntry::kCycleClosed:
      cycle->closed = true;
      break;
    default:
      break;
  }
  return Applied::kApplied;
}

std::string JournalState::Disagreement(const v1::Entitlement& stored) const {
  const std::string& id = stored.created().entitlement_id();
  const EntitlementState* s = Entitlement(id);
  if (s == nullptr) return absl::StrCat("entitlement ", id, " is in the store but not on the journal");
  if (stored.status() != s->status) {
    return absl::StrCat("entitlement ", id, ": the store says ", StatusWord(stored.status()), ", the journal ",
                        StatusWord(s->status));
  }
  if (stored.attempts() != s->attempts || stored.reference() != s->reference) {
    return absl::StrCat("entitlement ", id, ": the store's latest instruction (", stored.reference(), ", attempt ",
                        stored.attempts(), ") differs from the journal's (", s->reference, ", attempt ", s->attempts,
                        ")");
  }
  if (stored.created().amount() != s->amount || stored.created().kk_number() != s->kk_number() ||
      stored.cycle_id() != cycles_[s->cycle].cycle_id) {
    return absl::StrCat("entitlement ", id, ": the store's family, amount or cycle differs from the journal's");
  }
  return "";
}

}  // namespace jaring::ledger_service
