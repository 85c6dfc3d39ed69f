#include "tools/jaringctl/population_commands.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/base/strings.h"
#include "libs/events/envelope.h"
#include "tools/jaringctl/output.h"
#include "tools/synth/csv.h"
#include "tools/synth/synth.h"

namespace jaring::ctl {
namespace {

using synth::SynthCommand;

// "YYYY-MM-DD" (00:00 WIB) or RFC 3339.
absl::StatusOr<absl::Time> ParseWhen(std::string_view flag, const std::string& value) {
  if (std::optional<absl::CivilDay> day = synth::ParseIsoDay(value)) return synth::DayStart(*day);
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, value, &t, &err)) return t;
  return absl::InvalidArgumentError(
      absl::StrCat(Av(flag), ": \"", value, "\" is not a date (YYYY-MM-DD) or an RFC 3339 time"));
}

absl::StatusOr<v1::Source> ParseSource(const std::string& s) {
  v1::Source out;
  if (v1::Source_Parse(absl::StrCat("SOURCE_", s), &out) && out != v1::SOURCE_UNSPECIFIED) return out;
  return absl::InvalidArgumentError(absl::StrCat(
      "--source: unknown source \"", s, "\" (DUKCAPIL, BPS_DTSEN, DINSOS, FIELD_VERIFIER, SYSTEM, NATIONAL, FAMILY)"));
}

absl::StatusOr<v1::CommandContext> BuildContext(const CommandFlags& c, v1::Source default_source) {
  v1::CommandContext ctx;
  ctx.set_request_id(c.request_id.empty() ? events::RandomId() : c.request_id);
  absl::Time occurred = absl::Now();
  if (!c.date.empty()) {
    absl::StatusOr<absl::Time> t = ParseWhen("--date", c.date);
    if (!t.ok()) return t.status();
    occurred = *t;
  }
  *ctx.mutable_occurred_at() = events::ToProtoTime(occurred);
  if (!c.recorded.empty()) {
    absl::StatusOr<absl::Time> t = ParseWhen("--recorded", c.recorded);
    if (!t.ok()) return t.status();
    *ctx.mutable_recorded_at() = events::ToProtoTime(*t);
  }
  v1::Source source = default_source;
  if (!c.source.empty()) {
    absl::StatusOr<v1::Source> s = ParseSource(c.source);
    if (!s.ok()) return s.status();
    source = *s;
  }
  ctx.set_source(source);
  ctx.set_actor(c.actor);
  if (c.expected_version >= 0) ctx.set_expected_version(c.expected_version);
  if (!c.correlation_id.empty()) ctx.set_correlation_id(c.correlation_id);
  return ctx;
}

