#include "services/ledger/service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/guard.h"
#include "libs/base/coding.h"
#include "libs/base/grpc_status.h"
#include "libs/base/hash.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/ledger/chain.h"
#include "libs/ledger/channel_files.h"
#include "libs/ledger/merkle.h"
#include "rocksdb/db.h"
#include "libs/projection/rocks_error.h"

namespace jaring::ledger_service {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(why)));
}

using projection::RocksError;

std::string Rupiah(int64_t amount) {
  std::string digits = absl::StrCat(amount < 0 ? -amount : amount);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back('.');
    out.push_back(digits[i]);
  }
  return absl::StrCat(amount < 0 ? "-Rp" : "Rp", out);
}

// Visits every key and value under `prefix` (projection::ScanPrefix with a
// visitor that never stops early).
template <typename Visit>
absl::Status Scan(rocksdb::DB* db, std::string_view prefix, Visit visit) {
  return projection::ScanPrefix(db, prefix, [&](std::string_view key, std::string_view value) -> absl::StatusOr<bool> {
    JARING_RETURN_IF_ERROR(visit(key, value));
    return true;
  });
}

v1::Posting Post(std::string account, int64_t amount) {
  v1::Posting p;
  p.set_account(std::move(account));
  p.set_amount(amount);
  return p;
}

}  // namespace

std::string MaskName(std::string_view name) {
  std::string out;
  bool start = true;
  for (char c : name) {
    if (c == ' ') {
      out.push_back(' ');
      start = true;
    } else {
      out.push_back(start ? c : '*');
      start = false;
    }
  }
  return out;
}

LedgerServiceImpl::LedgerServiceImpl(eventlog::EventLog* log, ServiceOptions options)
    : log_(log), options_(std::move(options)), clock_(options_.clock ? options_.clock : Clock::Real()) {}

LedgerServiceImpl::~LedgerServiceImpl() {
  {
    absl::MutexLock l(&scan_mu_);
    stop_ = true;
  }
  if (scanner_.joinable()) scanner_.join();
  if (projection_) projection_->Stop();
}

namespace {
projection::Options ProjectionOptions(const std::string& dir) {
  projection::Options po;
  po.dir = dir;
  po.topics = {std::string(events::kPopulationTopic), std::string(events::kEligibilityTopic),
               std::string(events::kLedgerTopic)};
  return po;
}
}  // namespace

absl::Status LedgerServiceImpl::BuildAsOf(eventlog::EventLog* log, const std::string& dir,
                                          const projection::Bound& bound, projection::Stats* stats) {
  LedgerApplier applier;
  return projection::BuildAsOf(log, &applier, ProjectionOptions(dir), bound, stats);
}

absl::StatusOr<std::unique_ptr<LedgerServiceImpl>> LedgerServiceImpl::Create(eventlog::EventLog* log,
                                                                             ServiceOptions options) {
  std::unique_ptr<LedgerServiceImpl> s(new LedgerServiceImpl(log, std::move(options)));
  const bool writer = s->options_.mode == projection::Mode::kWriter;
  projection::Options po = ProjectionOptions(s->options_.store_dir);
  LedgerServiceImpl* self = s.get();
  po.on_commit = [self] {
    absl::MutexLock l(&self->scan_mu_);
    self->nudged_ = true;
  };
  JARING_ASSIGN_OR_RETURN(s->projection_, projection::OpenFor(s->options_.mode, log, &s->applier_, po));
  for (const auto& [tp, next] : s->projection_->NextOffsets()) {
    if (tp.first == events::kLedgerTopic) s->partitions_ = std::max(s->partitions_, tp.second + 1);
  }
  if (writer && s->options_.scan_interval > absl::ZeroDuration()) {
    s->scanner_ = std::thread([self] {
      for (;;) {
        {
          absl::MutexLock l(&self->scan_mu_);
          auto wake = [self]() ABSL_SHARED_LOCKS_REQUIRED(self->scan_mu_) { return self->stop_ || self->nudged_; };
          self->scan_mu_.AwaitWithTimeout(absl::Condition(&wake), self->options_.scan_interval);
          if (self->stop_) return;
          self->nudged_ = false;
        }
        (void)self->RaiseRecoveryClaims();  // retried at the next wake on error
      }
    });
  }
  return s;
}

// ---------------------------------------------------------------- writing

NewEntry LedgerServiceImpl::Entry(std::string key, std::string event_id, std::string cycle_id) {
  NewEntry n;
  n.key = std::move(key);
  n.envelope.set_event_id(std::move(event_id));
  n.envelope.mutable_ledger_entry()->set_cycle_id(std::move(cycle_id));
  return n;
}

absl::Status LedgerServiceImpl::CatchUpJournal() {
  JARING_RETURN_IF_ERROR(projection::RequireWriter(options_.mode, "ledger"));
  for (int32_t p = 0; p < partitions_; ++p) {
    JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(events::kLedgerTopic, p));
    JARING_RETURN_IF_ERROR(projection_->WaitFor(events::kLedgerTopic, p, end, options_.apply_timeout));
  }
  return FeedJournalState();
}

