#include "services/eligibility/store.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/base/coding.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "libs/events/topics.h"
#include "libs/family/batch_fold.h"
#include "libs/family/fold.h"
#include "libs/rules/compact.h"
#include "services/eligibility/outcome.h"
#include "rocksdb/db.h"
#include "libs/projection/rocks_error.h"

namespace jaring::eligibility {

namespace keys {
std::string Family(std::string_view kk) { return absl::StrCat("f/", Av(kk)); }
std::string Timeline(std::string_view kk) { return absl::StrCat("t/", Av(kk)); }
std::string Compact(std::string_view kk) { return absl::StrCat("k/", Av(kk)); }
std::string Position(std::string_view kk) { return absl::StrCat("p/", Av(kk)); }
std::string HistoryPrefix(std::string_view kk) { return absl::StrCat("h/", Av(kk), "/"); }
std::string History(std::string_view kk, int32_t partition, int64_t offset) {
  std::string k = HistoryPrefix(kk);
  PutFixed32BE(&k, static_cast<uint32_t>(partition));
  PutFixed64BE(&k, static_cast<uint64_t>(offset));
  return k;
}
std::string RegionPrefix(std::string_view region_prefix) { return absl::StrCat("g/", Av(region_prefix)); }
std::string Region(std::string_view region, std::string_view kk) {
  return absl::StrCat("g/", Av(region), "/", Av(kk));
}
std::string Change(int32_t partition, int64_t offset) {
  std::string k(kChangePrefix);
  PutFixed32BE(&k, static_cast<uint32_t>(partition));
  PutFixed64BE(&k, static_cast<uint64_t>(offset));
  return k;
}
std::string EventSeen(std::string_view event_id) { return absl::StrCat("i/", Av(event_id)); }
std::string Rule(int64_t offset) {
  std::string k(kRulePrefix);
  PutFixed64BE(&k, static_cast<uint64_t>(offset));
  return k;
}
std::string DecisionPrefix(std::string_view kk) { return absl::StrCat("d/", Av(kk), "/"); }
std::string Decision(std::string_view kk, std::string_view program) {
  return absl::StrCat("d/", Av(kk), "/", Av(program));
}
std::string VersionPrefix(std::string_view kk) { return absl::StrCat("v/", Av(kk), "/"); }
std::string Version(std::string_view kk, std::string_view program, int64_t version) {
  std::string k = absl::StrCat("v/", Av(kk), "/", Av(program), "/");
  PutFixed64BE(&k, static_cast<uint64_t>(version));
  return k;
}
std::string BeneficiaryPrefix(std::string_view program, std::string_view region_prefix) {
  return absl::StrCat("b/", Av(program), "/", Av(region_prefix));
}
std::string Beneficiary(std::string_view program, std::string_view region, std::string_view kk) {
  return absl::StrCat("b/", Av(program), "/", Av(region), "/", Av(kk));
}
}  // namespace keys

std::string EncodePosition(const FamilyPosition& p) {
  std::string s;
  PutFixed32BE(&s, static_cast<uint32_t>(p.partition));
  PutFixed64BE(&s, static_cast<uint64_t>(p.offset));
  return s;
}

std::optional<FamilyPosition> DecodePosition(std::string_view bytes) {
  if (bytes.size() != 12) return std::nullopt;
  return FamilyPosition{static_cast<int32_t>(DecodeFixed32BE(bytes.data())),
                        static_cast<int64_t>(DecodeFixed64BE(bytes.data() + 4))};
}

namespace {

using projection::RocksError;

rocksdb::ReadOptions ReadAt(const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  return ro;
}

}  // namespace

absl::Status EligibilityApplier::Apply(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  // A retried append may have stored a record twice; its id makes the
  // second copy a no-op, on every topic.
  const std::string seen_key = keys::EventSeen(e.event_id());
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> seen, batch.Get(seen_key));
  if (seen.has_value()) return absl::OkStatus();
  batch.Put(seen_key, "");