int SendAndPrint(const GlobalFlags& g, const SynthCommand& cmd) {
  Client client(g.For("jaring.v1.PopulationService"));
  v1::CommandResult result;
  grpc::Status st = client.Send(cmd, &result);
  if (!st.ok()) return client.Fail(st);
  if (g.json) {
    std::printf("{\"result\": %s}\n", ToJson(result).c_str());
  } else {
    std::printf("%s\n", FormatResult(synth::RpcName(cmd), result).c_str());
  }
  return kExitOk;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot open ", path));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

std::optional<v1::Sex> ParseSex(const std::string& s) {
  if (s == "L" || s == "M" || s == "MALE") return v1::SEX_MALE;
  if (s == "P" || s == "F" || s == "FEMALE") return v1::SEX_FEMALE;
  return std::nullopt;
}

std::optional<bool> ParseYesNo(const std::string& s) {
  if (s == "Y" || s == "y" || s == "true") return true;
  if (s == "N" || s == "n" || s == "false") return false;
  return std::nullopt;
}

int Bad(const absl::Status& st) { return BadArguments(std::string(st.message())); }

std::string ShortType(const v1::Envelope& e) {
  std::string t = events::PayloadTypeName(e);
  absl::string_view v = t;
  absl::ConsumePrefix(&v, "jaring.v1.");
  return std::string(v);
}

std::string SourceName(v1::Source s) {
  std::string n = v1::Source_Name(s);
  absl::string_view v = n;
  absl::ConsumePrefix(&v, "SOURCE_");
  return std::string(v);
}

std::string Attrs(const v1::MemberAttributes& a) {
  std::vector<std::string> parts;
  if (a.has_disability() && a.disability() != v1::DISABILITY_NONE) {
    parts.push_back(absl::StrCat("disabilitas ", Av(synth::DisabilityName(a.disability()))));
  }
  if (a.has_school_level() && a.school_level() != v1::SCHOOL_LEVEL_NONE) {
    parts.push_back(absl::StrCat(Av(synth::SchoolLevelName(a.school_level())),
                                 a.school_enrolled() ? "" : " (tidak terdaftar)"));
  }
  if (a.pregnant()) parts.push_back(absl::StrCat("hamil ke-", a.pregnancy_order()));
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

void PrintFamily(const v1::Family& f) {
  std::printf("KK          %s\n", f.kk_number().c_str());
  std::printf("region      %s\n", f.region_code().c_str());
  std::printf("head        %s\n", MaskNik(f.head_nik()).c_str());
  if (!f.split_from_kk_number().empty()) std::printf("split from  %s\n", f.split_from_kk_number().c_str());
  if (f.has_latest_assessment()) {
    std::printf("DTSEN       decile %d (round %s, PMT %.6f)\n", f.latest_assessment().decile(),
                f.latest_assessment().round().c_str(),
                static_cast<double>(f.latest_assessment().pmt_score_micros()) / 1e6);
  } else {
    std::printf("DTSEN       not assessed\n");
  }
  std::printf("version     %lld (updated %s)\n\n", static_cast<long long>(f.version()),
              f.updated_at_ms() == 0
                  ? "-"
                  : absl::FormatTime("%Y-%m-%d %H:%M WIB", absl::FromUnixMillis(f.updated_at_ms()),
                                     absl::FixedTimeZone(7 * 3600))
                        .c_str());
  Table t({"NIK", "NAME", "SEX", "BORN", "RELATIONSHIP", "STATUS", "ATTRIBUTES"});
  for (const v1::FamilyMember& fm : f.members()) {
    const v1::Member& m = fm.member();
    t.Add({MaskNik(m.nik()), m.full_name(), m.sex() == v1::SEX_FEMALE ? "P" : m.sex() == v1::SEX_MALE ? "L" : "-",
           FormatDate(m.birth_date()), std::string(synth::RelationshipName(m.relationship(), m.sex())),
           fm.alive() ? "hidup" : absl::StrCat("meninggal ", FormatDate(fm.date_of_death())), Attrs(m.attributes())});
  }
  t.Print();
}

// --- Import -------------------------------------------------------------

// One Import stream: the caller writes families, a reader thread prints row
// errors and progress.
class ImportSession {
 public:
  ImportSession(Client& client, Progress& progress) : client_(client), progress_(progress) {}

  void Start() {
    client_.Prepare(&ctx_, /*stream=*/true);
    stream_ = client_.population().Import(&ctx_);
    started_ = absl::Now();
    reader_ = std::thread([this] { ReadLoop(); });
  }

  // False once the stream is broken (the reason comes from Finish()).
  bool Write(int64_t line, const v1::RegisterFamilyRequest& family, int rows) {
    rows_ += rows;
    ++families_;
    v1::ImportRequest req;
    req.set_line(line);
    *req.mutable_family() = family;
    if (!stream_->Write(req)) return false;
    ShowProgress();
    return true;
  }

  void LocalError(int64_t line, const std::string& message) {
    progress_.Line(absl::StrCat("line ", line, ": INVALID_ARGUMENT: ", message));
  }
  void LocalRejectedFamily() { ++local_rejected_; }
  void AddRows(int64_t rows) { rows_ += rows; }

  // Ends the stream; prints the summary; returns the exit code.
  int Finish(bool json) {
    v1::ImportRequest end;
    end.set_end(true);
    stream_->Write(end);
    stream_->WritesDone();
    reader_.join();
    grpc::Status st = stream_->Finish();
    ShowProgress();
    progress_.Finish();
    if (!st.ok()) return client_.Fail(st);
    double secs = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - started_));
    if (json) {
      std::printf(
          "{\"rows\": %lld, \"families\": %lld, \"imported\": %lld, \"alreadyImported\": %lld, \"rejected\": %lld, "
          "\"rejectedLocally\": %lld, \"seconds\": %.3f}\n",
          static_cast<long long>(rows_.load()), static_cast<long long>(families_.load()),
          static_cast<long long>(imported_.load()), static_cast<long long>(already_.load()),
          static_cast<long long>(rejected_.load()), static_cast<long long>(local_rejected_.load()), secs);
    } else {
      std::printf("import done: %lld rows, %lld families sent in %.1f s; imported %lld, already imported %lld, "
                  "rejected %lld (%lld by the service, %lld in the file)\n",
                  static_cast<long long>(rows_.load()), static_cast<long long>(families_.load()), secs,
                  static_cast<long long>(imported_.load()), static_cast<long long>(already_.load()),
                  static_cast<long long>(rejected_.load() + local_rejected_.load()),
                  static_cast<long long>(rejected_.load()), static_cast<long long>(local_rejected_.load()));
    }
    return kExitOk;
  }

 private:
  void ReadLoop() {
    v1::ImportResponse resp;
    while (stream_->Read(&resp)) {
      if (resp.has_row_error()) {
        const v1::ImportRowError& e = resp.row_error();
        progress_.Line(absl::StrCat("line ", e.line(), ": ", e.code(), ": ", e.message()));
      } else if (resp.has_progress()) {
        imported_ = resp.progress().imported();
        already_ = resp.progress().already_imported();
        rejected_ = resp.progress().rejected();
        ShowProgress();
      }
    }
  }
  void ShowProgress() {
    double secs = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - started_));
    progress_.Update(absl::StrFormat("rows %d  imported %d  already imported %d  rejected %d  %.0f rows/s",
                                     rows_.load(), imported_.load(), already_.load(),
                                     rejected_.load() + local_rejected_.load(),
                                     static_cast<double>(rows_.load()) / secs));
  }

  Client& client_;
  Progress& progress_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ImportRequest, v1::ImportResponse>> stream_;
  std::thread reader_;
  absl::Time started_;
  std::atomic<int64_t> rows_{0}, families_{0}, imported_{0}, already_{0}, rejected_{0}, local_rejected_{0};
};

