#include "services/eligibility/service.h"

#include "libs/validation/validation.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/guard.h"
#include "libs/base/grpc_status.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/rules/compact.h"
#include "libs/rules/evaluate.h"
#include "services/eligibility/outcome.h"
#include "rocksdb/db.h"
#include "libs/projection/rocks_error.h"

namespace jaring::eligibility {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(why)));
}

using projection::RocksError;

absl::Status CheckKk(std::string_view kk) {
  if (kk.size() != 16 || !std::all_of(kk.begin(), kk.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Invalid("kk_number", "must be 16 digits");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(int32_t requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return Invalid("page_size", absl::StrCat("must be between 1 and ", kMaxPageSize));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

std::string FormatInstant(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M WIB", absl::FromUnixMillis(ms), WibTimeZone());
}

const v1::Decision* FindDecision(const std::vector<v1::Decision>& ds, std::string_view program) {
  for (const v1::Decision& d : ds) {
    if (Sv(d.program()) == program) return &d;
  }
  return nullptr;
}

// "52.71.01.1001" at depth 2 -> "52.71".
std::string RegionAtDepth(std::string_view code, int depth) {
  size_t from = 0;
  for (int i = 1; i <= depth; ++i) {
    const size_t dot = code.find('.', from);
    if (dot == std::string_view::npos) break;
    if (i == depth) return std::string(code.substr(0, dot));
    from = dot + 1;
  }
  return std::string(code);
}

// The program's decile limit, when the program has one.
int32_t DecileLimit(const v1::RuleSet& rules, std::string_view program) {
  for (const v1::ProgramRules& p : rules.programs()) {
    if (Sv(p.program_id()) != program) continue;
    if (p.has_pkh()) return p.pkh().max_decile();
    if (p.has_bpnt()) return p.bpnt().max_decile();
    if (p.has_blt_dana_desa()) return p.blt_dana_desa().max_decile();
  }
  return 0;
}

// Visits the KK numbers of families whose region starts with `prefix`,
// after `after` (exclusive).
template <typename Visit>
absl::Status ForEachFamilyInRegion(rocksdb::DB* db, std::string_view prefix, Visit visit) {
  const std::string start = keys::RegionPrefix(prefix);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    const size_t slash = key.rfind('/');
    JARING_RETURN_IF_ERROR(visit(key.substr(slash + 1), key.substr(2, slash - 2)));
  }
  return RocksError(it->status());
}

}  // namespace

EligibilityServiceImpl::EligibilityServiceImpl(eventlog::EventLog* log, ServiceOptions options)
    : log_(log), options_(std::move(options)), clock_(options_.clock ? options_.clock : Clock::Real()) {}

EligibilityServiceImpl::~EligibilityServiceImpl() {
  if (engine_) engine_->Stop();
  if (projection_) projection_->Stop();  // no commit (and no Nudge) after this
}

namespace {
projection::Options ProjectionOptions(const std::string& dir) {
  projection::Options po;
  po.dir = dir;
  po.topics = {std::string(events::kPopulationTopic), std::string(events::kRulesTopic),
               std::string(events::kEligibilityTopic)};
  return po;
}
}  // namespace

absl::Status EligibilityServiceImpl::BuildAsOf(eventlog::EventLog* log, const std::string& dir,
                                               const projection::Bound& bound, projection::Stats* stats) {
  EligibilityApplier applier;
  return projection::BuildAsOf(log, &applier, ProjectionOptions(dir), bound, stats);
}

absl::StatusOr<std::unique_ptr<EligibilityServiceImpl>> EligibilityServiceImpl::Create(eventlog::EventLog* log,
                                                                                       ServiceOptions options) {
  std::unique_ptr<EligibilityServiceImpl> s(new EligibilityServiceImpl(log, std::move(options)));
  projection::Options po = ProjectionOptions(s->options_.store_dir);
  EligibilityServiceImpl* self = s.get();
  po.on_commit = [self] {
    if (self->engine_) self->engine_->Nudge();
  };
  JARING_ASSIGN_OR_RETURN(s->projection_, projection::OpenFor(s->options_.mode, log, &s->applier_, po));
  s->engine_ = std::make_unique<Engine>(log, s->projection_.get(), s->clock_, s->options_.apply_timeout);
  // Only the writer derives decisions; a replica or snapshot reads the ones
  // recorded.
  if (s->options_.mode == projection::Mode::kWriter && s->options_.engine_interval > absl::ZeroDuration()) {
    s->engine_->Start(s->options_.engine_interval);
  }
  return s;
}

absl::StatusOr<std::vector<std::shared_ptr<const PublishedRules>>> EligibilityServiceImpl::Published() {
  const auto next = projection_->NextOffsets();
  auto it = next.find({std::string(events::kRulesTopic), 0});
  const int64_t rules_next = it == next.end() ? 0 : it->second;
  absl::MutexLock l(&rules_mu_);
  if (rules_next != rules_loaded_next_) {
    JARING_ASSIGN_OR_RETURN(published_, LoadPublishedRules(projection_->db()));
    rules_loaded_next_ = rules_next;
  }
  return published_;
}

// ---------------------------------------------------------------------------
// Rule sets

absl::StatusOr<v1::PublishRuleSetResponse> EligibilityServiceImpl::PublishRuleSet(
    const v1::PublishRuleSetRequest& r) {
  JARING_RETURN_IF_ERROR(projection::RequireWriter(options_.mode, "eligibility"));
  if (!r.has_rule_set()) return Invalid("rule_set", "is required");
  if (!r.rule_set().has_effective_from()) return Invalid("rule_set.effective_from", "is required");
  if (r.rule_set().effective_from().seconds() <= 0) return Invalid("rule_set.effective_from", "must be after 1970");
  // The bound every command shares: a later date could not be read back as
  // RFC 3339 (a reader's JSON would break).
  JARING_RETURN_IF_ERROR(validation::ValidateTimestamp("rule_set.effective_from", r.rule_set().effective_from()));
  JARING_RETURN_IF_ERROR(rules::ValidateRuleSet(r.rule_set()));
  const std::string hash = rules::ContentHash(r.rule_set());

  absl::MutexLock l(&publish_mu_);
  // See every rule set already on the log before deciding uniqueness.
  JARING_ASSIGN_OR_RETURN(int64_t end, log_->EndOffset(events::kRulesTopic, 0));
  JARING_RETURN_IF_ERROR(projection_->WaitFor(events::kRulesTopic, 0, end, options_.apply_timeout));
  JARING_ASSIGN_OR_RETURN(auto published, Published());
  for (const auto& p : published) {
    if (p->rules.version() != r.rule_set().version()) continue;
    if (p->hash != hash) {
      return absl::AlreadyExistsError(absl::StrCat("rule_set.version: ", r.rule_set().version(),
                                                   " is already published with content hash ", p->hash,
                                                   "; publish changes under a new version"));
    }
    v1::PublishRuleSetResponse resp;
    resp.set_content_hash(hash);
    resp.set_offset(p->offset);
    resp.set_deduplicated(true);
    resp.set_version(p->rules.version());
    const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
    const auto in_force = RuleSetInForce(published, now_ms, now_ms);
    resp.set_in_force(in_force == p);
    return resp;
  }

  v1::Envelope env;
  env.set_event_id(events::DeterministicId("rules", {hash}));
  env.set_key(r.rule_set().version());
  const absl::Time now = clock_->Now();
  *env.mutable_occurred_at() = events::ToProtoTime(now);
  *env.mutable_recorded_at() = events::ToProtoTime(now);
  env.set_source(v1::SOURCE_NATIONAL);
  env.set_actor(r.actor());
  env.set_correlation_id(env.event_id());
  *env.mutable_rule_set_published()->mutable_rule_set() = r.rule_set();
  env.mutable_rule_set_published()->set_content_hash(hash);
  events::StampType(env);
  const eventlog::Record record = events::ToRecord(env);
  JARING_ASSIGN_OR_RETURN(std::vector<eventlog::Position> pos,
                          log_->Append(events::kRulesTopic, std::span<const eventlog::Record>(&record, 1)));
  JARING_RETURN_IF_ERROR(
      projection_->WaitFor(events::kRulesTopic, pos[0].partition, pos[0].offset + 1, options_.apply_timeout));
  v1::PublishRuleSetResponse resp;
  resp.set_content_hash(hash);
  resp.set_offset(pos[0].offset);
  resp.set_version(r.rule_set().version());
  JARING_ASSIGN_OR_RETURN(auto after, Published());
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const auto in_force = RuleSetInForce(after, now_ms, now_ms);
  resp.set_in_force(in_force != nullptr && in_force->hash == hash);
  if (!resp.in_force() && in_force != nullptr && events::ToMillis(r.rule_set().effective_from()) <= now_ms) {
    resp.set_superseded_by(in_force->rules.version());
  }
  return resp;
}

absl::StatusOr<v1::ListRuleSetsResponse> EligibilityServiceImpl::ListRuleSets(const v1::ListRuleSetsRequest&) {
  JARING_ASSIGN_OR_RETURN(auto published, Published());
  const absl::Time now = clock_->Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  const auto in_force = RuleSetInForce(published, now_ms, now_ms);
  v1::ListRuleSetsResponse resp;
  for (const auto& p : published) {
    v1::PublishedRuleSet* out = resp.add_rule_sets();
    out->set_version(p->rules.version());
    out->set_content_hash(p->hash);
    *out->mutable_effective_from() = p->rules.effective_from();
    *out->mutable_published_at() = events::ToProtoTime(absl::FromUnixMillis(p->recorded_at_ms));
    out->set_offset(p->offset);
    out->set_in_force(p == in_force);
    out->set_description(p->rules.description());
    for (const v1::ProgramRules& prog : p->rules.programs()) out->add_programs(prog.program_id());
  }
  if (in_force) resp.set_evaluating_version(in_force->rules.version());
  const absl::CivilDay today = WibDay(now);
  resp.mutable_evaluating_date()->set_year(static_cast<int32_t>(today.year()));
  resp.mutable_evaluating_date()->set_month(today.month());
  resp.mutable_evaluating_date()->set_day(today.day());
  return resp;
}

// ---------------------------------------------------------------------------
// Decisions

absl::StatusOr<v1::GetDecisionResponse> EligibilityServiceImpl::GetDecision(const v1::GetDecisionRequest& r) {
  JARING_RETURN_IF_ERROR(CheckKk(r.kk_number()));
  if (r.program().empty()) return Invalid("program", "is required");
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const int64_t as_of_ms = r.has_as_of() ? events::ToMillis(r.as_of()) : now_ms;
  const int64_t known_ms = r.has_as_known_at() ? events::ToMillis(r.as_known_at()) : now_ms;
  rocksdb::DB* db = projection_->db();

  JARING_ASSIGN_OR_RETURN(std::vector<FamilyEvent> history, FamilyEvents(db, nullptr, r.kk_number(), known_ms));
  if (history.empty()) {
    return absl::NotFoundError(absl::StrCat("family ", r.kk_number(), " is unknown (as known at ",
                                            FormatInstant(known_ms), ")"));
  }
  FamilyPosition last;
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> family, FoldFamily(history, as_of_ms, &last));
  if (!family) {
    return absl::NotFoundError(
        absl::StrCat("family ", r.kk_number(), " was not registered on ", FormatInstant(as_of_ms)));
  }
  JARING_ASSIGN_OR_RETURN(auto published, Published());
  const auto rules = RuleSetInForce(published, as_of_ms, known_ms);
  if (rules == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("no rule set was in force on ", FormatInstant(as_of_ms),
                                                      " (as known at ", FormatInstant(known_ms), ")"));
  }
  std::vector<v1::Decision> decisions = EvaluateWith(*family, *rules, WibDay(absl::FromUnixMillis(as_of_ms)),
                                                     r.explain());
  const v1::Decision* found = FindDecision(decisions, r.program());
  if (found == nullptr) {
    std::vector<std::string> ids;
    for (const auto& p : rules->rules.programs()) ids.push_back(p.program_id());
    return absl::NotFoundError(absl::StrCat("program: ", r.program(), " is not in rule set ", rules->rules.version(),
                                            " (programs: ", absl::StrJoin(ids, ", "), ")"));
  }
  v1::GetDecisionResponse resp;
  v1::Decision* d = resp.mutable_decision();
  *d = *found;
  v1::InputPosition* in = d->add_inputs();
  in->set_topic(std::string(events::kPopulationTopic));
  in->set_partition(last.partition);
  in->set_offset(last.offset);
  in = d->add_inputs();
  in->set_topic(std::string(events::kRulesTopic));
  in->set_offset(rules->offset);

  // The decision recorded by then.
  const std::string prefix = absl::StrCat(keys::VersionPrefix(r.kk_number()), r.program(), "/");
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  std::optional<v1::Envelope> recorded;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::Envelope e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("corrupt decision of ", r.kk_number()));
    }
    // The decision on record on as_of, as known at as_known_at.
    if (events::ToMillis(e.recorded_at()) <= std::min(as_of_ms, known_ms)) recorded = std::move(e);
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  if (recorded) {
    *resp.mutable_recorded() = recorded->eligibility_decided().decision();
    *resp.mutable_recorded_at() = recorded->recorded_at();
    resp.set_recorded_agrees(SameOutcome(resp.recorded(), *d));
    if (resp.recorded_agrees()) {
      d->set_decision_id(resp.recorded().decision_id());
      d->set_version(resp.recorded().version());
    }
  } else {
    resp.set_recorded_agrees(!d->eligible());
  }
  return resp;
}

