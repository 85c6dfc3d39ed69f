#include "services/ledger/store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/coding.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/family/batch_fold.h"
#include "libs/ledger/chain.h"
#include "rocksdb/db.h"
#include "libs/projection/rocks_error.h"

namespace jaring::ledger_service {

namespace {
std::string WithPosition(std::string prefix, int32_t partition, int64_t offset) {
  PutFixed32BE(&prefix, static_cast<uint32_t>(partition));
  PutFixed64BE(&prefix, static_cast<uint64_t>(offset));
  return prefix;
}
std::string ChannelName(v1::PaymentChannel c) {
  switch (c) {
    case v1::PAYMENT_CHANNEL_BANK:
      return "bank";
    case v1::PAYMENT_CHANNEL_POST:
      return "post";
    default:
      return "unspecified";
  }
}
}  // namespace

namespace keys {
std::string Family(std::string_view kk) { return absl::StrCat("f/", Av(kk)); }
std::string Timeline(std::string_view kk) { return absl::StrCat("ft/", Av(kk)); }
std::string HistoryPrefix(std::string_view kk) { return absl::StrCat("h/", Av(kk), "/"); }
std::string History(std::string_view kk, int32_t partition, int64_t offset) {
  return WithPosition(HistoryPrefix(kk), partition, offset);
}
std::string EventSeen(std::string_view event_id) { return absl::StrCat("i/", Av(event_id)); }
std::string Death(int32_t partition, int64_t offset) { return WithPosition(std::string(kDeathPrefix), partition, offset); }
std::string DecisionPrefix(std::string_view program) { return absl::StrCat("d/", Av(program), "/"); }
std::string Decision(std::string_view program, std::string_view kk, int64_t recorded_ms, int64_t version) {
  std::string k = absl::StrCat("d/", Av(program), "/", Av(kk), "/");
  PutFixed64BE(&k, static_cast<uint64_t>(recorded_ms));
  PutFixed64BE(&k, static_cast<uint64_t>(version));
  return k;
}
std::string JournalPrefix(int32_t partition) {
  std::string k = "j/";
  PutFixed32BE(&k, static_cast<uint32_t>(partition));
  k.push_back('/');
  return k;
}
std::string Journal(int32_t partition, int64_t sequence) {
  std::string k = JournalPrefix(partition);
  PutFixed64BE(&k, static_cast<uint64_t>(sequence));
  return k;
}
std::string Head(int32_t partition) {
  std::string k = "jh/";
  PutFixed32BE(&k, static_cast<uint32_t>(partition));
  return k;
}
std::string Account(std::string_view account) { return absl::StrCat(Av(kAccountPrefix), Av(account)); }
std::string Cycle(std::string_view cycle_id) { return absl::StrCat("y/", Av(cycle_id)); }
std::string LeafPrefix(std::string_view cycle_id) { return absl::StrCat("yl/", Av(cycle_id), "/"); }
std::string Leaf(std::string_view cycle_id, int64_t index) {
  std::string k = LeafPrefix(cycle_id);
  PutFixed64BE(&k, static_cast<uint64_t>(index));
  return k;
}
std::string CycleFamilyPrefix(std::string_view cycle_id) { return absl::StrCat("ye/", Av(cycle_id), "/"); }
std::string CycleFamily(std::string_view cycle_id, std::string_view kk) {
  return absl::StrCat("ye/", Av(cycle_id), "/", Av(kk));
}
std::string Entitlement(std::string_view id) { return absl::StrCat("e/", Av(id)); }
std::string FamilyEntitlementPrefix(std::string_view kk) { return absl::StrCat("fe/", Av(kk), "/"); }
std::string FamilyEntitlement(std::string_view kk, std::string_view id) {
  return absl::StrCat("fe/", Av(kk), "/", Av(id));
}
std::string Reference(std::string_view reference) { return absl::StrCat("ref/", Av(reference)); }
std::string Claim(std::string_view claim_id) { return absl::StrCat(Av(kClaimPrefix), Av(claim_id)); }
std::string FamilyClaimPrefix(std::string_view kk) { return absl::StrCat("rcf/", Av(kk), "/"); }
std::string FamilyClaim(std::string_view kk, std::string_view claim_id) {
  return absl::StrCat("rcf/", Av(kk), "/", Av(claim_id));
}
std::string Export(std::string_view export_id) { return absl::StrCat("x/", Av(export_id)); }
std::string ExportLinePrefix(std::string_view export_id) { return absl::StrCat("xi/", Av(export_id), "/"); }
std::string ExportLine(std::string_view export_id, int64_t index) {
  std::string k = ExportLinePrefix(export_id);
  PutFixed64BE(&k, static_cast<uint64_t>(index));
  return k;
}
}  // namespace keys

namespace accounts {
std::string Funding(std::string_view program, std::string_view period) {
  return absl::StrCat("funding/", Av(program), "/", Av(period));
}
std::string Budget(std::string_view program, std::string_view region_prefix, std::string_view period) {
  return absl::StrCat("budget/", Av(program), "/", Av(region_prefix), "/", Av(period));
}
std::string Payable(std::string_view program, std::string_view period, std::string_view kk) {
  return absl::StrCat("payable/", Av(program), "/", Av(period), "/", Av(kk));
}
std::string Clearing(v1::PaymentChannel channel, std::string_view cycle_id) {
  return absl::StrCat("clearing/", ChannelName(channel), "/", Av(cycle_id));
}
std::string Paid(std::string_view program, std::string_view region_prefix, std::string_view period) {
  return absl::StrCat("paid/", Av(program), "/", Av(region_prefix), "/", Av(period));
}
std::string Recovery(std::string_view program, std::string_view kk) {
  return absl::StrCat("recovery/", Av(program), "/", Av(kk));
}
std::string Overpayment(std::string_view program, std::string_view region_prefix, std::string_view period) {
  return absl::StrCat("overpayment/", Av(program), "/", Av(region_prefix), "/", Av(period));
}
}  // namespace accounts

std::string EncodeHead(const ChainHead& h) {
  std::string s;
  PutFixed64BE(&s, static_cast<uint64_t>(h.next_sequence));
  s.append(ledger::AsBytes(h.hash));
  return s;
}

std::optional<ChainHead> DecodeHead(std::string_view bytes) {
  if (bytes.size() != 8 + 32) return std::nullopt;
  ChainHead h;
  h.next_sequence = static_cast<int64_t>(DecodeFixed64BE(bytes.data()));
  h.hash = *ledger::HashFromBytes(bytes.substr(8));
  return h;
}

int64_t DecodeBalance(std::string_view bytes) {
  return bytes.size() == 8 ? static_cast<int64_t>(DecodeFixed64BE(bytes.data())) : 0;
}

absl::StatusOr<int64_t> AddMoney(int64_t a, int64_t b, int64_t limit, std::string_view what) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out) || out > limit || out < -limit) {
    return absl::FailedPreconditionError(absl::StrCat(Av(what), ": ", a, " + ", b, " is beyond the ledger's limit of ",
                                                      limit, " rupiah"));
  }
  return out;
}