// Sends commands one by one with a progress line. Returns the exit code.
class CommandSender {
 public:
  CommandSender(Client& client, Progress& progress, bool keep_going)
      : client_(client), progress_(progress), keep_going_(keep_going), started_(absl::Now()) {}

  // False when sending should stop.
  bool Send(const SynthCommand& cmd, int64_t line) {
    grpc::Status st = client_.Send(cmd, nullptr);
    ++sent_;
    if (!st.ok()) {
      ++failed_;
      progress_.Line(absl::StrCat("line ", line, ": ", Av(synth::RpcName(cmd)), ": ", CodeName(st.error_code()), ": ",
                                  st.error_message()));
      if (st.error_code() == grpc::StatusCode::UNAVAILABLE || !keep_going_) {
        last_error_ = st;
        return false;
      }
    }
    if (sent_ % 64 == 0) Show();
    return true;
  }
  int Finish(bool json) {
    Show();
    progress_.Finish();
    if (!last_error_.ok()) return client_.Fail(last_error_);
    double secs = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - started_));
    if (json) {
      std::printf("{\"commands\": %lld, \"failed\": %lld, \"seconds\": %.3f}\n", static_cast<long long>(sent_),
                  static_cast<long long>(failed_), secs);
    } else {
      std::printf("commands done: %lld sent, %lld failed in %.1f s\n", static_cast<long long>(sent_),
                  static_cast<long long>(failed_), secs);
    }
    return failed_ > 0 ? kExitServiceError : kExitOk;
  }

 private:
  void Show() {
    double secs = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - started_));
    progress_.Update(absl::StrFormat("commands %d  ok %d  failed %d  %.0f/s", sent_, sent_ - failed_, failed_,
                                     static_cast<double>(sent_) / secs));
  }
  Client& client_;
  Progress& progress_;
  bool keep_going_;
  absl::Time started_;
  int64_t sent_ = 0, failed_ = 0;
  grpc::Status last_error_;
};

absl::StatusOr<absl::Time> SynthStart(const SynthFlags& f, absl::Time now) {
  if (!f.start.empty()) {
    std::optional<absl::CivilDay> d = synth::ParseIsoDay(f.start);
    if (!d) return absl::InvalidArgumentError(absl::StrCat("--start: \"", f.start, "\" is not a date (YYYY-MM-DD)"));
    return synth::DayStart(*d);
  }
  // 2026-01-01 (rounds 2026-Q1, ...) when the period fits before now; else
  // the first of the month months+1 months back.
  absl::CivilDay preferred(2026, 1, 1);
  if (synth::DayStart(absl::CivilDay(2026, 1 + f.months, 1)) <= now) return synth::DayStart(preferred);
  absl::CivilDay today = synth::WibDay(now);
  return synth::DayStart(absl::CivilDay(today.year(), today.month() - f.months - 1, 1));
}

}  // namespace

// --- Commands -------------------------------------------------------------

int RunRegister(const GlobalFlags& g, const RegisterFlags& f) {
  absl::StatusOr<std::string> text = ReadFile(f.file);
  if (!text.ok()) return Bad(text.status());
  v1::RegisterFamilyRequest req;
  auto st = google::protobuf::util::JsonStringToMessage(*text, &req);
  if (!st.ok()) return BadArguments(absl::StrCat(f.file, ": not a RegisterFamilyRequest in proto JSON: ", st.ToString()));
  if (req.context().request_id().empty()) req.mutable_context()->set_request_id(events::RandomId());
  if (!req.context().has_occurred_at()) *req.mutable_context()->mutable_occurred_at() = events::ToProtoTime(absl::Now());
  if (req.context().source() == v1::SOURCE_UNSPECIFIED) req.mutable_context()->set_source(v1::SOURCE_DUKCAPIL);
  if (req.context().actor().empty()) req.mutable_context()->set_actor(f.c.actor);
  Client client(g.For("jaring.v1.PopulationService"));
  grpc::ClientContext ctx;
  client.Prepare(&ctx);
  v1::RegisterFamilyResponse resp;
  grpc::Status gs = client.population().RegisterFamily(&ctx, req, &resp);
  if (!gs.ok()) return client.Fail(gs);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
  } else {
    std::printf("%s\n", FormatResult("RegisterFamily", resp.result()).c_str());
  }
  return kExitOk;
}