absl::StatusOr<v1::GetDecisionHistoryResponse> EligibilityServiceImpl::GetDecisionHistory(
    const v1::GetDecisionHistoryRequest& r) {
  JARING_RETURN_IF_ERROR(CheckKk(r.kk_number()));
  std::string prefix = keys::VersionPrefix(r.kk_number());
  if (!r.program().empty()) absl::StrAppend(&prefix, r.program(), "/");
  v1::GetDecisionHistoryResponse resp;
  std::unique_ptr<rocksdb::Iterator> it(projection_->db()->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::Envelope e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("corrupt decision of ", r.kk_number()));
    }
    v1::RecordedDecision* out = resp.add_decisions();
    *out->mutable_decision() = e.eligibility_decided().decision();
    *out->mutable_recorded_at() = e.recorded_at();
    out->set_trigger(e.eligibility_decided().trigger());
    out->set_supersedes_decision_id(e.eligibility_decided().supersedes_decision_id());
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  std::stable_sort(resp.mutable_decisions()->begin(), resp.mutable_decisions()->end(),
                   [](const v1::RecordedDecision& a, const v1::RecordedDecision& b) {
                     return events::ToMillis(a.recorded_at()) < events::ToMillis(b.recorded_at());
                   });
  return resp;
}

absl::StatusOr<v1::ListBeneficiariesResponse> EligibilityServiceImpl::ListBeneficiaries(
    const v1::ListBeneficiariesRequest& r) {
  if (r.program().empty()) return Invalid("program", "is required");
  if (r.region_prefix().empty()) return Invalid("region_prefix", "is required (e.g. 52.71)");
  JARING_ASSIGN_OR_RETURN(int page_size, PageSize(r.page_size()));
  const std::string prefix = keys::BeneficiaryPrefix(r.program(), r.region_prefix());
  if (!r.page_token().empty() && Sv(r.page_token()).substr(0, prefix.size()) != prefix) {
    return Invalid("page_token", "does not belong to this program and region prefix");
  }
  v1::ListBeneficiariesResponse resp;
  std::unique_ptr<rocksdb::Iterator> it(projection_->db()->NewIterator(rocksdb::ReadOptions()));
  std::string last;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::Beneficiary b;
    if (!b.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("corrupt beneficiary record");
    }
    resp.set_total_families(resp.total_families() + 1);
    resp.set_total_yearly_amount(resp.total_yearly_amount() + b.yearly_amount());
    if (!r.page_token().empty() && it->key().ToStringView() <= Sv(r.page_token())) continue;
    if (resp.beneficiaries_size() < page_size) {
      *resp.add_beneficiaries() = std::move(b);
      last = it->key().ToString();
    } else if (resp.next_page_token().empty()) {
      resp.set_next_page_token(last);
    }
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  return resp;
}

