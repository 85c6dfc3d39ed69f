#include "services/population/service.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/auth/guard.h"
#include "libs/base/hash.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/base/grpc_status.h"
#include "libs/family/batch_fold.h"
#include "libs/family/fold.h"
#include "services/population/validation.h"
#include "libs/validation/validation.h"

namespace jaring::population {

using family::FindMember;
namespace {

using Envelopes = std::vector<v1::Envelope>;

template <typename Resp>
grpc::Status Reply(const absl::StatusOr<v1::CommandResult>& r, Resp* resp) {
  if (!r.ok()) return ToGrpc(r.status());
  *resp->mutable_result() = *r;
  return grpc::Status::OK;
}

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Av(field), ": ", Av(why)));
}

absl::Status Conflict(std::string_view field, std::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(Av(field), ": ", Av(why)));
}

v1::Envelope For(const std::string& kk, const std::string& region) {
  v1::Envelope e;
  e.set_key(kk);
  e.set_region_code(region);
  return e;
}

const v1::FamilyMember* LivingMember(const v1::Family& f, std::string_view nik) {
  const v1::FamilyMember* m = FindMember(f, nik);
  return m != nullptr && m->alive() ? m : nullptr;
}

// Format checks of a family registration (RegisterFamily and Import).
absl::Status ValidateRegistration(const v1::FamilyRegistered& f, absl::CivilDay today) {
  JARING_RETURN_IF_ERROR(ValidateKkNumber("family.kk_number", f.kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateRegionCode("family.region_code", f.region_code()));
  JARING_RETURN_IF_ERROR(ValidateKkInRegion("family.kk_number", f.kk_number(), f.region_code()));
  if (!f.split_from_kk_number().empty()) {
    return Invalid("family.split_from_kk_number", "must be empty: a split is recorded with SplitFamily");
  }
  if (f.members().empty()) return Invalid("family.members", "a family card lists at least one member");
  JARING_RETURN_IF_ERROR(validation::ValidateText("family.address", f.address(), {}));
  std::set<std::string> niks;
  int heads = 0;
  for (int i = 0; i < f.members_size(); ++i) {
    const std::string field = absl::StrCat("family.members[", i, "]");
    JARING_RETURN_IF_ERROR(ValidateMember(field, f.members(i), today));
    if (!niks.insert(f.members(i).nik()).second) return Invalid(field + ".nik", "listed twice on this card");
    if (f.members(i).relationship() == v1::RELATIONSHIP_HEAD) {
      ++heads;
      if (f.members(i).nik() != f.head_nik()) {
        return Invalid("family.head_nik", absl::StrCat("does not match the member marked as head (", field, ")"));
      }
    }
  }
  if (heads != 1) {
    return Invalid("family.members", absl::StrCat("exactly one member must be the head, found ", heads));
  }
  return absl::OkStatus();
}

}  // namespace

// ------------------------------------------------------------ lifecycle

PopulationServiceImpl::PopulationServiceImpl(eventlog::EventLog* log, ServiceOptions options)
    : log_(log),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      stripes_(new absl::Mutex[kStripes]) {}

PopulationServiceImpl::~PopulationServiceImpl() {
  if (projection_) projection_->Stop();
}

namespace {
projection::Options ProjectionOptions(const std::string& dir) {
  projection::Options po;
  po.dir = dir;
  // The access topic only feeds ListAccessRecords (who looked at what).
  po.topics = {std::string(events::kPopulationTopic), std::string(events::kAccessTopic)};
  po.poll_timeout = absl::Milliseconds(20);
  return po;
}
}  // namespace

absl::Status PopulationServiceImpl::BuildAsOf(eventlog::EventLog* log, const std::string& dir,
                                              const projection::Bound& bound, projection::Stats* stats) {
  PopulationApplier applier;
  return projection::BuildAsOf(log, &applier, ProjectionOptions(dir), bound, stats);
}

absl::StatusOr<std::unique_ptr<PopulationServiceImpl>> PopulationServiceImpl::Create(eventlog::EventLog* log,
                                                                                     ServiceOptions options) {
  std::unique_ptr<PopulationServiceImpl> s(new PopulationServiceImpl(log, std::move(options)));
  projection::Options po = ProjectionOptions(s->options_.store_dir);
  JARING_ASSIGN_OR_RETURN(s->projection_, projection::OpenFor(s->options_.mode, log, &s->applier_, po));
  s->reader_ = PopulationReader(s->projection_->db());
  return s;
}

// ------------------------------------------------------------ pipeline

PopulationServiceImpl::Sender PopulationServiceImpl::SenderOf(const v1::CommandContext& ctx,
                                                              const google::protobuf::Message& request,
                                                              const auth::Principal& caller) {
  return Sender{auth::ScopedRequestId(auth::RequestScope(caller), ctx.request_id()), auth::ActorId(caller),
                validation::RequestDigest(request)};
}

absl::Status PopulationServiceImpl::ValidateContext(const v1::CommandContext& ctx, absl::Time now, Times* times,
                                                    const std::optional<PayloadTime>& payload_time) const {
  JARING_RETURN_IF_ERROR(ValidateRequestId("context.request_id", ctx.request_id()));
  if (payload_time.has_value() && !ctx.has_occurred_at()) {
    // The payload's date is the event time.
    v1::CommandContext dated = ctx;
    *dated.mutable_occurred_at() = events::ToProtoTime(absl::FromCivil(payload_time->first, WibTimeZone()));
    JARING_RETURN_IF_ERROR(ValidateEventTimes(dated, now, &times->occurred_at, &times->recorded_at));
  } else {
    JARING_RETURN_IF_ERROR(ValidateEventTimes(ctx, now, &times->occurred_at, &times->recorded_at));
  }
  if (payload_time.has_value()) {
    const absl::CivilDay day = absl::ToCivilDay(times->occurred_at, WibTimeZone());
    if (day < payload_time->first || day > payload_time->last) {
      const std::string when =
          payload_time->first == payload_time->last
              ? absl::FormatCivilTime(payload_time->first)
              : absl::StrCat(absl::FormatCivilTime(payload_time->first), "..",
                             absl::FormatCivilTime(payload_time->last));
      return Invalid(absl::StrCat("context.occurred_at, ", payload_time->field),
                     absl::StrCat("disagree: occurred_at is ", absl::FormatCivilTime(day), " (WIB) but ",
                                  payload_time->field, " is ", when,
                                  "; the payload's date is the event time (leave occurred_at unset, or make them "
                                  "agree)"));
    }
  }
  JARING_RETURN_IF_ERROR(validation::ValidateEnum("context.source", ctx.source(), v1::Source_descriptor(), true));
  JARING_RETURN_IF_ERROR(validation::ValidateText("context.actor", ctx.actor(), {.required = false}));
  if (!ctx.correlation_id().empty()) {
    JARING_RETURN_IF_ERROR(validation::ValidateRequestId("context.correlation_id", ctx.correlation_id()));
  }
  return absl::OkStatus();
}