absl::Status CheckPostings(const v1::LedgerEntry& le) {
  int64_t sum = 0;
  for (const v1::Posting& posting : le.postings()) {
    if (posting.amount() > kMaxPosting || posting.amount() < -kMaxPosting) {
      return absl::DataLossError(absl::StrCat("posting to ", posting.account(), " of ", posting.amount(),
                                              " rupiah is beyond the ledger's limit of ", kMaxPosting));
    }
    if (__builtin_add_overflow(sum, posting.amount(), &sum)) return absl::DataLossError("postings overflow");
  }
  if (sum != 0) return absl::DataLossError(absl::StrCat("ledger entry does not balance (postings sum to ", sum, ")"));
  return absl::OkStatus();
}

bool CycleComplete(const v1::GetCycleResponse& c) {
  if (c.entitled_amount() != c.cycle().total_amount()) return false;
  return c.entitled_families() == c.cycle().families() || c.entitled_families() == 0;
}

namespace {
std::string EncodeBalance(int64_t v) {
  std::string s;
  PutFixed64BE(&s, static_cast<uint64_t>(v));
  return s;
}

using projection::RocksError;
}  // namespace

absl::Status LedgerApplier::Apply(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  const std::string seen_key = keys::EventSeen(e.event_id());
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> seen, batch.Get(seen_key));
  if (seen.has_value()) return absl::OkStatus();  // a second copy of a retried append
  batch.Put(seen_key, "");
  const std::string_view topic = event.record.topic;
  if (topic == events::kPopulationTopic) return ApplyPopulation(event, batch);
  if (topic == events::kEligibilityTopic) return ApplyDecision(event, batch);
  if (topic == events::kLedgerTopic) return ApplyJournal(event, batch);
  return absl::InternalError(absl::StrCat("unexpected topic ", Av(topic)));
}