// ---------------------------------------------------------------------------
// Decile movements

namespace {

// A family at one end of a movement.
struct Point {
  std::optional<v1::Family> family;
  int64_t at_ms = 0;
};

}  // namespace

absl::StatusOr<v1::ListDecileMovementsResponse> EligibilityServiceImpl::ListDecileMovements(
    const v1::ListDecileMovementsRequest& r) {
  if (r.region_prefix().empty()) return Invalid("region_prefix", "is required (e.g. 52.71)");
  const bool by_time = r.has_from_time() || r.has_to_time();
  const bool by_round = !r.from_round().empty() || !r.to_round().empty();
  if (by_time == by_round) return Invalid("from_time", "give either from_time and to_time, or from_round and to_round");
  if (by_time && !(r.has_from_time() && r.has_to_time())) return Invalid("to_time", "both times are required");
  if (by_round && (r.from_round().empty() || r.to_round().empty())) return Invalid("to_round", "both rounds are required");
  JARING_ASSIGN_OR_RETURN(int page_size, PageSize(r.page_size()));
  JARING_ASSIGN_OR_RETURN(auto published, Published());
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  rocksdb::DB* db = projection_->db();

  v1::ListDecileMovementsResponse resp;
  std::map<std::string, std::pair<int64_t, int64_t>> program_totals;  // entered, left
  std::string last_kk;
  auto eval = [&](const Point& p) -> std::vector<v1::Decision> {
    if (!p.family) return {};
    const auto rules = RuleSetInForce(published, p.at_ms, now_ms);
    if (rules == nullptr) return {};
    return EvaluateWith(*p.family, *rules, WibDay(absl::FromUnixMillis(p.at_ms)), false);
  };
  JARING_RETURN_IF_ERROR(ForEachFamilyInRegion(
      db, r.region_prefix(), [&](std::string_view kk, std::string_view region) -> absl::Status {
        JARING_ASSIGN_OR_RETURN(std::vector<FamilyEvent> history, FamilyEvents(db, nullptr, kk, now_ms));
        Point a, b;
        if (by_time) {
          a.at_ms = events::ToMillis(r.from_time());
          b.at_ms = events::ToMillis(r.to_time());
          JARING_ASSIGN_OR_RETURN(a.family, FoldFamily(history, a.at_ms));
          JARING_ASSIGN_OR_RETURN(b.family, FoldFamily(history, b.at_ms));
        } else {
          // The time each round's assessment (its latest correction) took
          // effect for this family.
          std::map<std::string, int64_t> round_at;
          for (size_t i = 0; i < history.size(); ++i) {
            const v1::Envelope& e = history[i].event;
            if (!e.has_welfare_assessed() && !e.has_record_corrected()) continue;
            std::vector<FamilyEvent> prefix(history.begin(), history.begin() + static_cast<long>(i) + 1);
            JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> f, FoldFamily(prefix, std::nullopt));
            if (f && f->has_latest_assessment()) {
              round_at[f->latest_assessment().round()] = events::ToMillis(e.occurred_at());
            }
          }
          auto ia = round_at.find(r.from_round());
          auto ib = round_at.find(r.to_round());
          if (ia != round_at.end()) {
            a.at_ms = ia->second;
            JARING_ASSIGN_OR_RETURN(a.family, FoldFamily(history, a.at_ms));
          }
          if (ib != round_at.end()) {
            b.at_ms = ib->second;
            JARING_ASSIGN_OR_RETURN(b.family, FoldFamily(history, b.at_ms));
          }
        }
        const int32_t da = a.family ? a.family->latest_assessment().decile() : 0;
        const int32_t db_ = b.family ? b.family->latest_assessment().decile() : 0;
        resp.set_families(resp.families() + 1);
        if (da == 0 || db_ == 0) {
          resp.set_not_comparable(resp.not_comparable() + 1);
        } else if (db_ > da) {
          resp.set_moved_up(resp.moved_up() + 1);
        } else if (db_ < da) {
          resp.set_moved_down(resp.moved_down() + 1);
        } else {
          resp.set_unchanged(resp.unchanged() + 1);
        }
        v1::DecileMovement m;
        m.set_kk_number(std::string(kk));
        m.set_region_code(std::string(region));
        m.set_decile_before(da);
        m.set_decile_after(db_);
        m.set_delta(da != 0 && db_ != 0 ? db_ - da : 0);
        if (a.family) m.set_round_before(a.family->latest_assessment().round());
        if (b.family) m.set_round_after(b.family->latest_assessment().round());
        // Without an assessment at one end, the family is not comparable:
        // its programs at that end say nothing about the movement.
        const bool comparable = da != 0 && db_ != 0;
        const std::vector<v1::Decision> before = comparable ? eval(a) : std::vector<v1::Decision>{};
        const std::vector<v1::Decision> after = comparable ? eval(b) : std::vector<v1::Decision>{};
        std::set<std::string> programs;
        for (const auto& d : before) programs.insert(d.program());
        for (const auto& d : after) programs.insert(d.program());
        for (const std::string& p : programs) {
          const v1::Decision* x = FindDecision(before, p);
          const v1::Decision* y = FindDecision(after, p);
          const bool ex = x && x->eligible(), ey = y && y->eligible();
          const int64_t ax = x ? x->yearly_amount() : 0, ay = y ? y->yearly_amount() : 0;
          if (ex == ey && ax == ay) continue;
          if (!ex && ey) ++program_totals[p].first;
          if (ex && !ey) ++program_totals[p].second;
          v1::ProgramChange* c = m.add_programs();
          c->set_program(p);
          c->set_eligible_before(ex);
          c->set_eligible_after(ey);
          c->set_yearly_amount_before(ax);
          c->set_yearly_amount_after(ay);
        }
        const bool listed = r.include_unchanged() || (da != db_) || m.programs_size() > 0;
        if (!listed || (!r.page_token().empty() && kk <= Sv(r.page_token()))) return absl::OkStatus();
        if (resp.movements_size() < page_size) {
          *resp.add_movements() = std::move(m);
          last_kk = std::string(kk);
        } else if (resp.next_page_token().empty()) {
          resp.set_next_page_token(last_kk);
        }
        return absl::OkStatus();
      }));
  for (const auto& [program, t] : program_totals) {
    v1::ProgramMovementTotals* pt = resp.add_program_totals();
    pt->set_program(program);
    pt->set_entered(t.first);
    pt->set_left(t.second);
  }
  return resp;
}

