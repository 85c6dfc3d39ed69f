#include "services/population/store.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "libs/base/coding.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/family/batch_fold.h"
#include "libs/family/fold.h"
#include "services/population/validation.h"
#include "libs/projection/rocks_error.h"

namespace jaring::population {

using family::FindMember;
namespace {

std::string VersionKey(std::string_view kk, int64_t version) {
  std::string k = HistoryPrefix(kk);
  PutFixed64BE(&k, static_cast<uint64_t>(version));
  return k;
}

std::string EventKey(std::string_view event_id) { return absl::StrCat("e/", Av(event_id)); }
std::string TimelineKey(std::string_view kk) { return absl::StrCat("t/", Av(kk)); }

std::string FindingKey(std::string_view region, std::string_view id) {
  return absl::StrCat("o/", Av(region), "/", Av(id));
}

// HistoryEntry bytes built around the record's own envelope bytes (no
// re-serialization): field 1 = position, field 2 = event.
std::string EncodeHistory(const v1::EventPosition& pos, const std::string& envelope_bytes) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    const std::string p = pos.SerializeAsString();
    coded.WriteTag((1 << 3) | 2);
    coded.WriteVarint32(static_cast<uint32_t>(p.size()));
    coded.WriteString(p);
    coded.WriteTag((2 << 3) | 2);
    coded.WriteVarint32(static_cast<uint32_t>(envelope_bytes.size()));
    coded.WriteString(envelope_bytes);
  }
  return out;
}

std::vector<std::string> AffectedNiks(const v1::Envelope& e, const v1::Family& before) {
  std::vector<std::string> niks;
  switch (e.payload_case()) {
    case v1::Envelope::kFamilyRegistered:
      for (const auto& m : e.family_registered().members()) niks.push_back(m.nik());
      break;
    case v1::Envelope::kBirthRecorded:
      niks.push_back(e.birth_recorded().child().nik());
      break;
    case v1::Envelope::kDeathRecorded:
      niks.push_back(e.death_recorded().nik());
      break;
    case v1::Envelope::kMemberMovedOut:
      niks.push_back(e.member_moved_out().nik());
      break;
    case v1::Envelope::kMemberMovedIn:
      niks.push_back(e.member_moved_in().member().nik());
      break;
    case v1::Envelope::kFamilySplit:
      for (const auto& n : e.family_split().member_niks()) niks.push_back(n);
      break;
    case v1::Envelope::kHeadChanged:
      niks.push_back(before.head_nik());
      niks.push_back(e.head_changed().new_head_nik());
      break;
    default:
      break;
  }
  return niks;
}

}  // namespace

std::string FamilyKey(std::string_view kk) { return absl::StrCat("f/", Av(kk)); }
std::string HistoryPrefix(std::string_view kk) { return absl::StrCat("h/", Av(kk), "/"); }
std::string NikKey(std::string_view nik) { return absl::StrCat("n/", Av(nik)); }
std::string RegionPrefix(std::string_view region_prefix) { return absl::StrCat("r/", Av(region_prefix)); }
std::string RequestPrefix(std::string_view request_id) { return absl::StrCat("q/", Av(request_id), "/"); }
std::string FindingPrefix(std::string_view region_prefix) { return absl::StrCat("o/", Av(region_prefix)); }

// ------------------------------------------------------------ MembershipList
// Text: memberships joined by ';', each "kk,A|D,partition,offset,recorded_ms,event_id";
// then '|' and the finding keys joined by ';'.
std::string MembershipList::Encode() const {
  std::vector<std::string> parts;
  for (const Membership& m : memberships) {
    parts.push_back(absl::StrCat(m.kk_number, ",", m.alive ? "A" : "D", ",", m.partition, ",", m.offset, ",",
                                 m.recorded_at_ms, ",", m.event_id));
  }
  return absl::StrCat(absl::StrJoin(parts, ";"), "|", absl::StrJoin(finding_keys, ";"));
}

