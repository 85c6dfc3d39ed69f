// Handlers of jaringctl's population commands. Each takes the parsed flags,
// talks to the service and returns the process exit code (client.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/jaringctl/client.h"

namespace jaring::ctl {

// Flags every command (a write) shares.
struct CommandFlags {
  // When it happened: YYYY-MM-DD (00:00 WIB) or RFC 3339. Default: now.
  std::string date;
  // When it was reported; default: the service's clock.
  std::string recorded;
  // Idempotency key; default: a random one.
  std::string request_id;
  std::string source;  // DUKCAPIL, BPS_DTSEN, DINSOS, ...; default per command
  std::string actor = "jaringctl";
  int64_t expected_version = -1;
  std::string correlation_id;
};

struct RegisterFlags {
  std::string file;
  CommandFlags c;
};
struct BirthFlags {
  std::string kk, mother, child_nik, name, sex, relationship = "ANAK", no_mother_reason;
  CommandFlags c;
};
struct DeathFlags {
  std::string kk, nik, certificate;
  CommandFlags c;
};
struct MoveFlags {
  std::string from, nik, to, relationship = "FAMILI_LAIN", reason;
  CommandFlags c;
};
struct SplitFlags {
  std::string kk, new_kk, region, new_head, reason, address;
  std::vector<std::string> members;
  CommandFlags c;
};
struct HeadFlags {
  std::string kk, new_head, reason;
  CommandFlags c;
};
struct AssessFlags {
  std::string kk, round;
  int decile = 0;
  int64_t pmt_score_micros = -1;
  CommandFlags c;
};
struct AttributesFlags {
  std::string kk, nik, disability, school_level, school_enrolled, pregnant;
  int pregnancy_order = 0;
  CommandFlags c;
};
struct CorrectFlags {
  std::string kk, event_id, reason, appeal_id;
  bool retract = false;
  std::string member_file;
  std::string round;
  int decile = 0;
  int64_t pmt_score_micros = -1;
  CommandFlags c;
};
struct FamilyGetFlags {
  std::string kk, as_known_at, as_of;
};
struct FamilyListFlags {
  std::string region, page_token;
  int page_size = 0;
  bool count = false;
};
struct HistoryFlags {
  std::string kk, as_known_at;
};
struct MemberGetFlags {
  std::string nik;
};
struct FindingsFlags {
  std::string region, page_token;
  bool include_resolved = false;
  int page_size = 0;
};
struct ImportFlags {
  std::string file;
  std::string actor = "jaringctl-import";
};
struct SynthFlags {
  std::vector<std::string> regions = {"52.71"};
  int64_t families = 1000;
  int months = 12;
  uint64_t seed = 1;
  int anomalies = 0;
  std::string start;  // YYYY-MM-DD; default: see SynthStartDefault
  std::string out;    // a directory; empty: send to --target
};
struct ReplayFlags {
  std::string file;
  bool keep_going = false;
};

int RunRegister(const GlobalFlags& g, const RegisterFlags& f);
int RunBirth(const GlobalFlags& g, const BirthFlags& f);
int RunDeath(const GlobalFlags& g, const DeathFlags& f);
int RunMove(const GlobalFlags& g, const MoveFlags& f);
int RunSplit(const GlobalFlags& g, const SplitFlags& f);
int RunHead(const GlobalFlags& g, const HeadFlags& f);
int RunAssess(const GlobalFlags& g, const AssessFlags& f);
int RunAttributes(const GlobalFlags& g, const AttributesFlags& f);
int RunCorrect(const GlobalFlags& g, const CorrectFlags& f);
int RunFamilyGet(const GlobalFlags& g, const FamilyGetFlags& f);
int RunFamilyList(const GlobalFlags& g, const FamilyListFlags& f);
int RunFamilyHistory(const GlobalFlags& g, const HistoryFlags& f);
int RunMemberGet(const GlobalFlags& g, const MemberGetFlags& f);
int RunFindings(const GlobalFlags& g, const FindingsFlags& f);
int RunImport(const GlobalFlags& g, const ImportFlags& f);
int RunSynth(const GlobalFlags& g, const SynthFlags& f);
int RunReplay(const GlobalFlags& g, const ReplayFlags& f);

}  // namespace jaring::ctl