// ---------------------------------------------------------------------------
// Risks

absl::StatusOr<v1::ListEligibilityRisksResponse> EligibilityServiceImpl::ListEligibilityRisks(
    const v1::ListEligibilityRisksRequest& r) {
  if (r.region_prefix().empty()) return Invalid("region_prefix", "is required (e.g. 52.71)");
  JARING_ASSIGN_OR_RETURN(int page_size, PageSize(r.page_size()));
  const absl::Time now = clock_->Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  const int64_t since_ms = r.has_since() ? events::ToMillis(r.since()) : absl::ToUnixMillis(now - absl::Hours(24 * 90));
  JARING_ASSIGN_OR_RETURN(auto published, Published());
  const auto rules = RuleSetInForce(published, now_ms, now_ms);
  const bool want_exclusion = r.kind() != v1::RISK_KIND_INCLUSION;
  const bool want_inclusion = r.kind() != v1::RISK_KIND_EXCLUSION;
  rocksdb::DB* db = projection_->db();

  v1::ListEligibilityRisksResponse resp;
  std::string last_kk;
  JARING_RETURN_IF_ERROR(ForEachFamilyInRegion(
      db, r.region_prefix(), [&](std::string_view kk, std::string_view region) -> absl::Status {
        std::vector<v1::EligibilityRisk> found;
        std::optional<std::vector<v1::Decision>> now_decisions;  // evaluated lazily
        const std::string prefix = keys::DecisionPrefix(kk);
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
        for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
          v1::Envelope e;
          if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
            return absl::DataLossError(absl::StrCat("corrupt decision of ", Av(kk)));
          }
          const v1::EligibilityDecided& ed = e.eligibility_decided();
          const v1::Decision& d = ed.decision();
          if (!r.program().empty() && d.program() != r.program()) continue;
          v1::EligibilityRisk risk;
          risk.set_kk_number(std::string(kk));
          risk.set_region_code(std::string(region));
          risk.set_program(d.program());
          risk.set_decision_id(d.decision_id());
          risk.set_trigger(ed.trigger());
          *risk.mutable_changed_at() = e.recorded_at();
          risk.set_decile(d.decile());
          if (rules) risk.set_decile_limit(DecileLimit(rules->rules, d.program()));
          if (want_exclusion && !d.eligible() && ed.previously_eligible() &&
              ed.trigger() == v1::EVALUATION_TRIGGER_POPULATION_EVENT && events::ToMillis(e.recorded_at()) >= since_ms) {
            risk.set_kind(v1::RISK_KIND_EXCLUSION);
            if (d.reasons_size() > 0) *risk.mutable_reason() = d.reasons(0);
            risk.set_yearly_amount(ed.previous_yearly_amount());
            found.push_back(std::move(risk));
          } else if (want_inclusion && d.eligible() && rules != nullptr) {
            if (!now_decisions) {
              std::string value;
              rocksdb::Status s = db->Get(rocksdb::ReadOptions(), keys::Family(kk), &value);
              JARING_RETURN_IF_ERROR(RocksError(s));
              v1::Family family;
              if (!s.ok() || !family.ParseFromString(value)) return absl::DataLossError("corrupt family");
              now_decisions = EvaluateWith(family, *rules, WibDay(now), false);
            }
            const v1::Decision* cur = FindDecision(*now_decisions, d.program());
            if (cur != nullptr && cur->eligible()) continue;
            risk.set_kind(v1::RISK_KIND_INCLUSION);
            if (cur != nullptr && cur->reasons_size() > 0) {
              *risk.mutable_reason() = cur->reasons(0);
              risk.set_decile(cur->decile());
            } else {
              *risk.mutable_reason() = ProgramEnded(d, *rules, WibDay(now)).reasons(0);
            }
            risk.set_yearly_amount(d.yearly_amount());
            found.push_back(std::move(risk));
          }
        }
        JARING_RETURN_IF_ERROR(RocksError(it->status()));
        for (v1::EligibilityRisk& risk : found) {
          if (risk.kind() == v1::RISK_KIND_EXCLUSION) resp.set_total_exclusion(resp.total_exclusion() + 1);
          if (risk.kind() == v1::RISK_KIND_INCLUSION) resp.set_total_inclusion(resp.total_inclusion() + 1);
          if (!r.page_token().empty() && kk <= Sv(r.page_token())) continue;
          if (resp.risks_size() < page_size || last_kk == kk) {
            *resp.add_risks() = std::move(risk);
            last_kk = std::string(kk);
          } else if (resp.next_page_token().empty()) {
            resp.set_next_page_token(last_kk);
          }
        }
        return absl::OkStatus();
      }));
  return resp;
}