absl::Status LedgerServiceImpl::FeedJournalState() {
  if (journal_ == nullptr) {
    // From the first record of every partition: the log, not the store.
    journal_ = std::make_unique<JournalState>();
    JARING_ASSIGN_OR_RETURN(journal_reader_, log_->NewReader());
    std::vector<eventlog::Assignment> all;
    for (int32_t p = 0; p < partitions_; ++p) {
      all.push_back({std::string(events::kLedgerTopic), p, 0});
      journal_->next_offsets()[p] = 0;
    }
    if (!all.empty()) JARING_RETURN_IF_ERROR(journal_reader_->Assign(all));
  }
  std::map<int32_t, int64_t> ends;
  int64_t missing = 0;
  for (int32_t p = 0; p < partitions_; ++p) {
    JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(events::kLedgerTopic, p));
    ends[p] = end;
    missing += std::max<int64_t>(0, end - journal_->next_offsets()[p]);
  }
  v1::Envelope e;
  while (missing > 0) {
    absl::StatusOr<std::vector<eventlog::StoredRecord>> recs = journal_reader_->Poll(4096, absl::Seconds(5));
    if (!recs.ok() || recs->empty()) {
      journal_.reset();  // read again from the start next time
      return recs.ok() ? absl::UnavailableError("the log stopped answering while the ledger read its journal")
                       : recs.status();
    }
    for (const eventlog::StoredRecord& rec : *recs) {
      int64_t& next = journal_->next_offsets()[rec.partition];
      if (rec.offset < next) continue;
      next = rec.offset + 1;
      if (rec.offset < ends[rec.partition]) --missing;
      absl::Status st = events::DecodeEnvelopeInto(rec, &e);
      if (st.ok()) st = journal_->Apply(rec.partition, rec.value, e).status();
      if (!st.ok()) {
        const std::string where = events::RecordName(rec.topic, rec.partition, rec.offset);
        journal_.reset();
        return absl::DataLossError(absl::StrCat("ledger journal, ", where, ": ", st.message()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status LedgerServiceImpl::AppendEntries(std::vector<NewEntry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  // The chain heads are those of everything on the log: a failed append may
  // have left records behind, and they are part of the chain now.
  JARING_RETURN_IF_ERROR(CatchUpJournal());
  const absl::Time now = clock_->Now();
  std::vector<eventlog::Record> chunk;
  std::map<int32_t, int64_t> last_offset;
  auto flush = [&]() -> absl::Status {
    if (chunk.empty()) return absl::OkStatus();
    absl::StatusOr<std::vector<eventlog::Position>> pos = log_->Append(events::kLedgerTopic, chunk);
    if (!pos.ok()) {
      // journal_ holds entries the log may not: read it again from the log.
      journal_.reset();
      return pos.status();
    }
    for (const auto& p : *pos) last_offset[p.partition] = std::max(last_offset[p.partition], p.offset);
    chunk.clear();
    return absl::OkStatus();
  };
  for (NewEntry& n : entries) {
    const int32_t p = PartitionForKey(n.key, partitions_);
    const ChainHead& head = journal_->Head(p);
    v1::Envelope& env = n.envelope;
    env.set_key(n.key);
    *env.mutable_occurred_at() = events::ToProtoTime(now);
    *env.mutable_recorded_at() = events::ToProtoTime(now);
    if (env.source() == v1::SOURCE_UNSPECIFIED) env.set_source(v1::SOURCE_SYSTEM);
    if (env.correlation_id().empty()) env.set_correlation_id(env.event_id());
    v1::LedgerEntry* le = env.mutable_ledger_entry();
    le->set_sequence(head.next_sequence);
    le->set_previous_hash(std::string(ledger::AsBytes(head.hash)));
    unsigned char nonce[16];
    JARING_RELEASE_ASSERT(RAND_bytes(nonce, sizeof(nonce)) == 1, "RAND_bytes failed");
    le->set_nonce(reinterpret_cast<const char*>(nonce), sizeof(nonce));
    events::StampType(env);
    eventlog::Record r = events::ToRecord(env);
    // The journal's state machine, from the log: an entry it refuses (a
    // second instruction or settlement, an overdrawn limit, ...) is never
    // appended, whatever the store says.
    absl::Status checked = journal_->Apply(p, r.value, env).status();
    if (!checked.ok()) {
      journal_.reset();  // it holds the entries before this one: read it again
      if (!last_offset.empty()) {
        // Earlier chunks of this command are on the log (they were checked).
        return absl::FailedPreconditionError(absl::StrCat("the journal refused entry ", env.event_id(), ": ",
                                                          checked.message(),
                                                          "; the command's earlier appends stay on the log"));
      }
      return absl::FailedPreconditionError(
          absl::StrCat("the journal refused entry ", env.event_id(), ": ", checked.message(), "; nothing appended"));
    }
    chunk.push_back(std::move(r));
    if (static_cast<int>(chunk.size()) >= options_.append_chunk) JARING_RETURN_IF_ERROR(flush());
  }
  JARING_RETURN_IF_ERROR(flush());
  for (const auto& [p, off] : last_offset) {
    JARING_RETURN_IF_ERROR(projection_->WaitFor(events::kLedgerTopic, p, off + 1, options_.apply_timeout));
  }
  return absl::OkStatus();
}

namespace {
std::string Incomplete(const v1::GetCycleResponse& c) {
  return absl::StrCat("cycle ", c.cycle_id(), " is incomplete: ", c.entitled_families(), " of ", c.cycle().families(),
                      " entitlements (", Rupiah(c.entitled_amount()), " of ", Rupiah(c.cycle().total_amount()),
                      ") are on the journal; open it again (same program, period and region) to complete it");
}
}  // namespace

absl::StatusOr<std::optional<std::string>> LedgerServiceImpl::CycleRegion(std::string_view cycle_id) {
  absl::StatusOr<v1::GetCycleResponse> c = LoadCycle(cycle_id);
  if (absl::IsNotFound(c.status())) return std::nullopt;
  if (!c.ok()) return c.status();
  return c->cycle().region_prefix();
}

absl::StatusOr<v1::GetCycleResponse> LedgerServiceImpl::LoadCycle(std::string_view cycle_id) {
  if (cycle_id.empty()) return Invalid("cycle_id", "is required");
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, Read(projection_->db(), keys::Cycle(cycle_id)));
  if (!bytes) return absl::NotFoundError(absl::StrCat("cycle_id: no cycle ", Av(cycle_id)));
  v1::GetCycleResponse c;
  if (!c.ParseFromString(*bytes)) return absl::DataLossError("corrupt cycle record");
  c.set_complete(CycleComplete(c));
  return c;
}

absl::StatusOr<v1::GetCycleResponse> LedgerServiceImpl::LoadOpenCycle(std::string_view cycle_id) {
  JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadCycle(cycle_id));
  if (!cycle.complete()) return absl::FailedPreconditionError(Incomplete(cycle));
  if (cycle.closed()) return absl::FailedPreconditionError(absl::StrCat("cycle ", Av(cycle_id), " is closed"));
  return cycle;
}

absl::StatusOr<std::optional<v1::Entitlement>> LedgerServiceImpl::LoadEntitlement(std::string_view id) {
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, Read(projection_->db(), keys::Entitlement(id)));
  if (!bytes) return std::nullopt;
  v1::Entitlement e;
  if (!e.ParseFromString(*bytes)) return absl::DataLossError("corrupt entitlement record");
  return e;
}

// ---------------------------------------------------------------- budgets and cycles

absl::StatusOr<v1::AllocateBudgetResponse> LedgerServiceImpl::AllocateBudget(const v1::AllocateBudgetRequest& r) {
  if (r.request_id().empty()) return Invalid("request_id", "is required");
  if (r.program().empty()) return Invalid("program", "is required");
  if (r.region_prefix().empty()) return Invalid("region_prefix", "is required (e.g. 52.71)");
  if (r.period().empty()) return Invalid("period", "is required (e.g. 2026-Q2)");
  if (r.amount() <= 0) return Invalid("amount", "must be a positive number of rupiah");
  if (r.amount() > kMaxPosting) {
    return Invalid("amount", absl::StrCat(Rupiah(r.amount()), " is above the ledger's maximum per posting, ",
                                          Rupiah(kMaxPosting)));
  }
  const std::string account = accounts::Budget(r.program(), r.region_prefix(), r.period());
  const std::string event_id = events::DeterministicId("budget", {r.request_id()});
  absl::MutexLock l(&write_mu_);
  JARING_RETURN_IF_ERROR(CatchUpJournal());
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> seen, Read(projection_->db(), keys::EventSeen(event_id)));
  const bool dedup = seen.has_value();
  if (!dedup) {
    // Checked money: neither balance may pass the ledger's maximum.
    for (const auto& [name, delta] : {std::pair<std::string, int64_t>{account, -r.amount()},
                                      {accounts::Funding(r.program(), r.period()), r.amount()}}) {
      absl::StatusOr<int64_t> after = AddMoney(journal_->Balance(name), delta, kMaxBalance, name);
      if (!after.ok()) {
        return absl::FailedPreconditionError(absl::StrCat("amount: allocating ", Rupiah(r.amount()), " would take ",
                                                          name, " beyond the ledger's maximum balance, ",
                                                          Rupiah(kMaxBalance), "; nothing appended"));
      }
    }
    std::vector<NewEntry> entries;
    NewEntry n = Entry(account, event_id, "");
    n.envelope.set_actor(r.actor());
    n.envelope.set_request_id(r.request_id());
    n.envelope.set_source(v1::SOURCE_NATIONAL);
    v1::LedgerEntry* le = n.envelope.mutable_ledger_entry();
    v1::BudgetAllocated* b = le->mutable_budget_allocated();
    b->set_program(r.program());
    b->set_region_prefix(r.region_prefix());
    b->set_period(r.period());
    b->set_amount(r.amount());
    *le->add_postings() = Post(accounts::Funding(r.program(), r.period()), r.amount());
    *le->add_postings() = Post(account, -r.amount());
    entries.push_back(std::move(n));
    JARING_RETURN_IF_ERROR(AppendEntries(entries));
  }
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> balance, Read(projection_->db(), keys::Account(account)));
  v1::AllocateBudgetResponse resp;
  resp.set_available(-(balance ? DecodeBalance(*balance) : 0));
  resp.set_deduplicated(dedup);
  return resp;
}