std::optional<MembershipList> MembershipList::Decode(std::string_view bytes) {
  MembershipList out;
  std::vector<absl::string_view> halves = absl::StrSplit(Av(bytes), absl::MaxSplits('|', 1));
  if (halves.size() != 2) return std::nullopt;
  for (absl::string_view item : absl::StrSplit(halves[0], ';', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(item, ',');
    Membership m;
    if (f.size() != 6 || !absl::SimpleAtoi(f[2], &m.partition) || !absl::SimpleAtoi(f[3], &m.offset) ||
        !absl::SimpleAtoi(f[4], &m.recorded_at_ms)) {
      return std::nullopt;
    }
    m.kk_number = std::string(f[0]);
    m.alive = f[1] == "A";
    m.event_id = std::string(f[5]);
    out.memberships.push_back(std::move(m));
  }
  for (absl::string_view k : absl::StrSplit(halves[1], ';', absl::SkipEmpty())) out.finding_keys.emplace_back(k);
  return out;
}

// ------------------------------------------------------------ applier

absl::Status PopulationApplier::UpdateMembership(const projection::Event& event, const std::string& nik,
                                                 bool alive, bool remove, projection::Batch& batch) {
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, batch.Get(NikKey(nik)));
  MembershipList list;
  if (bytes.has_value()) {
    auto decoded = MembershipList::Decode(*bytes);
    if (!decoded) return absl::DataLossError("corrupt membership record for a NIK");
    list = std::move(*decoded);
  }
  const std::string& kk = event.envelope.key();
  auto it = std::find_if(list.memberships.begin(), list.memberships.end(),
                         [&](const Membership& m) { return m.kk_number == kk; });
  if (remove) {
    if (it != list.memberships.end()) list.memberships.erase(it);
  } else if (it != list.memberships.end() && !alive) {
    it->alive = false;  // a death keeps the person listed, not alive
  } else {
    Membership m;
    m.kk_number = kk;
    m.alive = alive;
    m.partition = event.record.partition;
    m.offset = event.record.offset;
    m.recorded_at_ms = events::ToMillis(event.envelope.recorded_at());
    m.event_id = event.envelope.event_id();
    if (it != list.memberships.end()) {
      *it = std::move(m);
    } else {
      list.memberships.push_back(std::move(m));
      std::sort(list.memberships.begin(), list.memberships.end(),
                [](const Membership& a, const Membership& b) { return a.kk_number < b.kk_number; });
    }
  }
  batch.Put(NikKey(nik), list.Encode());
  return absl::OkStatus();
}