// ---------------------------------------------------------------------------
// Simulation

absl::StatusOr<v1::SimulateResponse> EligibilityServiceImpl::Simulate(const v1::SimulateRequest& r) {
  if (!r.has_draft()) return Invalid("draft", "is required");
  JARING_RETURN_IF_ERROR(rules::ValidateRuleSet(r.draft()));
  if (r.region_depth() < 0 || r.region_depth() > 4) return Invalid("region_depth", "must be between 1 and 4");
  if (r.max_families() < 0) return Invalid("max_families", "must not be negative");
  const int depth = r.region_depth() == 0 ? 2 : r.region_depth();
  const int max_families = r.max_families() == 0 ? 1000 : r.max_families();
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  const int64_t at_ms = r.has_as_of() ? events::ToMillis(r.as_of()) : now_ms;
  const absl::CivilDay date = WibDay(absl::FromUnixMillis(at_ms));
  JARING_ASSIGN_OR_RETURN(auto published, Published());
  const auto current = RuleSetInForce(published, at_ms, now_ms);
  PublishedRules draft;
  draft.rules = r.draft();
  draft.hash = rules::ContentHash(r.draft());

  v1::SimulateResponse resp;
  resp.set_current_version(current ? current->rules.version() : "");
  resp.set_draft_hash(draft.hash);
  struct Row {
    int64_t before = 0, after = 0, entering = 0, leaving = 0, cost_before = 0, cost_after = 0;
  };
  std::map<std::pair<std::string, std::string>, Row> rows;
  // Both rule sets through the compact evaluator (held to the reference
  // by libs/rules/compact_test.cc), in one pass over the k/ records.
  JARING_ASSIGN_OR_RETURN(rules::CompiledRules draft_compiled, rules::CompiledRules::Compile(r.draft()));
  std::optional<rules::CompiledRules> current_compiled;
  if (current) {
    JARING_ASSIGN_OR_RETURN(rules::CompiledRules c, rules::CompiledRules::Compile(current->rules));
    current_compiled = std::move(c);
  }
  rocksdb::DB* db = projection_->db();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  const bool by_region = !r.region_prefix().empty();
  const std::string start = by_region ? keys::RegionPrefix(r.region_prefix()) : std::string(keys::kCompactPrefix);
  std::string value;
  FamilyRecord record;
  rules::CompactFamilyView view;
  rules::Outcome before, after;
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (by_region) {
      const std::string_view key = it->key().ToStringView();
      rocksdb::Status s = db->Get(rocksdb::ReadOptions(), keys::Compact(key.substr(key.rfind('/') + 1)), &value);
      JARING_RETURN_IF_ERROR(RocksError(s));
      if (!s.ok()) return absl::DataLossError("family without its compact record");
    } else {
      value.assign(it->value().data(), it->value().size());
    }
    if (!ParseFamilyRecord(value, &record)) return absl::DataLossError("corrupt compact record");
    if (record.family.empty()) continue;
    if (!view.Parse(record.family)) return absl::DataLossError("corrupt compact family");
    resp.set_families(resp.families() + 1);
    before.Clear();
    if (current_compiled) current_compiled->Evaluate(view, date, &before);
    draft_compiled.Evaluate(view, date, &after);
    auto find = [](const rules::Outcome& o, std::string_view program) -> const rules::ProgramOutcome* {
      for (const auto& p : o.programs) {
        if (o.program_id(p) == program) return &p;
      }
      return nullptr;
    };
    std::set<std::string_view> programs;
    for (const auto& p : before.programs) programs.insert(before.program_id(p));
    for (const auto& p : after.programs) programs.insert(after.program_id(p));
    const std::string region = RegionAtDepth(view.region_code(), depth);
    for (const std::string_view p : programs) {
      const rules::ProgramOutcome* x = find(before, p);
      const rules::ProgramOutcome* y = find(after, p);
      const bool ex = x && x->eligible, ey = y && y->eligible;
      const int64_t ax = ex ? x->yearly_amount : 0, ay = ey ? y->yearly_amount : 0;
      for (const std::string& reg : {region, std::string()}) {
        Row& row = rows[{std::string(p), reg}];
        row.before += ex;
        row.after += ey;
        row.entering += !ex && ey;
        row.leaving += ex && !ey;
        row.cost_before += ax;
        row.cost_after += ay;
      }
      if (ex == ey && ax == ay) continue;
      if (ex && ey) {
        resp.set_amount_changed_total(resp.amount_changed_total() + 1);
        continue;
      }
      v1::SimulatedChange c;
      c.set_kk_number(std::string(view.kk_number()));
      c.set_region_code(std::string(view.region_code()));
      c.set_program(std::string(p));
      c.set_eligible_before(ex);
      c.set_eligible_after(ey);
      c.set_yearly_amount_before(ax);
      c.set_yearly_amount_after(ay);
      if (ey) {
        resp.set_entering_total(resp.entering_total() + 1);
        if (resp.entering_size() < max_families) *resp.add_entering() = std::move(c);
      } else {
        resp.set_leaving_total(resp.leaving_total() + 1);
        if (resp.leaving_size() < max_families) *resp.add_leaving() = std::move(c);
      }
    }
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  for (const auto& [key, row] : rows) {
    v1::SimulationRow* out = resp.add_rows();
    out->set_program(key.first);
    out->set_region(key.second);
    out->set_families_before(row.before);
    out->set_families_after(row.after);
    out->set_entering(row.entering);
    out->set_leaving(row.leaving);
    out->set_yearly_cost_before(row.cost_before);
    out->set_yearly_cost_after(row.cost_after);
    out->set_yearly_cost_delta(row.cost_after - row.cost_before);
  }
  return resp;
}