absl::StatusOr<LedgerServiceImpl::CyclePlan> LedgerServiceImpl::PlanCycle(const v1::CycleOpened& params,
                                                                          std::string_view cycle_id) {
  rocksdb::DB* db = projection_->db();
  const int64_t cutoff_ms = events::ToMillis(params.cutoff());
  CyclePlan plan;
  // The decisions recorded by the cutoff: for each family the last one.
  std::vector<v1::Decision> eligible;
  {
    const std::string prefix = keys::DecisionPrefix(params.program());
    std::string current_kk;
    std::optional<v1::Decision> last;
    auto finish = [&]() {
      if (last && last->eligible() && absl::StartsWith(last->region_code(), params.region_prefix())) {
        eligible.push_back(std::move(*last));
      }
      last.reset();
    };
    v1::Envelope e;
    JARING_RETURN_IF_ERROR(Scan(db, prefix, [&](std::string_view key, std::string_view value) -> absl::Status {
      const std::string_view rest = key.substr(prefix.size());
      const std::string_view kk = rest.substr(0, rest.find('/'));
      if (kk != current_kk) {
        finish();
        current_kk = std::string(kk);
      }
      const std::string_view suffix = rest.substr(kk.size() + 1);
      if (suffix.size() != 16) return absl::DataLossError("corrupt decision key");
      const int64_t recorded_ms = static_cast<int64_t>(DecodeFixed64BE(suffix.data()));
      if (recorded_ms > cutoff_ms) return absl::OkStatus();
      if (!e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        return absl::DataLossError("corrupt decision record");
      }
      last = e.eligibility_decided().decision();
      return absl::OkStatus();
    }));
    finish();
  }
  std::vector<std::pair<std::string, int64_t>> digest_lines;
  for (v1::Decision& d : eligible) {
    // Pinned: who was alive at the cutoff, as known at the cutoff. A death
    // reported later is a recovery claim, not a different list.
    JARING_ASSIGN_OR_RETURN(bool alive, HadLivingMember(db, d.kk_number(), cutoff_ms, cutoff_ms));
    if (!alive) {
      plan.skipped_no_living_member++;
      continue;
    }
    const v1::StagePayment* stage = nullptr;
    for (const v1::StagePayment& s : d.stages()) {
      if (s.period() == params.period()) stage = &s;
    }
    if (stage == nullptr || stage->amount() <= 0) {
      plan.skipped_no_stage++;
      continue;
    }
    if (stage->amount() > kMaxPosting) {
      return absl::FailedPreconditionError(absl::StrCat("decision ", d.decision_id(), " of family ", d.kk_number(),
                                                        ": stage amount ", stage->amount(),
                                                        " is beyond the ledger's limit per posting of ", kMaxPosting));
    }
    PlannedEntitlement pe;
    pe.entitlement_id = events::DeterministicId("entitlement", {d.kk_number(), params.program(), params.period()});
    pe.amount = stage->amount();
    JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> had, LoadEntitlement(pe.entitlement_id));
    if (had) {
      // Already on the journal: part of this cycle (an earlier, interrupted
      // open of it), or of another cycle over an overlapping region.
      if (had->cycle_id() != cycle_id) {
        plan.skipped_already_entitled++;
        continue;
      }
      pe.present = true;
    }
    JARING_ASSIGN_OR_RETURN(plan.total_amount,
                            AddMoney(plan.total_amount, pe.amount, kMaxPosting, "the cycle's total_amount"));
    plan.families++;
    digest_lines.emplace_back(pe.entitlement_id, pe.amount);
    pe.decision = std::move(d);
    plan.entitlements.push_back(std::move(pe));
  }
  std::sort(digest_lines.begin(), digest_lines.end());
  std::string text;
  for (const auto& [id, amount] : digest_lines) absl::StrAppend(&text, id, " ", amount, "\n");
  plan.digest = ledger::ToHex(ledger::Sha256(text));
  return plan;
}

NewEntry LedgerServiceImpl::EntitlementEntry(const v1::CycleOpened& params, std::string_view cycle_id,
                                             const PlannedEntitlement& pe) {
  const v1::Decision& d = pe.decision;
  NewEntry n = Entry(std::string(cycle_id), events::DeterministicId("ledger", {pe.entitlement_id}),
                     std::string(cycle_id));
  n.envelope.set_region_code(d.region_code());
  n.envelope.set_causation_id(d.decision_id());
  v1::LedgerEntry* le = n.envelope.mutable_ledger_entry();
  v1::EntitlementCreated* ec = le->mutable_entitlement_created();
  ec->set_entitlement_id(pe.entitlement_id);
  ec->set_kk_number(d.kk_number());
  ec->set_region_code(d.region_code());
  ec->set_program(params.program());
  ec->set_period(params.period());
  ec->set_amount(pe.amount);
  ec->set_decision_id(d.decision_id());
  ec->set_decision_version(d.version());
  for (const v1::ComponentAward& a : d.components()) ec->add_components(a.kind());
  *le->add_postings() = Post(accounts::Budget(params.program(), params.region_prefix(), params.period()), pe.amount);
  *le->add_postings() = Post(accounts::Payable(params.program(), params.period(), d.kk_number()), -pe.amount);
  return n;
}


absl::StatusOr<int64_t> LedgerServiceImpl::ResumeCycle(const v1::GetCycleResponse& cycle) {
  const v1::CycleOpened& co = cycle.cycle();
  JARING_ASSIGN_OR_RETURN(CyclePlan plan, PlanCycle(co, cycle.cycle_id()));
  const bool same = plan.families == co.families() && plan.total_amount == co.total_amount() &&
                    (co.entitlements_digest().empty() || plan.digest == co.entitlements_digest());
  if (!same) {
    return absl::FailedPreconditionError(absl::StrCat(
        Incomplete(cycle), "; but the decisions and population known at its cutoff now give ", plan.families,
        " families, ", Rupiah(plan.total_amount), " (digest ", plan.digest, "), where its opening entry says ",
        co.families(), " families, ", Rupiah(co.total_amount()), " (digest ", co.entitlements_digest(),
        "): nothing appended"));
  }
  std::vector<NewEntry> entries;
  for (const PlannedEntitlement& pe : plan.entitlements) {
    if (!pe.present) entries.push_back(EntitlementEntry(co, cycle.cycle_id(), pe));
  }
  JARING_RETURN_IF_ERROR(AppendEntries(entries));
  return static_cast<int64_t>(entries.size());
}

absl::StatusOr<v1::OpenCycleResponse> LedgerServiceImpl::OpenCycle(const v1::OpenCycleRequest& r) {
  JARING_RETURN_IF_ERROR(projection::RequireWriter(options_.mode, "ledger"));
  if (r.program().empty()) return Invalid("program", "is required");
  if (r.period().empty()) return Invalid("period", "is required (a stage period, e.g. 2026-Q2)");
  if (r.region_prefix().empty()) return Invalid("region_prefix", "is required (e.g. 52.71)");
  if (!r.has_cutoff()) return Invalid("cutoff", "is required");
  if (r.channel() == v1::PAYMENT_CHANNEL_UNSPECIFIED) return Invalid("channel", "is required (BANK or POST)");
  if (!v1::PaymentChannel_IsValid(r.channel())) {
    return Invalid("channel", absl::StrCat(r.channel(), " is not a payment channel (BANK or POST)"));
  }
  const absl::Time now = clock_->Now();
  const int64_t cutoff_ms = events::ToMillis(r.cutoff());
  if (absl::FromUnixMillis(cutoff_ms) > now) {
    return Invalid("cutoff", "is in the future: a cycle is pinned to decisions already recorded");
  }
  const std::string cycle_id = events::DeterministicId("cycle", {r.program(), r.period(), r.region_prefix()});

  // Every decision and population event on the log now is read before the
  // list is computed: a decision recorded before the cutoff but not yet
  // applied here would otherwise be missed, for good.
  for (std::string_view topic : {events::kEligibilityTopic, events::kPopulationTopic}) {
    JARING_ASSIGN_OR_RETURN(int32_t partitions, log_->PartitionCount(topic));
    for (int32_t p = 0; p < partitions; ++p) {
      JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(topic, p));
      JARING_RETURN_IF_ERROR(projection_->WaitFor(topic, p, end, options_.apply_timeout));
    }
  }
  absl::MutexLock l(&write_mu_);
  JARING_RETURN_IF_ERROR(CatchUpJournal());
  v1::OpenCycleResponse resp;
  resp.set_cycle_id(cycle_id);
  if (!r.dry_run()) {
    absl::StatusOr<v1::GetCycleResponse> existing = LoadCycle(cycle_id);
    if (existing.ok()) {
      resp.set_existing(true);
      if (!existing->complete()) {
        // An earlier open stopped part way (a crash, a failed append):
        // append exactly the entitlements still missing.
        JARING_ASSIGN_OR_RETURN(int64_t resumed, ResumeCycle(*existing));
        resp.set_resumed(resumed);
      }
      resp.set_families(existing->cycle().families());
      resp.set_total_amount(existing->cycle().total_amount());
      return resp;
    }
    if (!absl::IsNotFound(existing.status())) return existing.status();
    // A cycle left incomplete is completed before any other is opened, so
    // that no overlapping cycle entitles a family it announced.
    JARING_ASSIGN_OR_RETURN(std::vector<v1::GetCycleResponse> cycles, ListCycles());
    for (const v1::GetCycleResponse& c : cycles) {
      if (!c.complete()) JARING_RETURN_IF_ERROR(ResumeCycle(c).status());
    }
  }

  v1::CycleOpened params;
  params.set_program(r.program());
  params.set_period(r.period());
  params.set_region_prefix(r.region_prefix());
  *params.mutable_cutoff() = r.cutoff();
  params.set_channel(r.channel());
  JARING_ASSIGN_OR_RETURN(CyclePlan plan, PlanCycle(params, cycle_id));
  resp.set_families(plan.families);
  resp.set_total_amount(plan.total_amount);
  resp.set_skipped_no_living_member(plan.skipped_no_living_member);
  resp.set_skipped_no_stage(plan.skipped_no_stage);
  resp.set_skipped_already_entitled(plan.skipped_already_entitled);
  // The journal's balance, not the store's.
  resp.set_budget_available(-journal_->Balance(accounts::Budget(r.program(), r.region_prefix(), r.period())));
  if (r.dry_run()) {
    // A dry run answers even when the budget is short: it is how an office
    // finds out what a cycle needs.
    for (const PlannedEntitlement& pe : plan.entitlements) {
      v1::CycleEntitlement* out = resp.add_entitlements();
      out->set_kk_number(pe.decision.kk_number());
      out->set_region_code(pe.decision.region_code());
      out->set_amount(pe.amount);
      out->set_decision_id(pe.decision.decision_id());
      out->set_entitlement_id(pe.entitlement_id);
    }
    return resp;
  }
  if (resp.total_amount() > resp.budget_available()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "budget ", accounts::Budget(r.program(), r.region_prefix(), r.period()), " has ",
        Rupiah(resp.budget_available()), " available; the cycle needs ", Rupiah(resp.total_amount()), " for ",
        resp.families(), " families: short by ", Rupiah(resp.total_amount() - resp.budget_available())));
  }

  // The opening entry announces the count, the total and the digest; the
  // cycle is complete (exports, statements and close allowed) only once
  // all of them are on the journal, however many appends that takes.
  std::vector<NewEntry> entries;
  entries.push_back(Entry(cycle_id, events::DeterministicId("ledger", {cycle_id, "opened"}), cycle_id));
  v1::Envelope& opened_env = entries.front().envelope;
  opened_env.set_actor(r.actor());
  v1::CycleOpened* co = opened_env.mutable_ledger_entry()->mutable_cycle_opened();
  *co = params;
  co->set_families(plan.families);
  co->set_total_amount(plan.total_amount);
  co->set_entitlements_digest(plan.digest);
  for (const PlannedEntitlement& pe : plan.entitlements) entries.push_back(EntitlementEntry(params, cycle_id, pe));
  JARING_RETURN_IF_ERROR(AppendEntries(entries));
  return resp;
}