absl::Status PopulationApplier::RecomputeNik(const std::string& nik, projection::Batch& batch) {
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> bytes, batch.Get(NikKey(nik)));
  if (!bytes.has_value()) return absl::OkStatus();
  auto decoded = MembershipList::Decode(*bytes);
  if (!decoded) return absl::DataLossError("corrupt membership record for a NIK");
  MembershipList list = std::move(*decoded);

  std::vector<const Membership*> alive;
  for (const Membership& m : list.memberships) {
    if (m.alive) alive.push_back(&m);
  }
  // The common case: one living membership and no findings to withdraw.
  if (alive.size() < 2 && list.finding_keys.empty()) return absl::OkStatus();
  // Families of the alive memberships (region, head).
  std::map<std::string, std::pair<std::string, std::string>> fam;  // kk -> (region, head)
  for (const Membership* m : alive) {
    JARING_ASSIGN_OR_RETURN(v1::Family * f, batch.Mutable<v1::Family>(FamilyKey(m->kk_number)));
    fam[m->kk_number] = {f->region_code(), f->head_nik()};
  }
  std::map<std::string, v1::OverlapFinding> desired;  // key -> finding (one per region)
  auto add = [&](v1::OverlapFinding finding, const std::vector<const Membership*>& evidence) {
    int64_t detected = 0;
    std::set<std::string> regions;
    for (const Membership* m : evidence) {
      auto* pos = finding.add_evidence();
      pos->set_event_id(m->event_id);
      pos->set_topic("jaring.population.v1");
      pos->set_partition(m->partition);
      pos->set_offset(m->offset);
      detected = std::max(detected, m->recorded_at_ms);
      finding.add_kk_numbers(m->kk_number);
      regions.insert(fam[m->kk_number].first);
    }
    for (const auto& r : regions) finding.add_region_codes(r);
    *finding.mutable_detected_at() = events::ToProtoTime(absl::FromUnixMillis(detected));
    for (const auto& r : regions) desired[FindingKey(r, finding.finding_id())] = finding;
  };

  if (alive.size() >= 2) {
    // Pairs of families where this NIK is the head of both, in different
    // regions: the family is registered twice.
    std::set<std::pair<std::string, std::string>> family_pairs;
    for (size_t i = 0; i < alive.size(); ++i) {
      for (size_t j = i + 1; j < alive.size(); ++j) {
        const auto& a = fam[alive[i]->kk_number];
        const auto& b = fam[alive[j]->kk_number];
        if (a.first != b.first && !a.second.empty() && a.second == b.second) {
          family_pairs.insert({alive[i]->kk_number, alive[j]->kk_number});
        }
      }
    }
    const bool is_head_of_pair = !family_pairs.empty() && fam[alive[0]->kk_number].second == nik;
    if (is_head_of_pair) {
      for (const auto& [ka, kb] : family_pairs) {
        v1::OverlapFinding f;
        f.set_finding_id(events::DeterministicId("family-in-two-regions", {ka, kb}));
        f.set_kind(v1::OVERLAP_KIND_FAMILY_IN_TWO_REGIONS);
        f.set_masked_nik(MaskNik(nik));
        std::vector<const Membership*> ev;
        for (const Membership* m : alive) {
          if (m->kk_number == ka || m->kk_number == kb) ev.push_back(m);
        }
        add(std::move(f), ev);
      }
    }
    // A member (not head) of two families that are a duplicated family is
    // covered by the family finding.
    bool covered = false;
    if (alive.size() == 2) {
      const auto& a = fam[alive[0]->kk_number];
      const auto& b = fam[alive[1]->kk_number];
      covered = a.first != b.first && !a.second.empty() && a.second == b.second;
    }
    if (!covered) {
      std::vector<std::string_view> kks;
      for (const Membership* m : alive) kks.push_back(m->kk_number);
      v1::OverlapFinding f;
      std::vector<absl::string_view> parts = {Av(nik)};
      for (auto k : kks) parts.push_back(Av(k));
      f.set_finding_id(events::DeterministicId("nik-in-two-families", {absl::StrJoin(parts, ",")}));
      f.set_kind(v1::OVERLAP_KIND_NIK_IN_TWO_FAMILIES);
      f.set_masked_nik(MaskNik(nik));
      add(std::move(f), alive);
    }
  }

  std::vector<std::string> keys;
  for (const auto& [key, finding] : desired) {
    batch.Put(key, finding.SerializeAsString());
    keys.push_back(key);
  }
  for (const std::string& old : list.finding_keys) {
    if (desired.find(old) == desired.end()) batch.Delete(old);
  }
  if (keys != list.finding_keys) {
    list.finding_keys = std::move(keys);
    batch.Put(NikKey(nik), list.Encode());
  }
  return absl::OkStatus();
}

namespace {
// Access records: "a/" scope "/" BE64 ms event-id -> AccessRecord, and
// "s/" subject "\0" BE64 ms event-id -> the "a/" key.
std::string AccessPrefix(std::string_view scope) { return absl::StrCat("a/", Av(scope), "/"); }
std::string SubjectPrefix(std::string_view subject) { return absl::StrCat("s/", Av(subject), std::string(1, '\0')); }
}  // namespace

absl::Status PopulationApplier::ApplyAccess(const projection::Event& event, projection::Batch& batch) {
  // Keys carry the event id, so a second copy of an event writes the same
  // bytes again.
  const v1::Envelope& e = event.envelope;
  v1::AccessRecord r;
  r.set_event_id(e.event_id());
  *r.mutable_at() = e.recorded_at();
  *r.mutable_read() = e.family_data_accessed();
  r.set_partition(event.record.partition);
  r.set_offset(event.record.offset);
  std::string when;
  PutOrderedInt64(&when, events::ToMillis(e.recorded_at()));
  absl::StrAppend(&when, e.event_id());
  const std::string key = absl::StrCat(AccessPrefix(e.key()), when);
  batch.Put(key, r.SerializeAsString());
  batch.Put(absl::StrCat(SubjectPrefix(r.read().subject()), when), key);
  return absl::OkStatus();
}