int RunBirth(const GlobalFlags& g, const BirthFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_DUKCAPIL);
  if (!ctx.ok()) return Bad(ctx.status());
  std::optional<v1::Sex> sex = ParseSex(f.sex);
  if (!sex) return BadArguments(absl::StrCat("--sex: unknown value \"", f.sex, "\" (L or P)"));
  std::optional<v1::Relationship> rel = synth::ParseRelationshipName(f.relationship);
  if (!rel) {
    return BadArguments(absl::StrCat("--relationship: unknown value \"", f.relationship, "\" (",
                                     synth::RelationshipNames(), ")"));
  }
  if (f.mother.empty() && f.no_mother_reason.empty()) {
    return BadArguments("--mother or --no-mother-reason is required");
  }
  v1::RecordBirthRequest req;
  *req.mutable_context() = *ctx;
  req.set_kk_number(f.kk);
  v1::Member* child = req.mutable_birth()->mutable_child();
  child->set_nik(f.child_nik);
  child->set_full_name(f.name);
  child->set_sex(*sex);
  absl::CivilDay born = synth::WibDay(events::FromProtoTime(ctx->occurred_at()));
  child->mutable_birth_date()->set_year(static_cast<int32_t>(born.year()));
  child->mutable_birth_date()->set_month(born.month());
  child->mutable_birth_date()->set_day(born.day());
  child->set_relationship(*rel);
  child->set_mother_nik(f.mother);
  child->mutable_attributes()->set_disability(v1::DISABILITY_NONE);
  child->mutable_attributes()->set_school_level(v1::SCHOOL_LEVEL_NONE);
  child->mutable_attributes()->set_school_enrolled(false);
  child->mutable_attributes()->set_pregnant(false);
  req.mutable_birth()->set_mother_nik(f.mother);
  req.mutable_birth()->set_no_mother_reason(f.no_mother_reason);
  return SendAndPrint(g, req);
}

int RunDeath(const GlobalFlags& g, const DeathFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_DUKCAPIL);
  if (!ctx.ok()) return Bad(ctx.status());
  v1::RecordDeathRequest req;
  *req.mutable_context() = *ctx;
  req.set_kk_number(f.kk);
  req.mutable_death()->set_nik(f.nik);
  absl::CivilDay died = synth::WibDay(events::FromProtoTime(ctx->occurred_at()));
  req.mutable_death()->mutable_date_of_death()->set_year(static_cast<int32_t>(died.year()));
  req.mutable_death()->mutable_date_of_death()->set_month(died.month());
  req.mutable_death()->mutable_date_of_death()->set_day(died.day());
  req.mutable_death()->set_certificate_number(f.certificate);
  return SendAndPrint(g, req);
}

int RunMove(const GlobalFlags& g, const MoveFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_DUKCAPIL);
  if (!ctx.ok()) return Bad(ctx.status());
  std::optional<v1::Relationship> rel = synth::ParseRelationshipName(f.relationship);
  if (!rel) {
    return BadArguments(absl::StrCat("--relationship: unknown value \"", f.relationship, "\" (",
                                     synth::RelationshipNames(), ")"));
  }
  v1::MoveMemberRequest req;
  *req.mutable_context() = *ctx;
  req.set_from_kk_number(f.from);
  req.set_nik(f.nik);
  req.set_to_kk_number(f.to);
  req.set_relationship(*rel);
  req.set_reason(f.reason);
  return SendAndPrint(g, req);
}

int RunSplit(const GlobalFlags& g, const SplitFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_DUKCAPIL);
  if (!ctx.ok()) return Bad(ctx.status());
  v1::SplitFamilyRequest req;
  *req.mutable_context() = *ctx;
  req.set_kk_number(f.kk);
  req.set_new_kk_number(f.new_kk);
  req.set_new_region_code(f.region);
  for (const std::string& m : f.members) req.add_member_niks(m);
  req.set_new_head_nik(f.new_head);
  req.set_reason(f.reason);
  req.set_address(f.address);
  return SendAndPrint(g, req);
}