// ---------------------------------------------------------------- the channel

namespace {
std::string ExportId(std::string_view cycle_id, int32_t number) {
  return events::DeterministicId("export", {cycle_id, absl::StrCat(number)});
}
std::string InstructionReference(std::string_view entitlement_id, int32_t attempt) {
  return absl::StrCat("JRG", absl::AsciiStrToUpper(events::DeterministicId(
                                 "instruction", {entitlement_id, absl::StrCat(attempt)})
                                                     .substr(0, 20)));
}
}  // namespace

absl::Status LedgerServiceImpl::PlanExport(const v1::GetCycleResponse& cycle, std::string_view export_id,
                                           std::string_view actor, std::vector<NewEntry>* entries, int64_t* total) {
  rocksdb::DB* db = projection_->db();
  const std::string& cycle_id = cycle.cycle_id();
  return Scan(db, keys::CycleFamilyPrefix(cycle_id), [&](std::string_view, std::string_view id) -> absl::Status {
    // What is due is the journal's word, not the store's.
    const JournalState::EntitlementState* state = journal_->Entitlement(id);
    if (state == nullptr) {
      return absl::DataLossError(absl::StrCat("the ledger store lists entitlement ", Av(id), " in cycle ", cycle_id,
                                              ", the journal has no such entitlement: run verify-ledger"));
    }
    if (state->status != v1::ENTITLEMENT_STATUS_CREATED && state->status != v1::ENTITLEMENT_STATUS_FAILED) {
      return absl::OkStatus();
    }
    JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> ent, LoadEntitlement(id));
    if (!ent) return absl::DataLossError(absl::StrCat("missing entitlement ", Av(id)));
    const v1::EntitlementCreated& c = ent->created();
    if (c.kk_number() != state->kk_number() || c.amount() != state->amount) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ledger store's entitlement ", Av(id), " (family ", c.kk_number(), ", ", Rupiah(c.amount()),
          ") differs from the journal's (family ", state->kk_number(), ", ", Rupiah(state->amount),
          "): nothing exported; run verify-ledger and rebuild the ledger store from the log"));
    }
    const int32_t attempt = state->attempts + 1;
    const std::string reference = InstructionReference(c.entitlement_id(), attempt);
    NewEntry n = Entry(cycle_id, events::DeterministicId("ledger", {reference}), cycle_id);
    n.envelope.set_actor(std::string(actor));
    v1::LedgerEntry* le = n.envelope.mutable_ledger_entry();
    v1::PaymentInstructed* pi = le->mutable_payment_instructed();
    pi->set_entitlement_id(c.entitlement_id());
    pi->set_reference(reference);
    pi->set_attempt(attempt);
    pi->set_channel(cycle.cycle().channel());
    pi->set_amount(c.amount());
    pi->set_export_id(std::string(export_id));
    pi->set_kk_number(c.kk_number());
    pi->set_region_code(c.region_code());
    pi->set_program(c.program());
    pi->set_period(c.period());
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> fam, Read(db, keys::Family(c.kk_number())));
    v1::Family family;
    if (fam && family.ParseFromString(*fam)) {
      for (const v1::FamilyMember& m : family.members()) {
        if (m.member().nik() == family.head_nik()) pi->set_recipient_name(MaskName(m.member().full_name()));
      }
    }
    if (pi->recipient_name().empty()) pi->set_recipient_name("-");
    *le->add_postings() = Post(accounts::Payable(c.program(), c.period(), c.kk_number()), c.amount());
    *le->add_postings() = Post(accounts::Clearing(cycle.cycle().channel(), cycle_id), -c.amount());
    entries->push_back(std::move(n));
    *total += c.amount();
    return absl::OkStatus();
  });
}

absl::Status LedgerServiceImpl::ResumeExport(const v1::GetCycleResponse& cycle, const JournalState::ExportState& x,
                                             std::string_view actor) {
  std::vector<NewEntry> entries;
  int64_t total = 0;
  JARING_RETURN_IF_ERROR(PlanExport(cycle, x.export_id, actor, &entries, &total));
  const int64_t count = static_cast<int64_t>(entries.size());
  if (count != x.instructions - x.recorded || total != x.total_amount - x.recorded_amount) {
    return absl::FailedPreconditionError(absl::StrCat(
        "export ", x.export_id, " of cycle ", cycle.cycle_id(), " is incomplete (", x.recorded, " of ",
        x.instructions, " instructions on the journal), but ", count, " entitlements (", Rupiah(total),
        ") are due where it misses ", x.instructions - x.recorded, " (",
        Rupiah(x.total_amount - x.recorded_amount), "): nothing appended"));
  }
  return AppendEntries(entries);
}

absl::StatusOr<LedgerServiceImpl::Export> LedgerServiceImpl::BuildExportFile(std::string_view export_id) {
  rocksdb::DB* db = projection_->db();
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> cycle_id, Read(db, keys::Export(export_id)));
  if (!cycle_id) return absl::NotFoundError(absl::StrCat("export_id: no export ", Av(export_id)));
  JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadCycle(*cycle_id));
  const v1::ExportSummary* summary = nullptr;
  for (const v1::ExportSummary& x : cycle.exports()) {
    if (x.export_id() == export_id) summary = &x;
  }
  if (summary == nullptr) return absl::DataLossError(absl::StrCat("export ", Av(export_id), " is not in its cycle"));
  std::vector<ledger::PaymentInstruction> lines;
  Export out;
  v1::Envelope e;
  JARING_RETURN_IF_ERROR(Scan(db, keys::ExportLinePrefix(export_id), [&](std::string_view, std::string_view jkey) {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, Read(db, jkey));
    if (!bytes || !e.ParseFromString(*bytes) || !e.ledger_entry().has_payment_instructed()) {
      return absl::DataLossError(absl::StrCat("export ", Av(export_id), ": a line's journal entry is missing"));
    }
    const v1::PaymentInstructed& pi = e.ledger_entry().payment_instructed();
    ledger::PaymentInstruction line;
    line.reference = pi.reference();
    line.kk_number = pi.kk_number();
    line.region_code = pi.region_code();
    line.recipient_name = pi.recipient_name();
    line.program = pi.program();
    line.period = pi.period();
    line.amount = pi.amount();
    out.total_amount += pi.amount();
    lines.push_back(std::move(line));
    return absl::OkStatus();
  }));
  out.instructions = static_cast<int64_t>(lines.size());
  if (out.instructions != summary->instructions() || out.total_amount != summary->total_amount()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "export ", Av(export_id), " is incomplete: ", out.instructions, " of ", summary->instructions(),
        " instructions are on the journal; export the cycle again (or fetch it on the writer) to complete it"));
  }
  JARING_ASSIGN_OR_RETURN(out.csv, ledger::WriteInstructions(lines));
  out.export_id = std::string(export_id);
  out.csv_sha256 = ledger::ToHex(ledger::Sha256(out.csv));
  return out;
}