  const std::string_view topic = event.record.topic;
  if (topic == events::kPopulationTopic) return ApplyPopulation(event, batch);
  if (topic == events::kRulesTopic) {
    if (!e.has_rule_set_published()) {
      return absl::DataLossError(absl::StrCat("a ", events::PayloadTypeName(e), " on the rules topic"));
    }
    batch.Put(keys::Rule(event.record.offset), event.record.value);
    return absl::OkStatus();
  }
  if (topic == events::kEligibilityTopic) return ApplyDecision(event, batch);
  return absl::InternalError(absl::StrCat("unexpected topic ", Av(topic)));
}

absl::Status EligibilityApplier::ApplyPopulation(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  const std::string& kk = e.key();
  std::string region_before;
  {
    JARING_ASSIGN_OR_RETURN(v1::Family * before, batch.Mutable<v1::Family>(keys::Family(kk)));
    region_before = before->region_code();
  }
  const int32_t partition = event.record.partition;
  const int64_t offset = event.record.offset;
  const std::string history_key = keys::History(kk, partition, offset);
  JARING_ASSIGN_OR_RETURN(family::Folded folded,
                          family::FoldIntoBatch(event, batch, {keys::Family(kk), keys::Timeline(kk), history_key}));
  v1::Family* family = folded.family;
  batch.Put(history_key, event.record.value);
  // The seen marker of a population event points at its history entry, for
  // corrections of it.
  batch.Put(keys::EventSeen(e.event_id()), history_key);
  batch.Put(keys::Position(kk), EncodePosition({partition, offset}));
  {
    // The compact family, keeping the recorded digests.
    const std::string key = keys::Compact(kk);
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> old, batch.Get(key));
    FamilyRecord record;
    if (old.has_value() && !ParseFamilyRecord(*old, &record)) return absl::DataLossError(absl::StrCat("corrupt ", key));
    batch.Put(key, EncodeFamilyRecord(rules::EncodeCompactFamily(*family), record.digests));
  }
  batch.Put(keys::Change(partition, offset), kk);
  if (region_before != family->region_code()) {
    if (!region_before.empty()) batch.Delete(keys::Region(region_before, kk));
    batch.Put(keys::Region(family->region_code(), kk), "");
  }
  return absl::OkStatus();
}