int RunHead(const GlobalFlags& g, const HeadFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_DUKCAPIL);
  if (!ctx.ok()) return Bad(ctx.status());
  v1::ChangeHeadRequest req;
  *req.mutable_context() = *ctx;
  req.set_kk_number(f.kk);
  req.set_new_head_nik(f.new_head);
  req.set_reason(f.reason);
  return SendAndPrint(g, req);
}

int RunAssess(const GlobalFlags& g, const AssessFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_BPS_DTSEN);
  if (!ctx.ok()) return Bad(ctx.status());
  if (f.decile < 1 || f.decile > 10) return BadArguments("--decile: must be 1 to 10");
  v1::RecordWelfareAssessmentRequest req;
  *req.mutable_context() = *ctx;
  req.set_kk_number(f.kk);
  req.mutable_assessment()->set_round(f.round);
  req.mutable_assessment()->set_decile(f.decile);
  // Without a score, the middle of the decile's band (as synth scores).
  req.mutable_assessment()->set_pmt_score_micros(f.pmt_score_micros >= 0 ? f.pmt_score_micros
                                                                         : (f.decile - 1) * int64_t{10'000'000} +
                                                                               5'000'000);
  return SendAndPrint(g, req);
}

int RunAttributes(const GlobalFlags& g, const AttributesFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_DINSOS);
  if (!ctx.ok()) return Bad(ctx.status());
  v1::ChangeMemberAttributesRequest req;
  *req.mutable_context() = *ctx;
  req.set_kk_number(f.kk);
  req.mutable_change()->set_nik(f.nik);
  v1::MemberAttributes* a = req.mutable_change()->mutable_attributes();
  if (!f.disability.empty()) {
    auto v = synth::ParseDisabilityName(f.disability);
    if (!v) {
      return BadArguments(absl::StrCat("--disability: unknown value \"", f.disability, "\" (",
                                       synth::DisabilityNames(), ")"));
    }
    a->set_disability(*v);
  }
  if (!f.school_level.empty()) {
    auto v = synth::ParseSchoolLevelName(f.school_level);
    if (!v) {
      return BadArguments(absl::StrCat("--school-level: unknown value \"", f.school_level, "\" (",
                                       synth::SchoolLevelNames(), ")"));
    }
    a->set_school_level(*v);
  }
  if (!f.school_enrolled.empty()) {
    auto v = ParseYesNo(f.school_enrolled);
    if (!v) return BadArguments("--school-enrolled: Y or N");
    a->set_school_enrolled(*v);
  }
  if (!f.pregnant.empty()) {
    auto v = ParseYesNo(f.pregnant);
    if (!v) return BadArguments("--pregnant: Y or N");
    a->set_pregnant(*v);
  }
  if (f.pregnancy_order > 0) a->set_pregnancy_order(f.pregnancy_order);
  if (a->ByteSizeLong() == 0) {
    return BadArguments(
        "nothing to change: give at least one of --disability, --school-level, --school-enrolled, --pregnant, "
        "--pregnancy-order");
  }
  return SendAndPrint(g, req);
}

int RunCorrect(const GlobalFlags& g, const CorrectFlags& f) {
  auto ctx = BuildContext(f.c, v1::SOURCE_DINSOS);
  if (!ctx.ok()) return Bad(ctx.status());
  int kinds = (f.retract ? 1 : 0) + (f.member_file.empty() ? 0 : 1) + (f.round.empty() ? 0 : 1);
  if (kinds != 1) {
    return BadArguments("give exactly one correction: --retract, --member-file FILE, or --round R --decile D");
  }
  v1::CorrectRecordRequest req;
  *req.mutable_context() = *ctx;
  req.set_kk_number(f.kk);
  v1::RecordCorrected* c = req.mutable_correction();
  c->set_corrected_event_id(f.event_id);
  c->set_reason(f.reason);
  c->set_appeal_id(f.appeal_id);
  if (f.retract) {
    c->mutable_retraction();
  } else if (!f.member_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile(f.member_file);
    if (!text.ok()) return Bad(text.status());
    auto st = google::protobuf::util::JsonStringToMessage(*text, c->mutable_member());
    if (!st.ok()) return BadArguments(absl::StrCat(f.member_file, ": not a Member in proto JSON: ", st.ToString()));
  } else {
    if (f.decile < 1 || f.decile > 10) return BadArguments("--decile: must be 1 to 10");
    v1::WelfareAssessed* a = c->mutable_welfare_assessment();
    a->set_round(f.round);
    a->set_decile(f.decile);
    a->set_pmt_score_micros(f.pmt_score_micros >= 0 ? f.pmt_score_micros
                                                    : (f.decile - 1) * int64_t{10'000'000} + 5'000'000);
  }
  return SendAndPrint(g, req);
}