absl::StatusOr<LedgerServiceImpl::Export> LedgerServiceImpl::ExportInstructions(
    const v1::ExportInstructionsRequest& r) {
  absl::MutexLock l(&write_mu_);
  JARING_RETURN_IF_ERROR(CatchUpJournal());
  JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadOpenCycle(r.cycle_id()));
  const JournalState::CycleState* state = journal_->Cycle(r.cycle_id());
  if (state == nullptr) {
    return absl::DataLossError(absl::StrCat("the ledger store has cycle ", r.cycle_id(),
                                            ", the journal has not: run verify-ledger"));
  }
  if (!state->exports.empty() && !state->exports.back().complete()) {
    // An earlier export stopped part way (a crash, a failed append, a
    // reply lost with the process): complete it and give its file.
    const JournalState::ExportState x = state->exports.back();
    JARING_RETURN_IF_ERROR(ResumeExport(cycle, x, r.actor()));
    JARING_ASSIGN_OR_RETURN(Export out, BuildExportFile(x.export_id));
    out.resumed = true;
    return out;
  }
  const int32_t number = static_cast<int32_t>(state->exports.size()) + 1;
  const std::string export_id = ExportId(r.cycle_id(), number);
  std::vector<NewEntry> entries;
  entries.push_back(Entry(r.cycle_id(), events::DeterministicId("ledger", {export_id}), r.cycle_id()));
  int64_t total = 0;
  JARING_RETURN_IF_ERROR(PlanExport(cycle, export_id, r.actor(), &entries, &total));
  if (entries.size() == 1) {
    // Nothing to instruct: nothing recorded, an empty file.
    Export out;
    JARING_ASSIGN_OR_RETURN(out.csv, ledger::WriteInstructions({}));
    out.csv_sha256 = ledger::ToHex(ledger::Sha256(out.csv));
    return out;
  }
  // The file is recorded before its instructions, announcing them.
  std::string digest_text;
  for (size_t i = 1; i < entries.size(); ++i) {
    const v1::PaymentInstructed& pi = entries[i].envelope.ledger_entry().payment_instructed();
    absl::StrAppend(&digest_text, pi.reference(), " ", pi.amount(), "\n");
  }
  v1::Envelope& head = entries.front().envelope;
  head.set_actor(r.actor());
  v1::ExportRecorded* x = head.mutable_ledger_entry()->mutable_export_recorded();
  x->set_export_id(export_id);
  x->set_number(number);
  x->set_instructions(static_cast<int64_t>(entries.size()) - 1);
  x->set_total_amount(total);
  x->set_instructions_digest(ledger::ToHex(ledger::Sha256(digest_text)));
  JARING_RETURN_IF_ERROR(AppendEntries(entries));
  return BuildExportFile(export_id);
}

absl::StatusOr<LedgerServiceImpl::Export> LedgerServiceImpl::FetchExport(const v1::FetchExportRequest& r) {
  if (r.cycle_id().empty()) return Invalid("cycle_id", "is required (the export's cycle)");
  if (r.export_id().empty()) return Invalid("export_id", "is required (GetCycle lists a cycle's exports)");
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> cycle_id, Read(projection_->db(), keys::Export(r.export_id())));
  if (!cycle_id || *cycle_id != r.cycle_id()) {
    return absl::NotFoundError(absl::StrCat("export_id: cycle ", r.cycle_id(), " has no export ", r.export_id()));
  }
  if (options_.mode == projection::Mode::kWriter) {
    absl::MutexLock l(&write_mu_);
    JARING_RETURN_IF_ERROR(CatchUpJournal());
    const JournalState::CycleState* state = journal_->Cycle(r.cycle_id());
    if (state != nullptr && !state->exports.empty() && state->exports.back().export_id == r.export_id() &&
        !state->exports.back().complete()) {
      JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadOpenCycle(r.cycle_id()));
      const JournalState::ExportState x = state->exports.back();
      JARING_RETURN_IF_ERROR(ResumeExport(cycle, x, r.actor()));
    }
    return BuildExportFile(r.export_id());
  }
  return BuildExportFile(r.export_id());
}

absl::StatusOr<std::optional<NewEntry>> LedgerServiceImpl::ClaimIfOverpaid(const v1::Entitlement& ent,
                                                                           const v1::GetCycleResponse& cycle,
                                                                           std::string_view cause_event_id) {
  const v1::EntitlementCreated& c = ent.created();
  const std::string claim_id = RecoveryClaimId(c.entitlement_id());
  rocksdb::DB* db = projection_->db();
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> had, Read(db, keys::Claim(claim_id)));
  if (had) return std::nullopt;
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  JARING_ASSIGN_OR_RETURN(bool alive,
                          HadLivingMember(db, c.kk_number(), events::ToMillis(cycle.cycle().cutoff()), now_ms));
  if (alive) return std::nullopt;
  NewEntry n = Entry(ent.cycle_id(), events::DeterministicId("ledger", {claim_id}), ent.cycle_id());
  n.envelope.set_causation_id(std::string(cause_event_id));
  n.envelope.set_region_code(c.region_code());
  v1::LedgerEntry* le = n.envelope.mutable_ledger_entry();
  v1::RecoveryClaimRaised* rc = le->mutable_recovery_claim_raised();
  rc->set_claim_id(claim_id);
  rc->set_entitlement_id(c.entitlement_id());
  rc->set_kk_number(c.kk_number());
  rc->set_amount(c.amount());
  rc->set_cause_event_id(std::string(cause_event_id));
  *le->add_postings() = Post(accounts::Recovery(c.program(), c.kk_number()), c.amount());
  *le->add_postings() = Post(accounts::Overpayment(c.program(), cycle.cycle().region_prefix(), c.period()), -c.amount());
  return n;
}