absl::Status PopulationApplier::Apply(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  if (e.has_family_data_accessed()) return ApplyAccess(event, batch);
  const std::string& kk = e.key();
  // A retried append (after a failed acknowledgement) may store an event
  // twice; its id makes the second copy a no-op.
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> seen, batch.Get(EventKey(e.event_id())));
  if (seen.has_value()) return absl::OkStatus();
  JARING_ASSIGN_OR_RETURN(v1::Family * family, batch.Mutable<v1::Family>(FamilyKey(kk)));
  const v1::Family before = *family;

  // The event a correction corrects (for memberships and findings).
  std::optional<v1::Envelope> corrected;
  if (e.has_record_corrected()) {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> where, batch.Get(EventKey(e.record_corrected().corrected_event_id())));
    if (where.has_value() && where->size() > 9) {
      const std::string target_kk = where->substr(0, where->size() - 9);
      const int64_t version = static_cast<int64_t>(DecodeFixed64BE(where->data() + where->size() - 8));
      JARING_ASSIGN_OR_RETURN(std::optional<std::string> h, batch.Get(VersionKey(target_kk, version)));
      v1::HistoryEntry entry;
      if (h.has_value() && entry.ParseFromString(*h)) corrected = entry.event();
    }
  }
  // Every event counts one version, so its history key is known before the
  // fold (a late report re-folds the family from these keys).
  const int64_t version = before.version() + 1;
  JARING_ASSIGN_OR_RETURN(family::Folded folded,
                          family::FoldIntoBatch(event, batch, {FamilyKey(kk), TimelineKey(kk), VersionKey(kk, version)},
                                                [](std::string_view bytes, v1::Envelope* out) {
                                                  v1::HistoryEntry entry;
                                                  if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
                                                    return false;
                                                  }
                                                  *out = std::move(*entry.mutable_event());
                                                  return true;
                                                }));
  family = folded.family;

  // History, event index, request index.
  v1::EventPosition pos;
  pos.set_event_id(e.event_id());
  pos.set_topic(event.record.topic);
  pos.set_partition(event.record.partition);
  pos.set_offset(event.record.offset);
  batch.Put(VersionKey(kk, version), EncodeHistory(pos, event.record.value));
  {
    std::string where = absl::StrCat(kk, std::string(1, '\0'));
    PutFixed64BE(&where, static_cast<uint64_t>(version));
    batch.Put(EventKey(e.event_id()), where);
  }
  if (!e.request_id().empty()) {
    v1::CommandResult r;
    *r.add_events() = pos;
    r.set_family_version(version);
    batch.Put(absl::StrCat(RequestPrefix(e.request_id()), e.event_id()), r.SerializeAsString());
  }
  if (e.has_family_registered()) {
    batch.Put(absl::StrCat(RegionPrefix(family->region_code()), "/", kk), "");
  }

  // Memberships.
  switch (e.payload_case()) {
    case v1::Envelope::kFamilyRegistered:
      for (const auto& m : e.family_registered().members()) {
        JARING_RETURN_IF_ERROR(UpdateMembership(event, m.nik(), true, false, batch));
      }
      break;
    case v1::Envelope::kBirthRecorded:
      JARING_RETURN_IF_ERROR(UpdateMembership(event, e.birth_recorded().child().nik(), true, false, batch));
      break;
    case v1::Envelope::kDeathRecorded:
      JARING_RETURN_IF_ERROR(UpdateMembership(event, e.death_recorded().nik(), false, false, batch));
      break;
    case v1::Envelope::kMemberMovedOut:
      JARING_RETURN_IF_ERROR(UpdateMembership(event, e.member_moved_out().nik(), false, true, batch));
      break;
    case v1::Envelope::kMemberMovedIn:
      JARING_RETURN_IF_ERROR(UpdateMembership(event, e.member_moved_in().member().nik(), true, false, batch));
      break;
    case v1::Envelope::kFamilySplit:
      for (const auto& n : e.family_split().member_niks()) {
        JARING_RETURN_IF_ERROR(UpdateMembership(event, n, false, true, batch));
      }
      break;
    case v1::Envelope::kRecordCorrected:
      if (corrected.has_value() && e.record_corrected().has_retraction()) {
        if (corrected->has_death_recorded()) {
          JARING_RETURN_IF_ERROR(UpdateMembership(event, corrected->death_recorded().nik(), true, false, batch));
        } else if (corrected->has_birth_recorded()) {
          JARING_RETURN_IF_ERROR(
              UpdateMembership(event, corrected->birth_recorded().child().nik(), false, true, batch));
        }
      }
      break;
    default:
      break;
  }
  std::vector<std::string> niks = AffectedNiks(e, before);
  if (corrected.has_value() && e.record_corrected().has_retraction()) {
    if (corrected->has_death_recorded()) niks.push_back(corrected->death_recorded().nik());
    if (corrected->has_birth_recorded()) niks.push_back(corrected->birth_recorded().child().nik());
  }
  std::sort(niks.begin(), niks.end());
  niks.erase(std::unique(niks.begin(), niks.end()), niks.end());
  for (const std::string& nik : niks) {
    if (!nik.empty()) JARING_RETURN_IF_ERROR(RecomputeNik(nik, batch));
  }

  // A dead head: one family's finding, kept and marked resolved later.
  const std::string dead_head_id = events::DeterministicId("dead-head", {kk, before.head_nik()});
  const std::string dead_head_key = FindingKey(family->region_code(), dead_head_id);
  if (e.has_death_recorded() && e.death_recorded().nik() == family->head_nik()) {
    v1::OverlapFinding f;
    f.set_finding_id(events::DeterministicId("dead-head", {kk, family->head_nik()}));
    f.set_kind(v1::OVERLAP_KIND_DEAD_HEAD);
    f.add_kk_numbers(kk);
    f.add_region_codes(family->region_code());
    f.set_masked_nik(MaskNik(family->head_nik()));
    *f.add_evidence() = pos;
    *f.mutable_detected_at() = e.recorded_at();
    batch.Put(FindingKey(family->region_code(), f.finding_id()), f.SerializeAsString());
  } else if (e.has_head_changed() ||
             (corrected.has_value() && corrected->has_death_recorded() &&
              corrected->death_recorded().nik() == family->head_nik())) {
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> open, batch.Get(dead_head_key));
    v1::OverlapFinding f;
    if (open.has_value() && f.ParseFromString(*open) && !f.resolved()) {
      f.set_resolved(true);
      *f.add_evidence() = pos;
      batch.Put(dead_head_key, f.SerializeAsString());
    }
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------ reader