int RunFamilyGet(const GlobalFlags& g, const FamilyGetFlags& f) {
  v1::GetFamilyRequest req;
  req.set_kk_number(f.kk);
  if (!f.as_known_at.empty()) {
    auto t = ParseWhen("--as-known-at", f.as_known_at);
    if (!t.ok()) return Bad(t.status());
    *req.mutable_as_known_at() = events::ToProtoTime(*t);
  }
  if (!f.as_of.empty()) {
    auto t = ParseWhen("--as-of", f.as_of);
    if (!t.ok()) return Bad(t.status());
    *req.mutable_as_of() = events::ToProtoTime(*t);
  }
  Client client(g.For("jaring.v1.PopulationService"));
  grpc::ClientContext ctx;
  client.Prepare(&ctx);
  v1::GetFamilyResponse resp;
  grpc::Status st = client.population().GetFamily(&ctx, req, &resp);
  if (!st.ok()) return client.Fail(st);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
  } else {
    PrintFamily(resp.family());
  }
  return kExitOk;
}

int RunFamilyList(const GlobalFlags& g, const FamilyListFlags& f) {
  v1::ListFamiliesRequest req;
  req.set_region_prefix(f.region);
  req.set_page_size(f.page_size);
  req.set_page_token(f.page_token);
  req.set_count_total(f.count);
  Client client(g.For("jaring.v1.PopulationService"));
  grpc::ClientContext ctx;
  client.Prepare(&ctx);
  v1::ListFamiliesResponse resp;
  grpc::Status st = client.population().ListFamilies(&ctx, req, &resp);
  if (!st.ok()) return client.Fail(st);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  Table t({"KK", "REGION", "HEAD", "MEMBERS", "DECILE", "VERSION"});
  for (const v1::Family& fam : resp.families()) {
    int alive = 0;
    for (const auto& m : fam.members()) alive += m.alive();
    t.Add({fam.kk_number(), fam.region_code(), MaskNik(fam.head_nik()),
           absl::StrCat(alive, "/", fam.members_size()),
           fam.has_latest_assessment() ? absl::StrCat(fam.latest_assessment().decile()) : "-",
           absl::StrCat(fam.version())});
  }
  t.Print();
  if (!resp.next_page_token().empty()) {
    std::printf("\nmore: --page-token %s\n", resp.next_page_token().c_str());
  }
  if (f.count) std::printf("total: %s in %s\n", Families(resp.total_families()).c_str(), f.region.c_str());
  return kExitOk;
}

int RunFamilyHistory(const GlobalFlags& g, const HistoryFlags& f) {
  v1::GetFamilyHistoryRequest req;
  req.set_kk_number(f.kk);
  if (!f.as_known_at.empty()) {
    auto t = ParseWhen("--as-known-at", f.as_known_at);
    if (!t.ok()) return Bad(t.status());
    *req.mutable_as_known_at() = events::ToProtoTime(*t);
  }
  Client client(g.For("jaring.v1.PopulationService"));
  grpc::ClientContext ctx;
  client.Prepare(&ctx);
  v1::GetFamilyHistoryResponse resp;
  grpc::Status st = client.population().GetFamilyHistory(&ctx, req, &resp);
  if (!st.ok()) return client.Fail(st);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  Table t({"POSITION", "EVENT", "OCCURRED", "RECORDED", "SOURCE", "EVENT ID"});
  for (const v1::HistoryEntry& e : resp.entries()) {
    t.Add({absl::StrCat(e.position().topic(), "[", e.position().partition(), "]@", e.position().offset()),
           ShortType(e.event()), FormatTime(e.event().occurred_at()), FormatTime(e.event().recorded_at()),
           SourceName(e.event().source()), e.event().event_id()});
  }
  t.Print();
  return kExitOk;
}

int RunMemberGet(const GlobalFlags& g, const MemberGetFlags& f) {
  v1::GetMemberRequest req;
  req.set_nik(f.nik);
  Client client(g.For("jaring.v1.PopulationService"));
  grpc::ClientContext ctx;
  client.Prepare(&ctx);
  v1::GetMemberResponse resp;
  grpc::Status st = client.population().GetMember(&ctx, req, &resp);
  if (!st.ok()) return client.Fail(st);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  const v1::Member& m = resp.member().member();
  std::printf("NIK           %s\n", MaskNik(m.nik()).c_str());
  std::printf("name          %s\n", m.full_name().c_str());
  std::printf("sex           %s\n", m.sex() == v1::SEX_FEMALE ? "P" : m.sex() == v1::SEX_MALE ? "L" : "-");
  std::printf("born          %s\n", FormatDate(m.birth_date()).c_str());
  std::printf("KK            %s\n", resp.kk_number().c_str());
  std::printf("relationship  %s\n", std::string(synth::RelationshipName(m.relationship(), m.sex())).c_str());
  std::printf("mother        %s\n", m.mother_nik().empty() ? "-" : MaskNik(m.mother_nik()).c_str());
  std::printf("status        %s\n", resp.member().alive()
                                        ? "hidup"
                                        : absl::StrCat("meninggal ", FormatDate(resp.member().date_of_death())).c_str());
  std::printf("attributes    %s\n", Attrs(m.attributes()).c_str());
  return kExitOk;
}