absl::StatusOr<v1::ImportStatementResponse> LedgerServiceImpl::ImportStatement(std::string_view cycle_id,
                                                                               std::string_view csv,
                                                                               std::string_view actor) {
  absl::MutexLock l(&write_mu_);
  JARING_RETURN_IF_ERROR(CatchUpJournal());
  JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadOpenCycle(cycle_id));
  rocksdb::DB* db = projection_->db();
  const ledger::ParsedStatement parsed = ledger::ParseStatement(csv);
  v1::ImportStatementResponse resp;
  resp.set_lines(static_cast<int64_t>(parsed.lines.size() + parsed.errors.size()));
  for (const ledger::LineError& e : parsed.errors) {
    v1::StatementProblem* p = resp.add_problems();
    p->set_line_number(e.line_number);
    p->set_message(ledger::ToString(e));
  }
  std::vector<NewEntry> entries;
  for (const ledger::StatementLine& line : parsed.lines) {
    auto problem = [&](std::string message) {
      v1::StatementProblem* p = resp.add_problems();
      p->set_line_number(line.line_number);
      p->set_reference(line.reference);
      p->set_message(absl::StrCat("line ", line.line_number, ": ", message));
    };
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> id, Read(db, keys::Reference(line.reference)));
    if (!id) {
      problem(absl::StrCat("reference ", line.reference, " matches no instruction"));
      continue;
    }
    JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> ent, LoadEntitlement(*id));
    if (!ent) return absl::DataLossError(absl::StrCat("missing entitlement ", *id));
    if (ent->cycle_id() != cycle_id) {
      problem(absl::StrCat("reference ", line.reference, " belongs to cycle ", ent->cycle_id()));
      continue;
    }
    // The entitlement's state is the journal's, not the store's.
    const JournalState::EntitlementState* state = journal_->Entitlement(*id);
    if (state == nullptr) {
      return absl::DataLossError(absl::StrCat("the ledger store has entitlement ", *id,
                                              ", the journal has not: run verify-ledger"));
    }
    if (state->reference != line.reference) {
      problem(absl::StrCat("reference ", line.reference, " is not the latest instruction of its entitlement (",
                           state->reference, " is)"));
      continue;
    }
    const v1::EntitlementCreated& c = ent->created();
    if (c.amount() != state->amount || c.kk_number() != state->kk_number()) {
      return absl::FailedPreconditionError(absl::StrCat("the ledger store's entitlement ", *id,
                                                        " differs from the journal's: nothing imported; run "
                                                        "verify-ledger and rebuild the ledger store from the log"));
    }
    if (line.amount != c.amount()) {
      problem(absl::StrCat("amount ", Rupiah(line.amount), " disagrees with the instruction's ", Rupiah(c.amount())));
      continue;
    }
    const v1::EntitlementStatus wanted = line.status == ledger::StatementLine::Status::kPaid
                                             ? v1::ENTITLEMENT_STATUS_PAID
                                         : line.status == ledger::StatementLine::Status::kFailed
                                             ? v1::ENTITLEMENT_STATUS_FAILED
                                             : v1::ENTITLEMENT_STATUS_RETURNED;
    if (state->status != v1::ENTITLEMENT_STATUS_INSTRUCTED) {
      if (state->status == wanted) {
        resp.set_already_applied(resp.already_applied() + 1);
      } else {
        problem(absl::StrCat("reference ", line.reference, " is already ", StatusWord(state->status)));
      }
      continue;
    }
    const std::string clearing = accounts::Clearing(cycle.cycle().channel(), cycle_id);
    NewEntry n = Entry(std::string(cycle_id),
                       events::DeterministicId("ledger", {line.reference, ledger::StatusName(line.status)}),
                       std::string(cycle_id));
    n.envelope.set_actor(std::string(actor));
    v1::LedgerEntry* le = n.envelope.mutable_ledger_entry();
    *le->add_postings() = Post(clearing, c.amount());
    switch (line.status) {
      case ledger::StatementLine::Status::kPaid: {
        v1::PaymentSettled* s = le->mutable_payment_settled();
        s->set_entitlement_id(c.entitlement_id());
        s->set_reference(line.reference);
        s->set_channel_reference(line.channel_reference);
        s->set_settled_on(absl::FormatCivilTime(line.settled_on));
        s->set_amount(c.amount());
        *le->add_postings() = Post(accounts::Paid(c.program(), cycle.cycle().region_prefix(), c.period()), -c.amount());
        resp.set_paid(resp.paid() + 1);
        resp.set_paid_amount(resp.paid_amount() + c.amount());
        break;
      }
      case ledger::StatementLine::Status::kFailed: {
        v1::PaymentFailed* f = le->mutable_payment_failed();
        f->set_entitlement_id(c.entitlement_id());
        f->set_reference(line.reference);
        f->set_channel_reference(line.channel_reference);
        f->set_amount(c.amount());
        *le->add_postings() = Post(accounts::Payable(c.program(), c.period(), c.kk_number()), -c.amount());
        resp.set_failed(resp.failed() + 1);
        break;
      }
      case ledger::StatementLine::Status::kReturned: {
        v1::PaymentReturned* rt = le->mutable_payment_returned();
        rt->set_entitlement_id(c.entitlement_id());
        rt->set_reference(line.reference);
        rt->set_channel_reference(line.channel_reference);
        rt->set_amount(c.amount());
        *le->add_postings() =
            Post(accounts::Budget(c.program(), cycle.cycle().region_prefix(), c.period()), -c.amount());
        resp.set_returned(resp.returned() + 1);
        break;
      }
    }
    entries.push_back(std::move(n));
    if (line.status == ledger::StatementLine::Status::kPaid) {
      // Paid to a family that, as known now, had no living member at the
      // cutoff: claim it back at once.
      JARING_ASSIGN_OR_RETURN(std::optional<NewEntry> claim, ClaimIfOverpaid(*ent, cycle, ""));
      if (claim) entries.push_back(std::move(*claim));
    }
  }
  JARING_RETURN_IF_ERROR(AppendEntries(entries));
  return resp;
}

absl::StatusOr<v1::CloseCycleResponse> LedgerServiceImpl::CloseCycle(const v1::CloseCycleRequest& r) {
  absl::MutexLock l(&write_mu_);
  JARING_RETURN_IF_ERROR(CatchUpJournal());
  JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadCycle(r.cycle_id()));
  v1::CloseCycleResponse resp;
  if (cycle.closed()) {
    resp.set_merkle_root(cycle.merkle_root());
    resp.set_entries(cycle.entries());
    return resp;
  }
  if (!cycle.complete()) return absl::FailedPreconditionError(Incomplete(cycle));
  std::vector<ledger::Hash> leaves;
  JARING_RETURN_IF_ERROR(Scan(projection_->db(), keys::LeafPrefix(r.cycle_id()),
                              [&](std::string_view, std::string_view value) -> absl::Status {
                                std::optional<ledger::Hash> h = ledger::HashFromBytes(value);
                                if (!h) return absl::DataLossError("corrupt leaf hash");
                                leaves.push_back(*h);
                                return absl::OkStatus();
                              }));
  const std::string root = ledger::ToHex(ledger::MerkleRoot(leaves));
  std::vector<NewEntry> entries;
  NewEntry n = Entry(r.cycle_id(), events::DeterministicId("ledger", {r.cycle_id(), "closed"}), r.cycle_id());
  n.envelope.set_actor(r.actor());
  v1::CycleClosed* cc = n.envelope.mutable_ledger_entry()->mutable_cycle_closed();
  cc->set_merkle_root(root);
  cc->set_entries(static_cast<int64_t>(leaves.size()));
  cc->set_families(cycle.cycle().families());
  cc->set_total_entitled(cycle.entitled_amount());
  cc->set_total_paid(cycle.paid_amount());
  entries.push_back(std::move(n));
  JARING_RETURN_IF_ERROR(AppendEntries(entries));
  resp.set_merkle_root(root);
  resp.set_entries(static_cast<int64_t>(leaves.size()));
  return resp;
}

absl::StatusOr<int64_t> LedgerServiceImpl::RaiseRecoveryClaims() {
  absl::MutexLock l(&write_mu_);
  JARING_RETURN_IF_ERROR(CatchUpJournal());
  rocksdb::DB* db = projection_->db();
  std::vector<std::pair<std::string, std::string>> deaths;  // key, kk
  JARING_RETURN_IF_ERROR(Scan(db, keys::kDeathPrefix, [&](std::string_view k, std::string_view kk) -> absl::Status {
    deaths.emplace_back(std::string(k), std::string(kk));
    return absl::OkStatus();
  }));
  if (deaths.empty()) return 0;
  std::vector<NewEntry> entries;
  std::set<std::string> claimed;
  for (const auto& [key, kk] : deaths) {
    // The event that caused the check: the death (or correction) itself.
    const std::string_view pos = std::string_view(key).substr(keys::kDeathPrefix.size());
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                            Read(db, absl::StrCat(keys::HistoryPrefix(kk), Av(pos))));
    v1::Envelope cause;
    if (bytes) cause.ParseFromString(*bytes);
    std::vector<std::string> ids;
    JARING_RETURN_IF_ERROR(Scan(db, keys::FamilyEntitlementPrefix(kk), [&](std::string_view k, std::string_view) {
      ids.push_back(std::string(k.substr(keys::FamilyEntitlementPrefix(kk).size())));
      return absl::OkStatus();
    }));
    for (const std::string& id : ids) {
      JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> ent, LoadEntitlement(id));
      const JournalState::EntitlementState* state = journal_->Entitlement(id);
      if (!ent || state == nullptr || state->status != v1::ENTITLEMENT_STATUS_PAID || state->claimed ||
          claimed.contains(id)) {
        continue;
      }
      JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadCycle(ent->cycle_id()));
      JARING_ASSIGN_OR_RETURN(std::optional<NewEntry> claim, ClaimIfOverpaid(*ent, cycle, cause.event_id()));
      if (claim) {
        claimed.insert(id);
        entries.push_back(std::move(*claim));
      }
    }
  }
  JARING_RETURN_IF_ERROR(AppendEntries(entries));
  // The claims are applied (read back): the deaths are checked.
  rocksdb::WriteBatch forget;
  for (const auto& [key, kk] : deaths) forget.Delete(key);
  JARING_RETURN_IF_ERROR(RocksError(db->Write(rocksdb::WriteOptions(), &forget)));
  return static_cast<int64_t>(entries.size());
}

// ---------------------------------------------------------------- queries

absl::StatusOr<v1::GetCycleResponse> LedgerServiceImpl::GetCycle(const v1::GetCycleRequest& r) {
  JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadCycle(r.cycle_id()));
  std::map<std::string, std::pair<int64_t, int64_t>> regions;
  std::map<int, int64_t> components;
  JARING_RETURN_IF_ERROR(Scan(projection_->db(), keys::CycleFamilyPrefix(r.cycle_id()),
                              [&](std::string_view, std::string_view id) -> absl::Status {
                                JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> ent, LoadEntitlement(id));
                                if (!ent) return absl::DataLossError("missing entitlement");
                                auto& reg = regions[ent->created().region_code()];
                                reg.first++;
                                reg.second += ent->created().amount();
                                std::set<int> kinds(ent->created().components().begin(),
                                                    ent->created().components().end());
                                for (int k : kinds) components[k]++;
                                return absl::OkStatus();
                              }));
  for (const auto& [code, t] : regions) {
    v1::RegionTotal* out = cycle.add_regions();
    out->set_region_code(code);
    out->set_families(t.first);
    out->set_amount(t.second);
  }
  for (const auto& [kind, n] : components) {
    v1::ComponentTotal* out = cycle.add_components();
    out->set_kind(static_cast<v1::PkhComponentKind>(kind));
    out->set_families(n);
  }
  return cycle;
}