namespace {
using projection::RocksError;
}  // namespace

absl::StatusOr<v1::Family> PopulationReader::GetFamily(std::string_view kk) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), FamilyKey(kk), &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("family ", Av(kk), " is not registered"));
  JARING_RETURN_IF_ERROR(RocksError(s));
  v1::Family f;
  if (!f.ParseFromString(value)) return absl::DataLossError("corrupt family record");
  return f;
}

absl::StatusOr<std::optional<v1::FamilyTimeline>> PopulationReader::Timeline(std::string_view kk) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), TimelineKey(kk), &value);
  if (s.IsNotFound()) return std::nullopt;
  JARING_RETURN_IF_ERROR(RocksError(s));
  v1::FamilyTimeline t;
  if (!t.ParseFromString(value)) return absl::DataLossError(absl::StrCat("corrupt timeline of family ", Av(kk)));
  return t;
}

absl::StatusOr<std::vector<v1::HistoryEntry>> PopulationReader::History(
    std::string_view kk, std::optional<int64_t> recorded_at_or_before_ms) const {
  std::vector<v1::HistoryEntry> out;
  const std::string prefix = HistoryPrefix(kk);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::HistoryEntry entry;
    if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("corrupt history entry");
    }
    if (recorded_at_or_before_ms && events::ToMillis(entry.event().recorded_at()) > *recorded_at_or_before_ms) {
      continue;
    }
    out.push_back(std::move(entry));
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  return out;
}