int RunFindings(const GlobalFlags& g, const FindingsFlags& f) {
  v1::ListOverlapFindingsRequest req;
  req.set_region_prefix(f.region);
  req.set_include_resolved(f.include_resolved);
  req.set_page_size(f.page_size);
  req.set_page_token(f.page_token);
  Client client(g.For("jaring.v1.PopulationService"));
  grpc::ClientContext ctx;
  client.Prepare(&ctx);
  v1::ListOverlapFindingsResponse resp;
  grpc::Status st = client.population().ListOverlapFindings(&ctx, req, &resp);
  if (!st.ok()) return client.Fail(st);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  Table t({"KIND", "KK", "REGION", "NIK", "DETECTED", "RESOLVED"});
  for (const v1::OverlapFinding& o : resp.findings()) {
    std::string kind = v1::OverlapKind_Name(o.kind());
    absl::string_view k = kind;
    absl::ConsumePrefix(&k, "OVERLAP_KIND_");
    t.Add({std::string(k), absl::StrJoin(o.kk_numbers(), " "), absl::StrJoin(o.region_codes(), " "),
           o.masked_nik().empty() ? "-" : o.masked_nik(), FormatTime(o.detected_at()), o.resolved() ? "yes" : "no"});
  }
  if (t.empty()) {
    std::printf("no findings\n");
  } else {
    t.Print();
  }
  if (!resp.next_page_token().empty()) std::printf("\nmore: --page-token %s\n", resp.next_page_token().c_str());
  return kExitOk;
}

int RunImport(const GlobalFlags& g, const ImportFlags& f) {
  std::ifstream in(f.file, std::ios::binary);
  if (!in) return BadArguments(absl::StrCat("cannot open ", f.file));
  synth::CsvReaderOptions ropt;
  ropt.actor = f.actor;
  synth::RegistryCsvReader reader(&in, ropt);
  Client client(g.For("jaring.v1.PopulationService"));
  Progress progress;
  ImportSession session(client, progress);
  // Read the header before opening the stream: a wrong file is a bad argument.
  std::vector<synth::CsvRowError> errors;
  absl::StatusOr<std::optional<synth::CsvFamily>> first = reader.Next(&errors);
  if (!first.ok() && first.status().code() == absl::StatusCode::kInvalidArgument) {
    return BadArguments(absl::StrCat(f.file, ": ", first.status().message()));
  }
  session.Start();
  int64_t rows_seen = 0;
  int64_t rejected_seen = 0;
  auto drain_errors = [&]() {
    for (const auto& e : errors) session.LocalError(e.line, e.message);
    errors.clear();
    for (; rejected_seen < reader.rejected_families(); ++rejected_seen) session.LocalRejectedFamily();
  };
  absl::StatusOr<std::optional<synth::CsvFamily>> next = std::move(first);
  bool broken = false;
  for (;;) {
    drain_errors();
    if (!next.ok()) {
      progress.Line(absl::StrCat("jaringctl: ", f.file, ": ", next.status().message()));
      break;
    }
    if (!next->has_value()) break;
    const synth::CsvFamily& fam = **next;
    if (!session.Write(fam.line, fam.request, 0)) {
      broken = true;
      break;
    }
    session.AddRows(reader.rows() - rows_seen);
    rows_seen = reader.rows();
    next = reader.Next(&errors);
  }
  session.AddRows(reader.rows() - rows_seen);
  int code = session.Finish(g.json);
  if (code == kExitOk && (broken || !next.ok())) code = kExitServiceError;
  return code;
}

int RunReplay(const GlobalFlags& g, const ReplayFlags& f) {
  std::ifstream in(f.file);
  if (!in) return BadArguments(absl::StrCat("cannot open ", f.file));
  Client client(g.For("jaring.v1.PopulationService"));
  Progress progress;
  CommandSender sender(client, progress, f.keep_going);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    absl::StatusOr<SynthCommand> cmd = synth::CommandFromJsonLine(line);
    if (!cmd.ok()) {
      progress.Finish();
      return BadArguments(absl::StrCat(f.file, " line ", n, ": ", cmd.status().message()));
    }
    if (!sender.Send(*cmd, n)) break;
  }
  return sender.Finish(g.json);
}