absl::StatusOr<std::vector<v1::GetCycleResponse>> LedgerServiceImpl::ListCycles() {
  std::vector<v1::GetCycleResponse> out;
  JARING_RETURN_IF_ERROR(Scan(projection_->db(), keys::Cycle(""), [&](std::string_view, std::string_view v) -> absl::Status {
    v1::GetCycleResponse c;
    if (!c.ParseFromArray(v.data(), static_cast<int>(v.size()))) return absl::DataLossError("ledger store: a cycle does not parse");
    c.set_complete(CycleComplete(c));
    out.push_back(std::move(c));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ListAccountsResponse> LedgerServiceImpl::ListAccounts(const v1::ListAccountsRequest& r) {
  v1::ListAccountsResponse resp;
  JARING_RETURN_IF_ERROR(Scan(projection_->db(), keys::Account(r.prefix()),
                              [&](std::string_view k, std::string_view v) -> absl::Status {
                                v1::AccountBalance* a = resp.add_accounts();
                                a->set_account(std::string(k.substr(keys::kAccountPrefix.size())));
                                a->set_balance(DecodeBalance(v));
                                resp.set_sum(resp.sum() + a->balance());
                                return absl::OkStatus();
                              }));
  return resp;
}

absl::StatusOr<v1::GetFamilyLedgerResponse> LedgerServiceImpl::GetFamilyLedger(const v1::GetFamilyLedgerRequest& r) {
  if (r.kk_number().size() != 16) return Invalid("kk_number", "must be 16 digits");
  rocksdb::DB* db = projection_->db();
  v1::GetFamilyLedgerResponse resp;
  const std::string ep = keys::FamilyEntitlementPrefix(r.kk_number());
  JARING_RETURN_IF_ERROR(Scan(db, ep, [&](std::string_view k, std::string_view) -> absl::Status {
    JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> ent, LoadEntitlement(k.substr(ep.size())));
    if (ent) *resp.add_entitlements() = std::move(*ent);
    return absl::OkStatus();
  }));
  const std::string cp = keys::FamilyClaimPrefix(r.kk_number());
  JARING_RETURN_IF_ERROR(Scan(db, cp, [&](std::string_view k, std::string_view) -> absl::Status {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, Read(db, keys::Claim(k.substr(cp.size()))));
    if (bytes) resp.add_recovery_claims()->ParseFromString(*bytes);
    return absl::OkStatus();
  }));
  return resp;
}

absl::StatusOr<v1::ListRecoveryClaimsResponse> LedgerServiceImpl::ListRecoveryClaims(
    const v1::ListRecoveryClaimsRequest& r) {
  v1::ListRecoveryClaimsResponse resp;
  JARING_RETURN_IF_ERROR(Scan(projection_->db(), keys::kClaimPrefix,
                              [&](std::string_view, std::string_view v) -> absl::Status {
                                v1::RecoveryClaimRaised c;
                                if (!c.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
                                  return absl::DataLossError("corrupt claim");
                                }
                                JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> ent,
                                                        LoadEntitlement(c.entitlement_id()));
                                if (!r.region_prefix().empty() &&
                                    !(ent && absl::StartsWith(ent->created().region_code(), r.region_prefix()))) {
                                  return absl::OkStatus();
                                }
                                resp.set_total_amount(resp.total_amount() + c.amount());
                                *resp.add_claims() = std::move(c);
                                return absl::OkStatus();
                              }));
  return resp;
}

absl::StatusOr<v1::GetInclusionProofResponse> LedgerServiceImpl::GetInclusionProof(
    const v1::GetInclusionProofRequest& r) {
  JARING_ASSIGN_OR_RETURN(v1::GetCycleResponse cycle, LoadCycle(r.cycle_id()));
  if (!cycle.closed()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cycle ", r.cycle_id(), " is open: a proof needs the root that closing the cycle fixes"));
  }
  rocksdb::DB* db = projection_->db();
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> id, Read(db, keys::CycleFamily(r.cycle_id(), r.kk_number())));
  if (!id) {
    return absl::NotFoundError(absl::StrCat("kk_number: family ", r.kk_number(), " has no entitlement in cycle ",
                                            r.cycle_id()));
  }
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Entitlement> ent, LoadEntitlement(*id));
  if (!ent) return absl::DataLossError("missing entitlement");
  std::vector<ledger::Hash> leaves;
  JARING_RETURN_IF_ERROR(Scan(db, keys::LeafPrefix(r.cycle_id()), [&](std::string_view, std::string_view v) {
    leaves.push_back(*ledger::HashFromBytes(v));
    return absl::OkStatus();
  }));
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> entry, Read(db, keys::Journal(ent->partition(), ent->sequence())));
  if (!entry) return absl::DataLossError("missing journal entry");
  ledger::MerkleTree tree(std::move(leaves));
  if (ledger::ToHex(tree.root()) != cycle.merkle_root()) {
    return absl::DataLossError(absl::StrCat("cycle ", r.cycle_id(), ": stored leaves do not give the published root"));
  }
  JARING_ASSIGN_OR_RETURN(ledger::InclusionProofBundle proof,
                          ledger::MakeProof(tree, static_cast<size_t>(ent->leaf_index()), std::move(*entry)));
  v1::GetInclusionProofResponse resp;
  resp.set_proof(ledger::EncodeProof(proof));
  return resp;
}