absl::Status EligibilityApplier::ApplyDecision(const projection::Event& event, projection::Batch& batch) {
  const v1::Envelope& e = event.envelope;
  if (!e.has_eligibility_decided()) {
    return absl::DataLossError(absl::StrCat("a ", events::PayloadTypeName(e), " on the eligibility topic"));
  }
  const v1::Decision& d = e.eligibility_decided().decision();
  const std::string current_key = keys::Decision(d.kk_number(), d.program());
  JARING_ASSIGN_OR_RETURN(std::optional<std::string> current, batch.Get(current_key));
  if (current.has_value()) {
    v1::Envelope before;
    if (!before.ParseFromString(*current)) return absl::DataLossError(absl::StrCat("corrupt ", current_key));
    const v1::Decision& b = before.eligibility_decided().decision();
    if (b.eligible()) batch.Delete(keys::Beneficiary(b.program(), b.region_code(), b.kk_number()));
  }
  batch.Put(current_key, event.record.value);
  batch.Put(keys::Version(d.kk_number(), d.program(), d.version()), event.record.value);
  {
    // The recorded digest, keeping the compact family.
    const std::string key = keys::Compact(d.kk_number());
    JARING_ASSIGN_OR_RETURN(std::optional<std::string> old, batch.Get(key));
    FamilyRecord record;
    if (old.has_value() && !ParseFamilyRecord(*old, &record)) return absl::DataLossError(absl::StrCat("corrupt ", key));
    const std::string digest = Digest(d);
    bool replaced = false;
    for (auto& [program, dg] : record.digests) {
      if (program == d.program()) {
        dg = digest;
        replaced = true;
      }
    }
    if (!replaced) record.digests.emplace_back(d.program(), digest);
    batch.Put(key, EncodeFamilyRecord(record.family, record.digests));
  }
  if (d.eligible()) {
    v1::Beneficiary ben;
    ben.set_kk_number(d.kk_number());
    ben.set_region_code(d.region_code());
    ben.set_decile(d.decile());
    ben.set_yearly_amount(d.yearly_amount());
    ben.set_decision_id(d.decision_id());
    ben.set_decision_version(d.version());
    ben.set_components(BeneficiaryComponents(d));
    batch.Put(keys::Beneficiary(d.program(), d.region_code(), d.kk_number()), ben.SerializeAsString());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::shared_ptr<const PublishedRules>>> LoadPublishedRules(rocksdb::DB* db) {
  std::vector<std::shared_ptr<const PublishedRules>> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(std::string(keys::kRulePrefix)); it->Valid() && it->key().starts_with(keys::kRulePrefix);
       it->Next()) {
    v1::Envelope e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        !e.has_rule_set_published()) {
      return absl::DataLossError("corrupt rule set record in the eligibility store");
    }
    auto p = std::make_shared<PublishedRules>();
    p->event_id = e.event_id();
    p->offset = static_cast<int64_t>(DecodeFixed64BE(it->key().data() + keys::kRulePrefix.size()));
    p->recorded_at_ms = events::ToMillis(e.recorded_at());
    p->effective_from_ms = events::ToMillis(e.rule_set_published().rule_set().effective_from());
    p->hash = e.rule_set_published().content_hash();
    p->rules = e.rule_set_published().rule_set();
    out.push_back(std::move(p));
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  return out;
}

std::shared_ptr<const PublishedRules> RuleSetInForce(
    const std::vector<std::shared_ptr<const PublishedRules>>& published, int64_t at_ms, int64_t known_at_ms) {
  std::shared_ptr<const PublishedRules> best;
  for (const auto& p : published) {
    if (p->recorded_at_ms > known_at_ms || p->effective_from_ms > at_ms) continue;
    if (best == nullptr || p->effective_from_ms >= best->effective_from_ms) best = p;
  }
  return best;
}

absl::StatusOr<std::vector<FamilyEvent>> FamilyEvents(rocksdb::DB* db, const rocksdb::Snapshot* snapshot,
                                                      std::string_view kk, std::optional<int64_t> known_at_ms) {
  std::vector<FamilyEvent> out;
  const std::string prefix = keys::HistoryPrefix(kk);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ReadAt(snapshot)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::Envelope e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("corrupt history of family ", Av(kk)));
    }
    if (known_at_ms && events::ToMillis(e.recorded_at()) > *known_at_ms) continue;
    const std::string_view pos = it->key().ToStringView().substr(prefix.size());
    if (pos.size() != 12) return absl::DataLossError(absl::StrCat("bad history key of family ", Av(kk)));
    const FamilyPosition at = *DecodePosition(pos);
    out.push_back({at.partition, at.offset, std::move(e)});
  }
  JARING_RETURN_IF_ERROR(RocksError(it->status()));
  return out;
}

absl::StatusOr<std::optional<v1::Family>> FoldFamily(const std::vector<FamilyEvent>& events,
                                                      std::optional<int64_t> as_of_ms, FamilyPosition* last) {
  const FamilyEvent* folded = nullptr;
  JARING_ASSIGN_OR_RETURN(std::optional<v1::Family> family, family::FoldAsOf(events, as_of_ms, &folded));
  if (last != nullptr && folded != nullptr) *last = {folded->partition, folded->offset};
  return family;
}

absl::StatusOr<std::optional<v1::Envelope>> ReadEnvelope(rocksdb::DB* db, const rocksdb::Snapshot* snapshot,
                                                         std::string_view key) {
  std::string value;
  rocksdb::Status s = db->Get(ReadAt(snapshot), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  JARING_RETURN_IF_ERROR(RocksError(s));
  v1::Envelope e;
  if (!e.ParseFromString(value)) return absl::DataLossError(absl::StrCat("corrupt record at ", Av(key)));
  return e;
}

int32_t BeneficiaryComponents(const v1::Decision& d) {
  return d.has_pbi_jk() ? d.pbi_jk().covered_members() : static_cast<int32_t>(d.components_size());
}

}  // namespace jaring::eligibility