absl::StatusOr<v1::Family> PopulationReader::FamilyAt(std::string_view kk, std::optional<int64_t> as_known_at_ms,
                                                      std::optional<int64_t> as_of_ms) const {
  JARING_ASSIGN_OR_RETURN(std::vector<v1::HistoryEntry> history, History(kk, as_known_at_ms));
  std::vector<const v1::Envelope*> events;
  events.reserve(history.size());
  for (const v1::HistoryEntry& entry : history) events.push_back(&entry.event());
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> family, family::FoldEnvelopes(events, as_of_ms));
  if (!family.has_value()) {
    return absl::NotFoundError(absl::StrCat("family ", Av(kk), " did not exist at that date"));
  }
  return *std::move(family);
}

absl::StatusOr<MembershipList> PopulationReader::Memberships(std::string_view nik) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), NikKey(nik), &value);
  if (s.IsNotFound()) return absl::NotFoundError("no family lists this NIK");
  JARING_RETURN_IF_ERROR(RocksError(s));
  auto list = MembershipList::Decode(value);
  if (!list) return absl::DataLossError("corrupt membership record");
  return *list;
}

namespace {
// Visits keys under `prefix` after `after` (exclusive), at most `limit`
// accepted by `visit`; sets *next to the last visited key when more remain.
template <typename Visit>
absl::Status Page(rocksdb::DB* db, const std::string& prefix, std::string_view after, int limit,
                  std::string* next, Visit visit) {
  next->clear();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  const bool resume = !after.empty() && Sv(absl::string_view(after.data(), after.size())).substr(0, prefix.size()) == prefix;
  it->Seek(resume ? std::string(after) : prefix);
  int taken = 0;
  std::string last;
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (resume && it->key().ToStringView() == after) continue;
    if (taken == limit) {
      *next = last;
      break;
    }
    JARING_ASSIGN_OR_RETURN(bool accepted, visit(it->key(), it->value()));
    last = it->key().ToString();
    if (accepted) ++taken;
  }
  return RocksError(it->status());
}
}  // namespace

absl::StatusOr<std::vector<v1::Family>> PopulationReader::ListFamilies(std::string_view region_prefix,
                                                                       std::string_view after, int limit,
                                                                       std::string* next) const {
  std::vector<v1::Family> out;
  JARING_RETURN_IF_ERROR(Page(db_, RegionPrefix(region_prefix), after, limit, next,
                              [&](const rocksdb::Slice& key, const rocksdb::Slice&) -> absl::StatusOr<bool> {
                                const std::string k = key.ToString();
                                JARING_ASSIGN_OR_RETURN(v1::Family f, GetFamily(k.substr(k.rfind('/') + 1)));
                                out.push_back(std::move(f));
                                return true;
                              }));
  return out;
}