absl::Status LedgerApplier::ApplyPopulation(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  const std::string& kk = e.key();
  const std::string history_key = keys::History(kk, event.record.partition, event.record.offset);
  JARING_RETURN_IF_ERROR(
      family::FoldIntoBatch(event, batch, {keys::Family(kk), keys::Timeline(kk), history_key}).status());
  batch.Put(history_key, event.record.value);
  batch.Put(keys::EventSeen(e.event_id()), history_key);
  // A death (or a correction, which may date one earlier) may reveal a
  // payment to a family that no longer existed.
  if (e.has_death_recorded() || e.has_record_corrected()) {
    batch.Put(keys::Death(event.record.partition, event.record.offset), kk);
  }
  return absl::OkStatus();
}

absl::Status LedgerApplier::ApplyDecision(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  if (!e.has_eligibility_decided()) {
    return absl::DataLossError(absl::StrCat("a ", events::PayloadTypeName(e), " on the eligibility topic"));
  }
  const v1::Decision& d = e.eligibility_decided().decision();
  batch.Put(keys::Decision(d.program(), d.kk_number(), events::ToMillis(e.recorded_at()), d.version()),
            event.record.value);
  return absl::OkStatus();
}

absl::Status LedgerApplier::ApplyJournal(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  const std::string where = events::RecordName(event.record.topic, event.record.partition, event.record.offset);
  if (!e.has_ledger_entry()) {
    return absl::DataLossError(absl::StrCat(where, ": a ", events::PayloadTypeName(e), " on the ledger topic"));
  }
  const v1::LedgerEntry& le = e.ledger_entry();
  const int32_t p = event.record.partition;

  // The chain, link by link.
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> head_bytes, batch.Get(keys::Head(p)));
  ChainHead head;
  if (head_bytes.has_value()) {
    std::optional<ChainHead> h = DecodeHead(*head_bytes);
    if (!h) return absl::DataLossError(absl::StrCat("corrupt chain head of ledger partition ", p));
    head = *h;
  }
  if (le.sequence() != head.next_sequence) {
    return absl::DataLossError(absl::StrCat(where, ": ledger chain broken: sequence ", le.sequence(),
                                            " where ", head.next_sequence, " was expected"));
  }
  if (le.previous_hash() != ledger::AsBytes(head.hash)) {
    return absl::DataLossError(
        absl::StrCat(where, ": ledger chain broken: previous_hash does not match the chain at sequence ",
                     le.sequence()));
  }
  if (absl::Status st = CheckPostings(le); !st.ok()) {
    return absl::DataLossError(absl::StrCat(where, ": ", st.message()));
  }
  batch.Put(keys::Journal(p, le.sequence()), event.record.value);
  batch.Put(keys::Head(p), EncodeHead({le.sequence() + 1, ledger::ChainHash(head.hash, event.record.value)}));
  for (const v1::Posting& posting : le.postings()) {
    const std::string key = keys::Account(posting.account());
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> balance, batch.Get(key));
    absl::StatusOr<int64_t> after = AddMoney(balance ? DecodeBalance(*balance) : 0, posting.amount(), kMaxBalance,
                                             absl::StrCat("account ", posting.account()));
    if (!after.ok()) return absl::DataLossError(absl::StrCat(where, ": ", after.status().message()));
    batch.Put(key, EncodeBalance(*after));
  }

  // The cycle's state and Merkle leaves.
  v1::GetCycleResponse* cycle = nullptr;
  if (!le.cycle_id().empty()) {
    bool existed = false;
    JARING_ASSIGN_OR_RETURN(cycle, batch.Mutable<v1::GetCycleResponse>(keys::Cycle(le.cycle_id()), &existed));
    if (!existed && !le.has_cycle_opened()) {
      return absl::DataLossError(absl::StrCat(where, ": entry of unknown cycle ", le.cycle_id()));
    }
    if (!cycle->closed() && !le.has_cycle_closed()) {
      batch.Put(keys::Leaf(le.cycle_id(), cycle->entries()), ledger::AsBytes(ledger::LeafHash(event.record.value)));
      cycle->set_entries(cycle->entries() + 1);
    }
  }
  auto entitlement = [&](const std::string& id) -> absl::StatusOr<v1::Entitlement*> {
    bool existed = false;
    JARING_ASSIGN_OR_RETURN(v1::Entitlement * ent, batch.Mutable<v1::Entitlement>(keys::Entitlement(id), &existed));
    if (!existed) return absl::DataLossError(absl::StrCat(where, ": unknown entitlement ", id));
    return ent;
  };

  switch (le.kind_case()) {
    case v1::LedgerEntry::kBudgetAllocated:
      break;
    case v1::LedgerEntry::kCycleOpened:
      cycle->set_cycle_id(le.cycle_id());
      *cycle->mutable_cycle() = le.cycle_opened();
      cycle->set_partition(p);
      break;
    case v1::LedgerEntry::kEntitlementCreated: {
      const v1::EntitlementCreated& c = le.entitlement_created();
      JARING_ASSIGN_OR_RETURN(v1::Entitlement * ent,
                              batch.Mutable<v1::Entitlement>(keys::Entitlement(c.entitlement_id())));
      *ent->mutable_created() = c;
      ent->set_cycle_id(le.cycle_id());
      ent->set_status(v1::ENTITLEMENT_STATUS_CREATED);
      ent->set_partition(p);
      ent->set_sequence(le.sequence());
      ent->set_leaf_index(cycle->entries() - 1);
      batch.Put(keys::CycleFamily(le.cycle_id(), c.kk_number()), c.entitlement_id());
      batch.Put(keys::FamilyEntitlement(c.kk_number(), c.entitlement_id()), "");
      cycle->set_entitled_amount(cycle->entitled_amount() + c.amount());
      cycle->set_entitled_families(cycle->entitled_families() + 1);
      break;
    }
    case v1::LedgerEntry::kPaymentInstructed: {
      const v1::PaymentInstructed& i = le.payment_instructed();
      JARING_ASSIGN_OR_RETURN(v1::Entitlement * ent, entitlement(i.entitlement_id()));
      ent->set_status(v1::ENTITLEMENT_STATUS_INSTRUCTED);
      ent->set_reference(i.reference());
      ent->set_attempts(i.attempt());
      batch.Put(keys::Reference(i.reference()), i.entitlement_id());
      cycle->set_instructed(cycle->instructed() + 1);
      if (!i.export_id().empty()) {
        v1::ExportSummary* x = nullptr;
        for (int k = cycle->exports_size() - 1; k >= 0 && x == nullptr; --k) {
          if (cycle->exports(k).export_id() == i.export_id()) x = cycle->mutable_exports(k);
        }
        if (x == nullptr) return absl::DataLossError(absl::StrCat(where, ": instruction of unknown export ", i.export_id()));
        batch.Put(keys::ExportLine(i.export_id(), x->recorded()), keys::Journal(p, le.sequence()));
        x->set_recorded(x->recorded() + 1);
        x->set_recorded_amount(x->recorded_amount() + i.amount());
        x->set_complete(x->recorded() == x->instructions() && x->recorded_amount() == x->total_amount());
      }
      break;
    }
    case v1::LedgerEntry::kExportRecorded: {
      const v1::ExportRecorded& x = le.export_recorded();
      v1::ExportSummary* out = cycle->add_exports();
      out->set_export_id(x.export_id());
      out->set_number(x.number());
      out->set_instructions(x.instructions());
      out->set_total_amount(x.total_amount());
      out->set_complete(x.instructions() == 0);
      batch.Put(keys::Export(x.export_id()), le.cycle_id());
      break;
    }
    case v1::LedgerEntry::kPaymentSettled: {
      const v1::PaymentSettled& s = le.payment_settled();
      JARING_ASSIGN_OR_RETURN(v1::Entitlement * ent, entitlement(s.entitlement_id()));
      ent->set_status(v1::ENTITLEMENT_STATUS_PAID);
      ent->set_channel_reference(s.channel_reference());
      ent->set_settled_on(s.settled_on());
      cycle->set_paid(cycle->paid() + 1);
      cycle->set_paid_amount(cycle->paid_amount() + s.amount());
      break;
    }
    case v1::LedgerEntry::kPaymentFailed: {
      const v1::PaymentFailed& f = le.payment_failed();
      JARING_ASSIGN_OR_RETURN(v1::Entitlement * ent, entitlement(f.entitlement_id()));
      ent->set_status(v1::ENTITLEMENT_STATUS_FAILED);
      ent->set_channel_reference(f.channel_reference());
      cycle->set_failed(cycle->failed() + 1);
      break;
    }
    case v1::LedgerEntry::kPaymentReturned: {
      const v1::PaymentReturned& r = le.payment_returned();
      JARING_ASSIGN_OR_RETURN(v1::Entitlement * ent, entitlement(r.entitlement_id()));
      ent->set_status(v1::ENTITLEMENT_STATUS_RETURNED);
      ent->set_channel_reference(r.channel_reference());
      cycle->set_returned(cycle->returned() + 1);
      cycle->set_returned_amount(cycle->returned_amount() + r.amount());
      break;
    }
    case v1::LedgerEntry::kRecoveryClaimRaised: {
      const v1::RecoveryClaimRaised& c = le.recovery_claim_raised();
      batch.Put(keys::Claim(c.claim_id()), c.SerializeAsString());
      batch.Put(keys::FamilyClaim(c.kk_number(), c.claim_id()), "");
      break;
    }
    case v1::LedgerEntry::kCycleClosed:
      cycle->set_closed(true);
      cycle->set_merkle_root(le.cycle_closed().merkle_root());
      break;
    case v1::LedgerEntry::KIND_NOT_SET:
      return absl::DataLossError(absl::StrCat(where, ": ledger entry without a kind"));
  }
  if (cycle != nullptr) {
    cycle->set_outstanding(cycle->instructed() - cycle->paid() - cycle->failed() - cycle->returned());
    cycle->set_complete(CycleComplete(*cycle));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Read(rocksdb::DB* db, std::string_view key) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  JARING_RETURN_IF_ERROR(RocksError(s));
  return value;
}