int RunSynth(const GlobalFlags& g, const SynthFlags& f) {
  synth::SynthOptions opt;
  opt.regions = f.regions;
  opt.families = f.families;
  opt.months = f.months;
  opt.seed = f.seed;
  opt.anomalies = f.anomalies;
  opt.now = absl::Now();
  absl::StatusOr<absl::Time> start = SynthStart(f, opt.now);
  if (!start.ok()) return Bad(start.status());
  opt.start = *start;
  auto gen_or = synth::Generator::Create(opt);
  if (!gen_or.ok()) return Bad(gen_or.status());
  synth::Generator& gen = **gen_or;

  if (!f.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(f.out, ec);
    if (ec) return BadArguments(absl::StrCat("--out: cannot create ", f.out, ": ", ec.message()));
    std::ofstream registry(f.out + "/registry.csv", std::ios::binary);
    std::ofstream events(f.out + "/events.jsonl", std::ios::binary);
    std::ofstream truth(f.out + "/ground_truth.jsonl", std::ios::binary);
    if (!registry || !events || !truth) return BadArguments(absl::StrCat("--out: cannot write files in ", f.out));
    synth::RegistryCsvWriter writer(&registry);
    absl::Status st = gen.Registry([&](const v1::RegisterFamilyRequest& r) {
      writer.Write(r);
      return absl::OkStatus();
    });
    if (st.ok()) {
      st = gen.Life([&](const SynthCommand& c) {
        events << synth::CommandToJsonLine(c) << "\n";
        return events ? absl::OkStatus() : absl::DataLossError("write error on events.jsonl");
      });
    }
    for (const auto& e : gen.ground_truth()) truth << synth::GroundTruthToJsonLine(e) << "\n";
    registry.close();
    events.close();
    truth.close();
    if (!st.ok() || !registry || !events || !truth) {
      std::fprintf(stderr, "jaringctl: %s\n", st.ok() ? "write error" : std::string(st.message()).c_str());
      return kExitServiceError;
    }
    const synth::SynthStats& s = gen.stats();
    if (g.json) {
      std::printf("{\"families\": %lld, \"members\": %lld, \"commands\": %lld, \"groundTruth\": %zu}\n",
                  static_cast<long long>(s.families_registered), static_cast<long long>(s.members_registered),
                  static_cast<long long>(s.commands), gen.ground_truth().size());
    } else {
      std::printf("wrote %s/registry.csv (%lld families, %lld members), %s/events.jsonl (%lld commands: %lld "
                  "births, %lld deaths of which %lld reported late, %lld moves, %lld splits, %lld head changes, "
                  "%lld assessments, %lld attribute changes), %s/ground_truth.jsonl (%zu findings)\n",
                  f.out.c_str(), static_cast<long long>(s.families_registered),
                  static_cast<long long>(s.members_registered), f.out.c_str(), static_cast<long long>(s.commands),
                  static_cast<long long>(s.births), static_cast<long long>(s.deaths),
                  static_cast<long long>(s.late_deaths), static_cast<long long>(s.moves),
                  static_cast<long long>(s.splits), static_cast<long long>(s.head_changes),
                  static_cast<long long>(s.assessments), static_cast<long long>(s.attribute_changes), f.out.c_str(),
                  gen.ground_truth().size());
    }
    return kExitOk;
  }

  // Straight to the service: the registry through Import, then each command.
  Client client(g.For("jaring.v1.PopulationService"));
  int code = kExitOk;
  {
    Progress progress;
    ImportSession session(client, progress);
    session.Start();
    int64_t line = 2;  // as in registry.csv, after the header
    absl::Status st = gen.Registry([&](const v1::RegisterFamilyRequest& r) {
      int rows = r.family().members_size();
      if (!session.Write(line, r, rows)) return absl::UnavailableError("import stream broken");
      line += rows;
      return absl::OkStatus();
    });
    code = session.Finish(g.json);
    if (code != kExitOk) return code;
    if (!st.ok()) return kExitServiceError;
  }
  Progress progress;
  CommandSender sender(client, progress, /*keep_going=*/false);
  int64_t index = 0;
  absl::Status st = gen.Life([&](const SynthCommand& c) {
    if (!sender.Send(c, ++index)) return absl::AbortedError("stopped");
    return absl::OkStatus();
  });
  code = sender.Finish(g.json);
  (void)st;  // a stop is reported by the sender
  if (!g.json) {
    std::printf("ground truth (%zu planted findings):\n", gen.ground_truth().size());
    for (const auto& e : gen.ground_truth()) std::printf("  %s\n", synth::GroundTruthToJsonLine(e).c_str());
  }
  return code;
}

}  // namespace jaring::ctl