absl::StatusOr<int64_t> PopulationReader::CountFamilies(std::string_view region_prefix) const {
  const std::string prefix = RegionPrefix(region_prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  int64_t n = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++n;
  if (!it->status().ok()) return absl::UnavailableError(absl::StrCat("count families: ", it->status().ToString()));
  return n;
}

absl::StatusOr<std::vector<v1::OverlapFinding>> PopulationReader::ListFindings(std::string_view region_prefix,
                                                                               bool include_resolved,
                                                                               std::string_view after, int limit,
                                                                               std::string* next) const {
  std::vector<v1::OverlapFinding> out;
  // A finding that involves several regions is stored under each of them.
  // Only the copy under the smallest region that matches the prefix is
  // listed: keys sort by region, so that copy comes first, and paging needs
  // no memory of earlier pages.
  JARING_RETURN_IF_ERROR(Page(db_, FindingPrefix(region_prefix), after, limit, next,
                              [&](const rocksdb::Slice& key, const rocksdb::Slice& value) -> absl::StatusOr<bool> {
                                v1::OverlapFinding f;
                                if (!f.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                                  return absl::DataLossError("corrupt finding");
                                }
                                if (f.resolved() && !include_resolved) return false;
                                const std::string_view k = key.ToStringView();
                                const std::string_view region = k.substr(2, k.rfind('/') - 2);
                                for (const std::string& r : f.region_codes()) {
                                  if (Sv(r).substr(0, region_prefix.size()) == region_prefix && Sv(r) < region) {
                                    return false;  // listed under `r`
                                  }
                                }
                                out.push_back(std::move(f));
                                return true;
                              }));
  return out;
}

absl::StatusOr<std::vector<v1::AccessRecord>> PopulationReader::ListAccess(std::string_view scope,
                                                                           std::string_view subject, int64_t from_ms,
                                                                           int64_t to_ms, std::string_view after,
                                                                           int limit, std::string* next) const {
  std::vector<v1::AccessRecord> out;
  const bool by_subject = !subject.empty();
  const std::string prefix = by_subject ? SubjectPrefix(subject) : AccessPrefix(scope);
  std::string start = prefix;
  PutOrderedInt64(&start, from_ms);
  std::string resume(after);
  if (resume.empty() || resume < start) resume = start;
  JARING_RETURN_IF_ERROR(Page(db_, prefix, resume, limit, next,
                              [&](const rocksdb::Slice& key, const rocksdb::Slice& value) -> absl::StatusOr<bool> {
                                const std::string_view k = key.ToStringView();
                                if (k.size() < prefix.size() + 8) return false;
                                const int64_t ms = static_cast<int64_t>(
                                    DecodeFixed64BE(k.data() + prefix.size()) ^ (uint64_t{1} << 63));
                                if (ms < from_ms) return false;
                                if (ms > to_ms) return false;
                                std::string raw = value.ToString();
                                if (by_subject) {
                                  std::string record;
                                  const rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), raw, &record);
                                  if (!st.ok()) return absl::DataLossError("access index points at no record");
                                  raw = std::move(record);
                                }
                                v1::AccessRecord r;
                                if (!r.ParseFromString(raw)) return absl::DataLossError("corrupt access record");
                                out.push_back(std::move(r));
                                return true;
                              }));
  return out;
}

absl::StatusOr<std::optional<std::string>> PopulationReader::CurrentFamily(std::string_view nik) const {
  JARING_ASSIGN_OR_RETURN(MembershipList list, Memberships(nik));
  for (const auto& m : list.memberships) {
    if (m.alive) return m.kk_number;
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<v1::CommandResult>> PopulationReader::RequestResult(std::string_view request_id,
                                                                                  std::string_view primary_kk) const {
  const std::string prefix = RequestPrefix(request_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::vector<v1::EventPosition> events;
  int64_t version = 0;
  bool any = false;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::CommandResult r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) || r.events_size() != 1) {
      return absl::DataLossError("corrupt request record");
    }
    any = true;
    events.push_back(r.events(0));
    // The family version reported is the primary family's.
    std::string where;
    if (db_->Get(rocksdb::ReadOptions(), EventKey(r.events(0).event_id()), &where).ok() &&
        Sv(where).substr(0, where.size() > 9 ? where.size() - 9 : 0) == primary_kk) {
      version = r.family_version();
    }
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  if (!any) return std::optional<v1::CommandResult>();
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.partition(), a.offset()) < std::make_pair(b.partition(), b.offset());
  });
  v1::CommandResult result;
  for (auto& e : events) *result.add_events() = std::move(e);
  result.set_family_version(version);
  result.set_deduplicated(true);
  return std::optional<v1::CommandResult>(std::move(result));
}

absl::StatusOr<std::optional<std::string>> PopulationReader::EventFamily(std::string_view event_id) const {
  std::string where;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), EventKey(event_id), &where);
  if (s.IsNotFound()) return std::optional<std::string>();
  JARING_RETURN_IF_ERROR(RocksError(s));
  if (where.size() < 10) return absl::DataLossError("corrupt event index");
  return std::optional<std::string>(where.substr(0, where.size() - 9));
}

}  // namespace jaring::population