absl::StatusOr<std::vector<family::FamilyEvent>> FamilyEvents(rocksdb::DB* db, std::string_view kk,
                                                              std::optional<int64_t> known_at_ms) {
  std::vector<family::FamilyEvent> out;
  const std::string prefix = keys::HistoryPrefix(kk);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    family::FamilyEvent fe;
    if (!fe.event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        it->key().size() != prefix.size() + 12) {
      return absl::DataLossError(absl::StrCat("corrupt history of family ", Av(kk)));
    }
    if (known_at_ms && events::ToMillis(fe.event.recorded_at()) > *known_at_ms) continue;
    fe.partition = static_cast<int32_t>(DecodeFixed32BE(it->key().data() + prefix.size()));
    fe.offset = static_cast<int64_t>(DecodeFixed64BE(it->key().data() + prefix.size() + 4));
    out.push_back(std::move(fe));
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  return out;
}

absl::StatusOr<bool> HadLivingMember(rocksdb::DB* db, std::string_view kk, int64_t at_ms, int64_t known_ms) {
  JARING_ASSIGN_OR_RETURN(std::vector<family::FamilyEvent> history, FamilyEvents(db, kk, known_ms));
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> f, family::FoldAsOf(history, at_ms));
  if (!f) return false;
  for (const v1::FamilyMember& m : f->members()) {
    if (m.alive()) return true;
  }
  return false;
}

std::string RecoveryClaimId(std::string_view entitlement_id) {
  return events::DeterministicId("recovery", {entitlement_id});
}

}  // namespace jaring::ledger_service