// ---------------------------------------------------------------------------
// gRPC handlers

grpc::Status EligibilityServiceImpl::PublishRuleSet(grpc::ServerContext* context, const v1::PublishRuleSetRequest* r,
                                                    v1::PublishRuleSetResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(PublishRuleSet(*r), out);
}
grpc::Status EligibilityServiceImpl::ListRuleSets(grpc::ServerContext* context, const v1::ListRuleSetsRequest* r,
                                                  v1::ListRuleSetsResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListRuleSets(*r), out);
}
grpc::Status EligibilityServiceImpl::GetDecision(grpc::ServerContext* context, const v1::GetDecisionRequest* r,
                                                 v1::GetDecisionResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(GetDecision(*r), out);
}
grpc::Status EligibilityServiceImpl::GetDecisionHistory(grpc::ServerContext* context, const v1::GetDecisionHistoryRequest* r,
                                                        v1::GetDecisionHistoryResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(GetDecisionHistory(*r), out);
}
grpc::Status EligibilityServiceImpl::ListBeneficiaries(grpc::ServerContext* context, const v1::ListBeneficiariesRequest* r,
                                                       v1::ListBeneficiariesResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListBeneficiaries(*r), out);
}
grpc::Status EligibilityServiceImpl::ListDecileMovements(grpc::ServerContext* context,
                                                         const v1::ListDecileMovementsRequest* r,
                                                         v1::ListDecileMovementsResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListDecileMovements(*r), out);
}
grpc::Status EligibilityServiceImpl::ListEligibilityRisks(grpc::ServerContext* context,
                                                          const v1::ListEligibilityRisksRequest* r,
                                                          v1::ListEligibilityRisksResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(ListEligibilityRisks(*r), out);
}
grpc::Status EligibilityServiceImpl::Simulate(grpc::ServerContext* context, const v1::SimulateRequest* r,
                                              v1::SimulateResponse* out) {
  JARING_AUTHORIZE(context);
  return Reply(Simulate(*r), out);
}

}  // namespace jaring::eligibility