void PopulationServiceImpl::StampHeaders(const v1::CommandContext& ctx, const Sender& sender, const Times& times,
                                         Envelopes& events) const {
  for (size_t i = 0; i < events.size(); ++i) {
    v1::Envelope& e = events[i];
    // Deterministic per request: a retry after a failed append produces the
    // same ids, and the projection drops the second copy. The scoped id
    // keeps two tenants' equal ids apart.
    e.set_event_id(events::DeterministicId("population", {sender.request_id, absl::StrCat(i)}));
    *e.mutable_occurred_at() = events::ToProtoTime(times.occurred_at);
    *e.mutable_recorded_at() = events::ToProtoTime(times.recorded_at);
    e.set_source(ctx.source() == v1::SOURCE_UNSPECIFIED ? v1::SOURCE_DINSOS : ctx.source());
    // The actor is who the credential proves; without a guard (embedded
    // services) the label stands in.
    e.set_actor(sender.actor.empty() ? ctx.actor() : sender.actor);
    e.set_actor_label(ctx.actor());
    e.set_causation_id(sender.request_id);
    e.set_correlation_id(ctx.correlation_id().empty() ? sender.request_id : ctx.correlation_id());
    e.set_request_id(sender.request_id);
    e.set_request_digest(sender.digest);
    events::StampType(e);
  }
}

absl::StatusOr<std::optional<v1::CommandResult>> PopulationServiceImpl::Earlier(const Sender& sender,
                                                                                std::string_view primary_kk,
                                                                                std::string_view field) const {
  JARING_ASSIGN_OR_RETURN(std::optional<v1::CommandResult> earlier,
                          reader_.RequestResult(sender.request_id, primary_kk));
  if (!earlier.has_value() || earlier->events().empty()) return earlier;
  // The first event of the earlier command says what it was.
  const std::string& first = earlier->events(0).event_id();
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> kk, reader_.EventFamily(first));
  std::string digest;
  if (kk.has_value()) {
    JARING_ASSIGN_OR_RETURN(std::vector<v1::HistoryEntry> history, reader_.History(*kk, std::nullopt));
    for (const v1::HistoryEntry& h : history) {
      if (h.event().event_id() == first) digest = h.event().request_digest();
    }
  }
  // Events written before digests are matched by the family alone.
  const bool same = digest.empty() ? kk.has_value() && *kk == primary_kk : digest == sender.digest;
  if (!same) {
    return Invalid(field,
                   "was already used for a different request; a retry repeats the request exactly, and a new "
                   "request needs a new request_id");
  }
  return earlier;
}