absl::StatusOr<v1::VerifyLedgerResponse> LedgerServiceImpl::VerifyLedger(const v1::VerifyLedgerRequest&) {
  if (log_ == nullptr) {
    return absl::FailedPreconditionError(
        "VerifyLedger reads the journal on the log itself; a replay holds only the store: verify on the live system");
  }
  rocksdb::DB* db = projection_->db();
  v1::VerifyLedgerResponse resp;
  resp.set_ok(true);
  auto fail = [&](int32_t p, int64_t offset, std::string what) {
    if (!resp.ok()) return;
    resp.set_ok(false);
    resp.mutable_first_break()->set_partition(p);
    resp.mutable_first_break()->set_offset(offset);
    resp.mutable_first_break()->set_what(std::move(what));
  };
  // The state machine and every balance, replayed from the log alone.
  JournalState journal(/*all_balances=*/true);
  std::map<std::string, std::vector<ledger::Hash>> cycle_leaves;
  std::set<std::string> closed;
  // Where each entitlement was created (to name a store that disagrees).
  std::map<std::string, std::pair<int32_t, int64_t>, std::less<>> created_at;
  JARING_ASSIGN_OR_RETURN(std::unique_ptr<eventlog::Reader> reader, log_->NewReader());
  for (int32_t p = 0; p < partitions_ && resp.ok(); ++p) {
    JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(events::kLedgerTopic, p));
    JARING_ASSIGN_OR_RETURN(int64_t begin, log_->BeginOffset(events::kLedgerTopic, p));
    if (begin != 0) {
      fail(p, begin, "the log no longer holds the start of the chain (retention must be forever)");
      break;
    }
    std::map<std::string, std::string> seen;  // event id -> bytes
    if (end > 0) JARING_RETURN_IF_ERROR(reader->Assign({{std::string(events::kLedgerTopic), p, 0}}));
    for (int64_t next = 0; next < end && resp.ok();) {
      JARING_ASSIGN_OR_RETURN(std::vector<eventlog::StoredRecord> recs, reader->Poll(4096, absl::Seconds(5)));
      if (recs.empty()) return absl::UnavailableError("the log stopped answering while verifying");
      for (const eventlog::StoredRecord& rec : recs) {
        next = rec.offset + 1;
        if (!resp.ok()) break;
        v1::Envelope e;
        if (!e.ParseFromString(rec.value) || !e.has_ledger_entry()) {
          fail(p, rec.offset, "record is not a ledger entry");
          break;
        }
        auto dup = seen.find(e.event_id());
        if (dup != seen.end()) {
          if (dup->second != rec.value) fail(p, rec.offset, "two different records share one event id");
          continue;  // a retried append stored twice
        }
        seen.emplace(e.event_id(), rec.value);
        const v1::LedgerEntry& le = e.ledger_entry();
        absl::StatusOr<JournalState::Applied> applied = journal.Apply(p, rec.value, e);
        if (!applied.ok()) {
          fail(p, rec.offset, std::string(applied.status().message()));
          break;
        }
        if (*applied == JournalState::Applied::kDuplicate) {
          fail(p, rec.offset, absl::StrCat("chain broken: sequence ", le.sequence(), " repeats with another event id"));
          break;
        }
        if (le.has_entitlement_created()) created_at[le.entitlement_created().entitlement_id()] = {p, rec.offset};
        JARING_ASSIGN_OR_RETURN(std::optional<std::string> stored, Read(db, keys::Journal(p, le.sequence())));
        if (!stored || *stored != rec.value) {
          fail(p, rec.offset, absl::StrCat("the store's copy of sequence ", le.sequence(), " differs from the log"));
          break;
        }
        if (!le.cycle_id().empty() && !closed.contains(le.cycle_id())) {
          if (le.has_cycle_closed()) {
            closed.insert(le.cycle_id());
            const std::string root = ledger::ToHex(ledger::MerkleRoot(cycle_leaves[le.cycle_id()]));
            resp.set_cycles_checked(resp.cycles_checked() + 1);
            if (root != le.cycle_closed().merkle_root()) {
              fail(p, rec.offset, absl::StrCat("cycle ", le.cycle_id(), ": its entries give root ", root,
                                               ", the closing entry says ", le.cycle_closed().merkle_root()));
              break;
            }
          } else {
            cycle_leaves[le.cycle_id()].push_back(ledger::LeafHash(rec.value));
          }
        }
        resp.set_entries(resp.entries() + 1);
      }
    }
    if (!resp.ok()) break;
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> stored_head, Read(db, keys::Head(p)));
    const ChainHead& head = journal.Head(p);
    if (head.next_sequence > 0 && (!stored_head || *stored_head != EncodeHead(head))) {
      fail(p, end, "the store's chain head differs from the log's");
    }
  }
  if (!resp.ok()) return resp;
  // The store against the journal: balances, entitlements, cycles.
  std::map<std::string, int64_t, std::less<>> balances = journal.balances();
  JARING_RETURN_IF_ERROR(Scan(db, keys::kAccountPrefix, [&](std::string_view k, std::string_view v) {
    const std::string account(k.substr(keys::kAccountPrefix.size()));
    auto it = balances.find(account);
    const int64_t want = it == balances.end() ? 0 : it->second;
    if (want != DecodeBalance(v)) {
      fail(-1, -1, absl::StrCat("account ", account, ": the store says ", DecodeBalance(v), ", the journal ", want));
    }
    if (it != balances.end()) balances.erase(it);
    return absl::OkStatus();
  }));
  for (const auto& [account, balance] : balances) {
    if (balance != 0) fail(-1, -1, absl::StrCat("account ", account, " is missing from the store"));
  }
  int64_t stored_entitlements = 0;
  JARING_RETURN_IF_ERROR(Scan(db, keys::Entitlement(""), [&](std::string_view, std::string_view v) {
    v1::Entitlement ent;
    stored_entitlements++;
    if (!ent.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      fail(-1, -1, "the store holds an entitlement that does not parse");
      return absl::OkStatus();
    }
    const std::string what = journal.Disagreement(ent);
    if (!what.empty()) {
      auto at = created_at.find(ent.created().entitlement_id());
      fail(at == created_at.end() ? -1 : at->second.first, at == created_at.end() ? -1 : at->second.second,
           absl::StrCat("ledger store: ", what));
    }
    return absl::OkStatus();
  }));
  if (stored_entitlements != journal.entitlements()) {
    fail(-1, -1, absl::StrCat("ledger store: ", stored_entitlements, " entitlements where the journal has ",
                              journal.entitlements()));
  }
  for (const JournalState::CycleState& c : journal.cycles()) {
    absl::StatusOr<v1::GetCycleResponse> stored = LoadCycle(c.cycle_id);
    if (!stored.ok()) {
      fail(c.partition, -1, absl::StrCat("ledger store: cycle ", c.cycle_id, ": ", stored.status().message()));
      continue;
    }
    if (stored->closed() != c.closed || stored->entitled_families() != c.entitled_families ||
        stored->entitled_amount() != c.entitled_amount || stored->exports_size() != static_cast<int>(c.exports.size())) {
      fail(c.partition, -1, absl::StrCat("ledger store: cycle ", c.cycle_id, " differs from the journal (closed, ",
                                         "entitlements or exports)"));
    }
  }
  return resp;
}

// ---------------------------------------------------------------- gRPC

grpc::Status LedgerServiceImpl::AllocateBudget(grpc::ServerContext* context, const v1::AllocateBudgetRequest* r,
                                               v1::AllocateBudgetResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(AllocateBudget(*r), out);
}
grpc::Status LedgerServiceImpl::OpenCycle(grpc::ServerContext* context, const v1::OpenCycleRequest* r,
                                          v1::OpenCycleResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(OpenCycle(*r), out);
}
namespace {
// Both export RPCs stream the file in the same pieces (ExportInstructions-
// and FetchExportResponse have the same fields).
template <typename Piece>
grpc::Status StreamExport(const absl::StatusOr<LedgerServiceImpl::Export>& e, grpc::ServerWriter<Piece>* writer) {
  if (!e.ok()) return ToGrpc(e.status());
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at == 0 || at < e->csv.size(); at += kChunk) {
    Piece piece;
    piece.set_data(e->csv.substr(at, kChunk));
    if (at + kChunk >= e->csv.size()) {
      piece.set_instructions(e->instructions);
      piece.set_total_amount(e->total_amount);
      piece.set_export_id(e->export_id);
      piece.set_csv_sha256(e->csv_sha256);
      piece.set_resumed(e->resumed);
    }
    if (!writer->Write(piece)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  return grpc::Status::OK;
}
}  // namespace

grpc::Status LedgerServiceImpl::ExportInstructions(grpc::ServerContext* context, const v1::ExportInstructionsRequest* r,
                                                   grpc::ServerWriter<v1::ExportInstructionsResponse>* writer) {
  JARING_AUTHORIZE(context);
  return StreamExport(ExportInstructions(*r), writer);
}
grpc::Status LedgerServiceImpl::FetchExport(grpc::ServerContext* context, const v1::FetchExportRequest* r,
                                            grpc::ServerWriter<v1::FetchExportResponse>* writer) {
  JARING_AUTHORIZE(context);
  return StreamExport(FetchExport(*r), writer);
}
grpc::Status LedgerServiceImpl::ImportStatement(grpc::ServerContext* context,
                                                grpc::ServerReader<v1::ImportStatementRequest>* reader,
                                                v1::ImportStatementResponse* out) {
  JARING_AUTHORIZE(context);
  v1::ImportStatementRequest piece;
  std::string cycle_id, actor, csv;
  while (reader->Read(&piece)) {
    JARING_AUTHORIZE(context);  // every chunk naming a cycle is checked
    if (cycle_id.empty()) cycle_id = piece.cycle_id();
    if (actor.empty()) actor = piece.actor();
    csv += piece.data();
  }
  return Reply(ImportStatement(cycle_id, csv, actor), out);
}
grpc::Status LedgerServiceImpl::CloseCycle(grpc::ServerContext* context, const v1::CloseCycleRequest* r,
                                           v1::CloseCycleResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(CloseCycle(*r), out);
}
grpc::Status LedgerServiceImpl::GetCycle(grpc::ServerContext* context, const v1::GetCycleRequest* r,
                                         v1::GetCycleResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(GetCycle(*r), out);
}
grpc::Status LedgerServiceImpl::ListAccounts(grpc::ServerContext* context, const v1::ListAccountsRequest* r,
                                             v1::ListAccountsResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListAccounts(*r), out);
}
grpc::Status LedgerServiceImpl::GetFamilyLedger(grpc::ServerContext* context, const v1::GetFamilyLedgerRequest* r,
                                                v1::GetFamilyLedgerResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(GetFamilyLedger(*r), out);
}
grpc::Status LedgerServiceImpl::ListRecoveryClaims(grpc::ServerContext* context, const v1::ListRecoveryClaimsRequest* r,
                                                   v1::ListRecoveryClaimsResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListRecoveryClaims(*r), out);
}
grpc::Status LedgerServiceImpl::GetInclusionProof(grpc::ServerContext* context, const v1::GetInclusionProofRequest* r,
                                                  v1::GetInclusionProofResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(GetInclusionProof(*r), out);
}
grpc::Status LedgerServiceImpl::VerifyLedger(grpc::ServerContext* context, const v1::VerifyLedgerRequest* r,
                                             v1::VerifyLedgerResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(VerifyLedger(*r), out);
}

}  // namespace jaring::ledger_service