absl::StatusOr<std::vector<v1::EventPosition>> PopulationServiceImpl::AppendAndApply(Envelopes& events) {
  std::vector<eventlog::Record> records;
  records.reserve(events.size());
  for (const v1::Envelope& e : events) records.push_back(events::ToRecord(e));
  const std::string topic(events::kPopulationTopic);
  JARING_ASSIGN_OR_RETURN(std::vector<eventlog::Position> positions, log_->Append(topic, records));
  std::vector<v1::EventPosition> out;
  out.reserve(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    JARING_RETURN_IF_ERROR(
        projection_->WaitFor(topic, positions[i].partition, positions[i].offset + 1, options_.apply_timeout));
    v1::EventPosition p;
    p.set_event_id(events[i].event_id());
    p.set_topic(topic);
    p.set_partition(positions[i].partition);
    p.set_offset(positions[i].offset);
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status PopulationServiceImpl::CheckEventTimeFold(const Envelopes& events, std::string_view field) const {
  std::map<std::string, std::vector<const v1::Envelope*>> by_family;
  for (const v1::Envelope& e : events) by_family[e.key()].push_back(&e);
  for (const auto& [kk, fresh] : by_family) {
    JARING_ASSIGN_OR_RETURN(std::optional<v1::FamilyTimeline> timeline, reader_.Timeline(kk));
    absl::StatusOr<v1::Family> live = reader_.GetFamily(kk);
    if (!live.ok() && !absl::IsNotFound(live.status())) return live.status();
    const v1::Family before = live.ok() ? *std::move(live) : v1::Family();
    v1::Family after;
    const bool latest =
        !timeline.has_value() || std::all_of(fresh.begin(), fresh.end(), [&](const v1::Envelope* e) {
          return family::FoldsAsLatest(*timeline, *e);
        });
    if (latest) {
      // On top of the family as it is: no history to read.
      after = before;
      for (const v1::Envelope* e : fresh) JARING_RETURN_IF_ERROR(family::FoldLatest(*e, &after));
    } else {
      JARING_ASSIGN_OR_RETURN(std::vector<v1::HistoryEntry> history, reader_.History(kk, std::nullopt));
      std::vector<const v1::Envelope*> all;
      all.reserve(history.size() + fresh.size());
      for (const v1::HistoryEntry& h : history) all.push_back(&h.event());
      all.insert(all.end(), fresh.begin(), fresh.end());
      JARING_ASSIGN_OR_RETURN(after, family::FoldAll(all));
    }
    std::set<std::pair<std::string, std::string>> known;
    for (const v1::FoldConflict& c : before.conflicts()) known.emplace(c.event_id(), c.reason());
    for (const v1::FoldConflict& c : after.conflicts()) {
      if (known.count({c.event_id(), c.reason()}) > 0) continue;
      const bool own = std::any_of(fresh.begin(), fresh.end(),
                                   [&](const v1::Envelope* e) { return e->event_id() == c.event_id(); });
      return Conflict(field,
                      absl::StrCat(own ? absl::StrCat("at its event time this contradicts family ", kk,
                                                      "'s record (", c.reason(), ")")
                                       : absl::StrCat("at its event time this leaves family ", kk, "'s ",
                                                      c.event_type(), " ", c.event_id(),
                                                      " contradicting the record (", c.reason(), ")"),
                                   "; check the dates, or correct the family's other events first"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Family> PopulationServiceImpl::LiveFamily(std::string_view kk, std::string_view field) const {
  absl::StatusOr<v1::Family> f = reader_.GetFamily(kk);
  if (absl::IsNotFound(f.status())) {
    return absl::FailedPreconditionError(absl::StrCat(Av(field), ": family ", Av(kk), " is not registered"));
  }
  return f;
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::Execute(const v1::CommandContext& ctx,
                                                                 const google::protobuf::Message& request,
                                                                 const auth::Principal& caller,
                                                                 const std::string& primary_kk,
                                                                 std::vector<std::string> lock_keys,
                                                                 const Planner& plan,
                                                                 const std::optional<PayloadTime>& payload_time) {
  JARING_RETURN_IF_ERROR(projection::RequireWriter(options_.mode, "population"));
  Times times;
  JARING_RETURN_IF_ERROR(ValidateContext(ctx, clock_->Now(), &times, payload_time));
  const Sender sender = SenderOf(ctx, request, caller);
  // Two commands under one request id never run at once.
  lock_keys.push_back(absl::StrCat("q/", sender.request_id));

  std::set<size_t> stripes;
  for (const std::string& k : lock_keys) stripes.insert(Fnv1a64(k) % kStripes);
  absl::ReaderMutexLock table(&table_);
  for (size_t s : stripes) stripes_[s].Lock();
  struct Unlock {
    PopulationServiceImpl* self;
    const std::set<size_t>& stripes;
    ~Unlock() {
      for (auto it = stripes.rbegin(); it != stripes.rend(); ++it) self->stripes_[*it].Unlock();
    }
  } unlock{this, stripes};

  JARING_ASSIGN_OR_RETURN(std::optional<v1::CommandResult> earlier, Earlier(sender, primary_kk, "context.request_id"));
  if (earlier.has_value()) return *earlier;
  if (ctx.has_expected_version()) {
    JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(primary_kk, "kk_number"));
    if (f.version() != ctx.expected_version()) {
      return absl::AbortedError(absl::StrCat("context.expected_version: family ", primary_kk, " is at version ",
                                             f.version(), ", not ", ctx.expected_version(),
                                             "; read it again and retry"));
    }
  }
  JARING_ASSIGN_OR_RETURN(Envelopes events, plan(times));
  StampHeaders(ctx, sender, times, events);
  JARING_RETURN_IF_ERROR(
      CheckEventTimeFold(events, payload_time.has_value() ? payload_time->field : "context.occurred_at"));
  JARING_ASSIGN_OR_RETURN(std::vector<v1::EventPosition> positions, AppendAndApply(events));
  v1::CommandResult result;
  for (auto& p : positions) *result.add_events() = std::move(p);
  JARING_ASSIGN_OR_RETURN(v1::Family f, reader_.GetFamily(primary_kk));
  result.set_family_version(f.version());
  return result;
}

// ------------------------------------------------------------ commands

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::RegisterFamily(const v1::RegisterFamilyRequest& r,
    const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateRegistration(r.family(), today));
  std::vector<std::string> locks = {r.family().kk_number()};
  for (const auto& m : r.family().members()) locks.push_back(m.nik());
  return Execute(r.context(), r, caller, r.family().kk_number(), locks, [&](const Times&) -> absl::StatusOr<Envelopes> {
    const v1::FamilyRegistered& f = r.family();
    if (reader_.GetFamily(f.kk_number()).ok()) {
      return Conflict("family.kk_number", absl::StrCat(f.kk_number(), " is already registered"));
    }
    for (int i = 0; i < f.members_size(); ++i) {
      auto list = reader_.Memberships(f.members(i).nik());
      if (!list.ok()) continue;
      for (const Membership& m : list->memberships) {
        if (m.alive) {
          return Conflict(absl::StrCat("family.members[", i, "].nik"),
                          absl::StrCat("this person is already listed alive in family ", m.kk_number,
                                       "; move them with MoveMember"));
        }
      }
    }
    v1::Envelope e = For(f.kk_number(), f.region_code());
    *e.mutable_family_registered() = f;
    return Envelopes{std::move(e)};
  });
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::RecordBirth(const v1::RecordBirthRequest& r,
    const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateKkNumber("kk_number", r.kk_number(), today));
  v1::BirthRecorded birth = r.birth();
  if (birth.child().relationship() == v1::RELATIONSHIP_UNSPECIFIED) {
    birth.mutable_child()->set_relationship(v1::RELATIONSHIP_CHILD);
  }
  if (birth.child().relationship() == v1::RELATIONSHIP_HEAD) {
    return Invalid("birth.child.relationship", "a newborn cannot be the head of the family");
  }
  JARING_RETURN_IF_ERROR(ValidateMember("birth.child", birth.child(), today));
  if (birth.mother_nik().empty() && birth.no_mother_reason().empty()) {
    return Invalid("birth.mother_nik", "name the mother, or give no_mother_reason");
  }
  if (!birth.mother_nik().empty()) {
    JARING_RETURN_IF_ERROR(ValidateNik("birth.mother_nik", birth.mother_nik(), today));
    if (birth.mother_nik() == birth.child().nik()) return Invalid("birth.mother_nik", "is the child's own NIK");
  }
  JARING_RETURN_IF_ERROR(validation::ValidateText("birth.no_mother_reason", birth.no_mother_reason(), {}));
  const absl::CivilDay born = ToCivilDay(birth.child().birth_date());
  return Execute(r.context(), r, caller, r.kk_number(), {r.kk_number(), birth.child().nik()},
                 [&, birth](const Times&) -> absl::StatusOr<Envelopes> {
                   JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(r.kk_number(), "kk_number"));
                   if (!birth.mother_nik().empty()) {
                     const v1::FamilyMember* mother = LivingMember(f, birth.mother_nik());
                     if (mother == nullptr) {
                       return Conflict("birth.mother_nik", "is not a living member of this family");
                     }
                     if (mother->member().sex() != v1::SEX_FEMALE) {
                       return Conflict("birth.mother_nik", "the member named as mother is not a woman");
                     }
                     if (born <= ToCivilDay(mother->member().birth_date())) {
                       return Invalid("birth.child.birth_date", "is not after the mother's birth date");
                     }
                   }
                   auto list = reader_.Memberships(birth.child().nik());
                   if (list.ok() && !list->memberships.empty()) {
                     return Conflict("birth.child.nik", "is already listed in a family");
                   }
                   v1::Envelope e = For(f.kk_number(), f.region_code());
                   *e.mutable_birth_recorded() = birth;
                   return Envelopes{std::move(e)};
                 },
                 PayloadTime{"birth.child.birth_date", born, born});
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::RecordDeath(const v1::RecordDeathRequest& r,
    const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateKkNumber("kk_number", r.kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateNik("death.nik", r.death().nik(), today));
  JARING_RETURN_IF_ERROR(ValidateDate("death.date_of_death", r.death().date_of_death()));
  if (ToCivilDay(r.death().date_of_death()) > today) {
    return Invalid("death.date_of_death", "is in the future");
  }
  JARING_RETURN_IF_ERROR(
      validation::ValidateText("death.certificate_number", r.death().certificate_number(), {.max_chars = 64}));
  const absl::CivilDay died = ToCivilDay(r.death().date_of_death());
  return Execute(r.context(), r, caller, r.kk_number(), {r.kk_number(), r.death().nik()},
                 [&](const Times&) -> absl::StatusOr<Envelopes> {
                   JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(r.kk_number(), "kk_number"));
                   const v1::FamilyMember* m = FindMember(f, r.death().nik());
                   if (m == nullptr) return Conflict("death.nik", "is not a member of this family");
                   if (!m->alive()) return Conflict("death.nik", "this member's death is already recorded");
                   if (ToCivilDay(r.death().date_of_death()) < ToCivilDay(m->member().birth_date())) {
                     return Invalid("death.date_of_death", "is before the member's birth date");
                   }
                   v1::Envelope e = For(f.kk_number(), f.region_code());
                   *e.mutable_death_recorded() = r.death();
                   return Envelopes{std::move(e)};
                 },
                 PayloadTime{"death.date_of_death", died, died});
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::MoveMember(const v1::MoveMemberRequest& r,
    const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateKkNumber("from_kk_number", r.from_kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateKkNumber("to_kk_number", r.to_kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateNik("nik", r.nik(), today));
  if (r.from_kk_number() == r.to_kk_number()) return Invalid("to_kk_number", "is the same family");
  JARING_RETURN_IF_ERROR(validation::ValidateEnum("relationship", r.relationship(), v1::Relationship_descriptor(), true));
  JARING_RETURN_IF_ERROR(validation::ValidateText("reason", r.reason(), {}));
  if (r.relationship() == v1::RELATIONSHIP_HEAD) {
    return Invalid("relationship", "a member moves in as a member; change the head afterwards");
  }
  return Execute(
      r.context(), r, caller, r.from_kk_number(), {r.from_kk_number(), r.to_kk_number(), r.nik()},
      [&](const Times&) -> absl::StatusOr<Envelopes> {
        JARING_ASSIGN_OR_RETURN(v1::Family from, LiveFamily(r.from_kk_number(), "from_kk_number"));
        JARING_ASSIGN_OR_RETURN(v1::Family to, LiveFamily(r.to_kk_number(), "to_kk_number"));
        const v1::FamilyMember* m = FindMember(from, r.nik());
        if (m == nullptr) return Conflict("nik", "is not a member of the family it moves from");
        if (!m->alive()) return Conflict("nik", "this member is recorded as dead");
        if (from.head_nik() == r.nik()) {
          return Conflict("nik", "is the head of the family it leaves; change the head first");
        }
        if (FindMember(to, r.nik()) != nullptr) return Conflict("nik", "is already in the destination family");
        v1::Member moved = m->member();
        moved.set_relationship(r.relationship() == v1::RELATIONSHIP_UNSPECIFIED ? v1::RELATIONSHIP_OTHER_RELATIVE
                                                                                 : r.relationship());
        v1::Envelope out = For(from.kk_number(), from.region_code());
        auto* o = out.mutable_member_moved_out();
        o->set_nik(r.nik());
        o->set_to_kk_number(to.kk_number());
        o->set_to_region_code(to.region_code());
        o->set_reason(r.reason());
        v1::Envelope in = For(to.kk_number(), to.region_code());
        auto* i = in.mutable_member_moved_in();
        *i->mutable_member() = moved;
        i->set_from_kk_number(from.kk_number());
        i->set_from_region_code(from.region_code());
        return Envelopes{std::move(out), std::move(in)};
      });
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::SplitFamily(const v1::SplitFamilyRequest& r,
    const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateKkNumber("kk_number", r.kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateKkNumber("new_kk_number", r.new_kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateRegionCode("new_region_code", r.new_region_code()));
  JARING_RETURN_IF_ERROR(ValidateKkInRegion("new_kk_number", r.new_kk_number(), r.new_region_code()));
  if (r.member_niks().empty()) return Invalid("member_niks", "name the members who leave");
  for (int i = 0; i < r.member_niks_size(); ++i) {
    JARING_RETURN_IF_ERROR(ValidateNik(absl::StrCat("member_niks[", i, "]"), r.member_niks(i), today));
  }
  JARING_RETURN_IF_ERROR(validation::ValidateText("reason", r.reason(), {}));
  JARING_RETURN_IF_ERROR(validation::ValidateText("address", r.address(), {}));
  std::set<std::string> leaving(r.member_niks().begin(), r.member_niks().end());
  if (leaving.size() != static_cast<size_t>(r.member_niks_size())) return Invalid("member_niks", "lists a NIK twice");
  if (leaving.count(r.new_head_nik()) == 0) return Invalid("new_head_nik", "must be one of member_niks");
  std::vector<std::string> locks = {r.kk_number(), r.new_kk_number()};
  locks.insert(locks.end(), leaving.begin(), leaving.end());
  return Execute(r.context(), r, caller, r.kk_number(), locks, [&](const Times&) -> absl::StatusOr<Envelopes> {
    JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(r.kk_number(), "kk_number"));
    if (reader_.GetFamily(r.new_kk_number()).ok()) {
      return Conflict("new_kk_number", absl::StrCat(r.new_kk_number(), " is already registered"));
    }
    v1::FamilyRegistered reg;
    reg.set_kk_number(r.new_kk_number());
    reg.set_region_code(r.new_region_code());
    reg.set_head_nik(r.new_head_nik());
    reg.set_split_from_kk_number(f.kk_number());
    reg.set_address(r.address());
    for (int i = 0; i < r.member_niks_size(); ++i) {
      const std::string& nik = r.member_niks(i);
      const v1::FamilyMember* m = LivingMember(f, nik);
      if (m == nullptr) {
        return Conflict(absl::StrCat("member_niks[", i, "]"), "is not a living member of this family");
      }
      if (nik == f.head_nik()) {
        return Conflict(absl::StrCat("member_niks[", i, "]"), "the head stays with the old card; change the head first");
      }
      v1::Member moved = m->member();
      moved.set_relationship(nik == r.new_head_nik() ? v1::RELATIONSHIP_HEAD
                             : moved.relationship() == v1::RELATIONSHIP_HEAD ? v1::RELATIONSHIP_OTHER_RELATIVE
                                                                             : moved.relationship());
      *reg.add_members() = moved;
    }
    v1::Envelope split = For(f.kk_number(), f.region_code());
    auto* s = split.mutable_family_split();
    s->set_new_kk_number(r.new_kk_number());
    s->set_new_region_code(r.new_region_code());
    *s->mutable_member_niks() = r.member_niks();
    s->set_new_head_nik(r.new_head_nik());
    s->set_reason(r.reason());
    v1::Envelope created = For(r.new_kk_number(), r.new_region_code());
    *created.mutable_family_registered() = std::move(reg);
    return Envelopes{std::move(split), std::move(created)};
  });
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::ChangeHead(const v1::ChangeHeadRequest& r,
    const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateKkNumber("kk_number", r.kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateNik("new_head_nik", r.new_head_nik(), today));
  JARING_RETURN_IF_ERROR(validation::ValidateText("reason", r.reason(), {}));
  return Execute(r.context(), r, caller, r.kk_number(), {r.kk_number()}, [&](const Times&) -> absl::StatusOr<Envelopes> {
    JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(r.kk_number(), "kk_number"));
    if (f.head_nik() == r.new_head_nik()) return Conflict("new_head_nik", "is already the head");
    if (LivingMember(f, r.new_head_nik()) == nullptr) {
      return Conflict("new_head_nik", "is not a living member of this family");
    }
    v1::Envelope e = For(f.kk_number(), f.region_code());
    auto* h = e.mutable_head_changed();
    h->set_previous_head_nik(f.head_nik());
    h->set_new_head_nik(r.new_head_nik());
    h->set_reason(r.reason());
    return Envelopes{std::move(e)};
  });
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::RecordWelfareAssessment(
    const v1::RecordWelfareAssessmentRequest& r, const auth::Principal& caller) {
  JARING_RETURN_IF_ERROR(ValidateKkNumber("kk_number", r.kk_number(), TodayIn(clock_->Now())));
  JARING_RETURN_IF_ERROR(ValidateAssessment("assessment", r.assessment()));
  // A round names a quarter ("2026-Q3"): the assessment happens on or after
  // its first day (results are often made and reported after the quarter
  // ends), and without occurred_at it is dated the quarter's first day.
  const std::string& round = r.assessment().round();
  const absl::CivilDay round_start(std::stoi(round.substr(0, 4)), 1 + 3 * (round[6] - '1'), 1);
  return Execute(
      r.context(), r, caller, r.kk_number(), {r.kk_number()},
      [&](const Times&) -> absl::StatusOr<Envelopes> {
        JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(r.kk_number(), "kk_number"));
        v1::Envelope e = For(f.kk_number(), f.region_code());
        *e.mutable_welfare_assessed() = r.assessment();
        return Envelopes{std::move(e)};
      },
      PayloadTime{"assessment.round", round_start, absl::CivilDay(9999, 12, 31)});
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::ChangeMemberAttributes(
    const v1::ChangeMemberAttributesRequest& r, const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateKkNumber("kk_number", r.kk_number(), today));
  JARING_RETURN_IF_ERROR(ValidateNik("change.nik", r.change().nik(), today));
  const v1::MemberAttributes& a = r.change().attributes();
  if (!a.has_disability() && !a.has_school_level() && !a.has_school_enrolled() && !a.has_pregnant() &&
      !a.has_pregnancy_order()) {
    return Invalid("change.attributes", "sets nothing");
  }
  if (a.has_pregnancy_order() && a.pregnancy_order() < 1) {
    return Invalid("change.attributes.pregnancy_order", "must be 1 or more");
  }
  if (a.has_disability()) {
    JARING_RETURN_IF_ERROR(
        validation::ValidateEnum("change.attributes.disability", a.disability(), v1::Disability_descriptor(), true));
  }
  if (a.has_school_level()) {
    JARING_RETURN_IF_ERROR(validation::ValidateEnum("change.attributes.school_level", a.school_level(),
                                                    v1::SchoolLevel_descriptor(), true));
  }
  return Execute(r.context(), r, caller, r.kk_number(), {r.kk_number()}, [&](const Times&) -> absl::StatusOr<Envelopes> {
    JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(r.kk_number(), "kk_number"));
    const v1::FamilyMember* m = FindMember(f, r.change().nik());
    if (m == nullptr) return Conflict("change.nik", "is not a member of this family");
    if (!m->alive()) return Conflict("change.nik", "this member is recorded as dead");
    if (a.has_pregnant() && a.pregnant() && m->member().sex() != v1::SEX_FEMALE) {
      return Invalid("change.attributes.pregnant", "only a woman can be recorded as pregnant");
    }
    if (a.has_pregnancy_order() && m->member().sex() != v1::SEX_FEMALE) {
      return Invalid("change.attributes.pregnancy_order", "only a woman has a pregnancy order");
    }
    v1::Envelope e = For(f.kk_number(), f.region_code());
    *e.mutable_member_attributes_changed() = r.change();
    return Envelopes{std::move(e)};
  });
}

absl::StatusOr<v1::CommandResult> PopulationServiceImpl::CorrectRecord(const v1::CorrectRecordRequest& r,
    const auth::Principal& caller) {
  const absl::CivilDay today = TodayIn(clock_->Now());
  JARING_RETURN_IF_ERROR(ValidateKkNumber("kk_number", r.kk_number(), today));
  const v1::RecordCorrected& c = r.correction();
  if (c.corrected_event_id().empty()) return Invalid("correction.corrected_event_id", "is required");
  if (c.reason().empty()) return Invalid("correction.reason", "say why the record is corrected");
  JARING_RETURN_IF_ERROR(validation::ValidateText("correction.reason", c.reason(), {.required = true}));
  if (c.corrected_event_id().size() > 128) return Invalid("correction.corrected_event_id", "is longer than 128 characters");
  switch (c.correction_case()) {
    case v1::RecordCorrected::kMember:
      JARING_RETURN_IF_ERROR(ValidateMember("correction.member", c.member(), today));
      break;
    case v1::RecordCorrected::kWelfareAssessment:
      JARING_RETURN_IF_ERROR(ValidateAssessment("correction.welfare_assessment", c.welfare_assessment()));
      break;
    case v1::RecordCorrected::kRetraction:
      break;
    case v1::RecordCorrected::CORRECTION_NOT_SET:
      return Invalid("correction", "set member, welfare_assessment or retraction");
  }
  return Execute(r.context(), r, caller, r.kk_number(), {r.kk_number()}, [&](const Times&) -> absl::StatusOr<Envelopes> {
    JARING_ASSIGN_OR_RETURN(v1::Family f, LiveFamily(r.kk_number(), "kk_number"));
    JARING_ASSIGN_OR_RETURN(auto history, reader_.History(r.kk_number(), std::nullopt));
    const v1::Envelope* target = nullptr;
    for (const auto& h : history) {
      if (h.event().event_id() == c.corrected_event_id()) target = &h.event();
    }
    if (target == nullptr) {
      return Conflict("correction.corrected_event_id", "is not an event of this family");
    }
    if (c.has_retraction()) {
      for (const auto& h : history) {
        if (h.event().has_record_corrected() && h.event().record_corrected().has_retraction() &&
            h.event().record_corrected().corrected_event_id() == c.corrected_event_id()) {
          return Conflict("correction.retraction", "this event is already retracted");
        }
      }
    }
    if (c.has_member()) {
      if (FindMember(f, c.member().nik()) == nullptr) {
        return Conflict("correction.member.nik", "is not a member of this family (corrections match by NIK)");
      }
      if (c.member().relationship() == v1::RELATIONSHIP_HEAD && c.member().nik() != f.head_nik()) {
        return Conflict("correction.member.relationship", "use ChangeHead to change the head");
      }
    } else if (c.has_welfare_assessment() && !target->has_welfare_assessed()) {
      return Conflict("correction.welfare_assessment", "the corrected event is not a welfare assessment");
    } else if (c.has_retraction() && !target->has_death_recorded() && !target->has_birth_recorded()) {
      return Conflict("correction.retraction", "only a recorded birth or death can be retracted");
    } else if (c.has_retraction() && target->has_birth_recorded() &&
               FindMember(f, target->birth_recorded().child().nik()) == nullptr) {
      return Conflict("correction.retraction", "the child is no longer in this family");
    }
    v1::Envelope e = For(f.kk_number(), f.region_code());
    *e.mutable_record_corrected() = c;
    return Envelopes{std::move(e)};
  });
}

// ------------------------------------------------------------ import

grpc::Status PopulationServiceImpl::Import(grpc::ServerContext* context,
                                           grpc::ServerReaderWriter<v1::ImportResponse, v1::ImportRequest>* stream) {
  JARING_AUTHORIZE(context);
  if (absl::Status w = projection::RequireWriter(options_.mode, "population"); !w.ok()) return ToGrpc(w);
  v1::ImportProgress progress;
  const auth::Principal caller = auth::CallPrincipal(context);
  // Request ids seen in this stream, and the line of each.
  std::map<std::string, int64_t> stream_ids;
  auto send_error = [&](int64_t line, const absl::Status& st) {
    v1::ImportResponse resp;
    auto* e = resp.mutable_row_error();
    e->set_line(line);
    e->set_code(absl::StatusCodeToString(st.code()));
    e->set_message(std::string(st.message()));
    progress.set_rejected(progress.rejected() + 1);
    stream->Write(resp);
  };
  bool end = false;
  while (!end) {
    std::vector<v1::ImportRequest> chunk;
    v1::ImportRequest req;
    while (static_cast<int>(chunk.size()) < options_.import_chunk && stream->Read(&req)) {
      JARING_AUTHORIZE(context);  // every row's family is checked
      if (req.end()) {
        end = true;
        break;
      }
      chunk.push_back(std::move(req));
    }
    if (chunk.empty() && !end) break;  // the client closed without `end`
    progress.set_rows(progress.rows() + static_cast<int64_t>(chunk.size()));

    const absl::Time now = clock_->Now();
    const absl::CivilDay today = TodayIn(now);
    absl::MutexLock table(&table_);  // the whole table for this chunk
    Envelopes events;
    std::vector<int64_t> lines;
    std::set<std::string> chunk_kks;
    for (const v1::ImportRequest& row : chunk) {
      const v1::RegisterFamilyRequest& r = row.family();
      Times times;
      absl::Status st = ValidateContext(r.context(), now, &times);
      if (st.ok()) st = ValidateRegistration(r.family(), today);
      if (!st.ok()) {
        send_error(row.line(), st);
        continue;
      }
      const Sender sender = SenderOf(r.context(), r, caller);
      // One request id per row: a second row under an id this stream
      // already used is refused, whatever it carries.
      if (auto [it, fresh] = stream_ids.emplace(sender.request_id, row.line()); !fresh) {
        send_error(row.line(), Invalid("context.request_id", absl::StrCat("is already used by line ", it->second,
                                                                         " of this import; give each row its own")));
        continue;
      }
      auto earlier = Earlier(sender, r.family().kk_number(), "context.request_id");
      if (!earlier.ok()) {
        send_error(row.line(), earlier.status());
        continue;
      }
      if (earlier->has_value()) {
        progress.set_already_imported(progress.already_imported() + 1);
        continue;
      }
      if (reader_.GetFamily(r.family().kk_number()).ok() || !chunk_kks.insert(r.family().kk_number()).second) {
        send_error(row.line(), Conflict("family.kk_number", absl::StrCat(r.family().kk_number(),
                                                                         " is already registered")));
        continue;
      }
      // A registry extract is taken as the registry says it: a NIK already
      // listed in another family is accepted and becomes an overlap finding.
      Envelopes one;
      one.push_back(For(r.family().kk_number(), r.family().region_code()));
      *one.back().mutable_family_registered() = r.family();
      v1::CommandContext ctx = r.context();
      if (ctx.source() == v1::SOURCE_UNSPECIFIED) ctx.set_source(v1::SOURCE_DUKCAPIL);
      StampHeaders(ctx, sender, times, one);
      events.push_back(std::move(one.front()));
      lines.push_back(row.line());
    }
    if (!events.empty()) {
      auto positions = AppendAndApply(events);
      if (!positions.ok()) return ToGrpc(positions.status());
      progress.set_imported(progress.imported() + static_cast<int64_t>(events.size()));
    }
    v1::ImportResponse resp;
    *resp.mutable_progress() = progress;
    stream->Write(resp);
  }
  progress.set_done(true);
  v1::ImportResponse resp;
  *resp.mutable_progress() = progress;
  stream->Write(resp);
  return grpc::Status::OK;
}

// ------------------------------------------------------------ gRPC glue

grpc::Status PopulationServiceImpl::RegisterFamily(grpc::ServerContext* context, const v1::RegisterFamilyRequest* r,
                                                   v1::RegisterFamilyResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(RegisterFamily(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::RecordBirth(grpc::ServerContext* context, const v1::RecordBirthRequest* r,
                                                v1::RecordBirthResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(RecordBirth(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::RecordDeath(grpc::ServerContext* context, const v1::RecordDeathRequest* r,
                                                v1::RecordDeathResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(RecordDeath(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::MoveMember(grpc::ServerContext* context, const v1::MoveMemberRequest* r,
                                               v1::MoveMemberResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(MoveMember(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::SplitFamily(grpc::ServerContext* context, const v1::SplitFamilyRequest* r,
                                                v1::SplitFamilyResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(SplitFamily(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::ChangeHead(grpc::ServerContext* context, const v1::ChangeHeadRequest* r,
                                               v1::ChangeHeadResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(ChangeHead(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::RecordWelfareAssessment(grpc::ServerContext* context,
                                                            const v1::RecordWelfareAssessmentRequest* r,
                                                            v1::RecordWelfareAssessmentResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(RecordWelfareAssessment(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::ChangeMemberAttributes(grpc::ServerContext* context,
                                                           const v1::ChangeMemberAttributesRequest* r,
                                                           v1::ChangeMemberAttributesResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(ChangeMemberAttributes(*r, auth::CallPrincipal(context)), resp);
}
grpc::Status PopulationServiceImpl::CorrectRecord(grpc::ServerContext* context, const v1::CorrectRecordRequest* r,
                                                  v1::CorrectRecordResponse* resp) {
  JARING_AUTHORIZE(context);
  return Reply(CorrectRecord(*r, auth::CallPrincipal(context)), resp);
}

namespace {
std::optional<int64_t> OptionalMillis(bool has, const google::protobuf::Timestamp& ts) {
  return has ? std::optional<int64_t>(events::ToMillis(ts)) : std::nullopt;
}
int PageSize(int32_t requested) { return requested <= 0 ? 100 : std::min(requested, 1000); }
}  // namespace

grpc::Status PopulationServiceImpl::GetFamily(grpc::ServerContext* context, const v1::GetFamilyRequest* r,
                                              v1::GetFamilyResponse* resp) {
  JARING_AUTHORIZE(context);
  absl::Status st = ValidateKkNumber("kk_number", r->kk_number(), TodayIn(clock_->Now()));
  if (!st.ok()) return ToGrpc(st);
  absl::StatusOr<v1::Family> f =
      (r->has_as_known_at() || r->has_as_of())
          ? reader_.FamilyAt(r->kk_number(), OptionalMillis(r->has_as_known_at(), r->as_known_at()),
                             OptionalMillis(r->has_as_of(), r->as_of()))
          : reader_.GetFamily(r->kk_number());
  if (!f.ok()) return ToGrpc(f.status());
  *resp->mutable_family() = *std::move(f);
  return grpc::Status::OK;
}

grpc::Status PopulationServiceImpl::GetMember(grpc::ServerContext* context, const v1::GetMemberRequest* r,
                                              v1::GetMemberResponse* resp) {
  JARING_AUTHORIZE(context);
  absl::Status st = ValidateNik("nik", r->nik(), TodayIn(clock_->Now()));
  if (!st.ok()) return ToGrpc(st);
  auto list = reader_.Memberships(r->nik());
  if (!list.ok()) return ToGrpc(list.status());
  if (list->memberships.empty()) return ToGrpc(absl::NotFoundError("no family lists this NIK"));
  const Membership* chosen = &list->memberships.back();
  for (const Membership& m : list->memberships) {
    if (m.alive) {
      chosen = &m;
      break;
    }
  }
  auto f = reader_.GetFamily(chosen->kk_number);
  if (!f.ok()) return ToGrpc(f.status());
  const v1::FamilyMember* m = FindMember(*f, r->nik());
  if (m == nullptr) return ToGrpc(absl::DataLossError("membership index disagrees with the family record"));
  resp->set_kk_number(chosen->kk_number);
  *resp->mutable_member() = *m;
  return grpc::Status::OK;
}

grpc::Status PopulationServiceImpl::ListFamilies(grpc::ServerContext* context, const v1::ListFamiliesRequest* r,
                                                 v1::ListFamiliesResponse* resp) {
  JARING_AUTHORIZE(context);
  if (!r->region_prefix().empty()) {
    absl::Status st = ValidateRegionPrefix("region_prefix", r->region_prefix());
    if (!st.ok()) return ToGrpc(st);
  }
  std::string next;
  auto families = reader_.ListFamilies(r->region_prefix(), r->page_token(), PageSize(r->page_size()), &next);
  if (!families.ok()) return ToGrpc(families.status());
  for (auto& f : *families) *resp->add_families() = std::move(f);
  resp->set_next_page_token(next);
  if (r->count_total()) {
    absl::StatusOr<int64_t> total = reader_.CountFamilies(r->region_prefix());
    if (!total.ok()) return ToGrpc(total.status());
    resp->set_total_families(*total);
  }
  return grpc::Status::OK;
}

grpc::Status PopulationServiceImpl::GetFamilyHistory(grpc::ServerContext* context, const v1::GetFamilyHistoryRequest* r,
                                                     v1::GetFamilyHistoryResponse* resp) {
  JARING_AUTHORIZE(context);
  absl::Status st = ValidateKkNumber("kk_number", r->kk_number(), TodayIn(clock_->Now()));
  if (!st.ok()) return ToGrpc(st);
  auto history = reader_.History(r->kk_number(), OptionalMillis(r->has_as_known_at(), r->as_known_at()));
  if (!history.ok()) return ToGrpc(history.status());
  if (history->empty() && !reader_.GetFamily(r->kk_number()).ok()) {
    return ToGrpc(absl::NotFoundError(absl::StrCat("family ", r->kk_number(), " is not registered")));
  }
  for (auto& h : *history) *resp->add_entries() = std::move(h);
  return grpc::Status::OK;
}

grpc::Status PopulationServiceImpl::ListOverlapFindings(grpc::ServerContext* context,
                                                        const v1::ListOverlapFindingsRequest* r,
                                                        v1::ListOverlapFindingsResponse* resp) {
  JARING_AUTHORIZE(context);
  if (!r->region_prefix().empty()) {
    absl::Status st = ValidateRegionPrefix("region_prefix", r->region_prefix());
    if (!st.ok()) return ToGrpc(st);
  }
  std::string next;
  auto findings = reader_.ListFindings(r->region_prefix(), r->include_resolved(), r->page_token(),
                                       PageSize(r->page_size()), &next);
  if (!findings.ok()) return ToGrpc(findings.status());
  for (auto& f : *findings) *resp->add_findings() = std::move(f);
  resp->set_next_page_token(next);
  return grpc::Status::OK;
}

}  // namespace jaring::population

namespace jaring::population {

grpc::Status PopulationServiceImpl::ListAccessRecords(grpc::ServerContext* context,
                                                      const v1::ListAccessRecordsRequest* r,
                                                      v1::ListAccessRecordsResponse* resp) {
  JARING_AUTHORIZE(context);
  const int given = !r->kk_number().empty() + !r->region_prefix().empty() + !r->subject().empty();
  if (given != 1) {
    return ToGrpc(absl::InvalidArgumentError(
        "kk_number, region_prefix, subject: give exactly one (region_prefix \"*\" lists reads of every region)"));
  }
  if (!r->kk_number().empty()) {
    absl::Status st = ValidateKkNumber("kk_number", r->kk_number(), TodayIn(clock_->Now()));
    if (!st.ok()) return ToGrpc(st);
  }
  if (!r->region_prefix().empty() && r->region_prefix() != "*") {
    absl::Status st = ValidateRegionPrefix("region_prefix", r->region_prefix());
    if (!st.ok()) return ToGrpc(st);
  }
  const int64_t from = r->has_from() ? events::ToMillis(r->from()) : std::numeric_limits<int64_t>::min();
  const int64_t to = r->has_to() ? events::ToMillis(r->to()) : std::numeric_limits<int64_t>::max();
  if (from > to) return ToGrpc(absl::InvalidArgumentError("to: is before from"));
  std::string next;
  const std::string& scope = r->kk_number().empty() ? r->region_prefix() : r->kk_number();
  auto records = reader_.ListAccess(scope, r->subject(), from, to, r->page_token(), PageSize(r->page_size()), &next);
  if (!records.ok()) return ToGrpc(records.status());
  for (auto& a : *records) *resp->add_records() = std::move(a);
  resp->set_next_page_token(next);
  return grpc::Status::OK;
}

}  // namespace jaring::population
