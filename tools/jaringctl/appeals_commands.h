// jaringctl's appeal commands: usul (inclusion requests), sanggah
// (exclusion reports) and data corrections through their lifecycle (file,
// assign, verify, decide, close, withdraw), the appeal with its timeline and
// deadlines, a family's appeals, the work queue, SLA breaches, statistics,
// deadline policies and objection windows of jaring.v1.AppealsService
// (docs/appeals.md).
//
// AppealsCommands registers the commands on the CLI11 app (main.cc) and runs
// the one that was parsed. Each Run* function takes the parsed flags, talks
// to the service and returns the process exit code (client.h): 0 ok, 1 the
// service refused (INVALID_ARGUMENT naming the field, NOT_FOUND, an illegal
// transition: FAILED_PRECONDITION, a wrong filer NIK: PERMISSION_DENIED),
// 2 bad arguments (nothing is sent), 3 the service is unreachable. `--json`
// prints the service's response as proto JSON.
//
// Every command with a request_id takes --request-id; without it a fresh
// random id is used (and printed by `appeal file`, so a filing whose answer
// was lost can be retried without filing twice).
//
// Time flags take YYYY-MM-DD (WIB) or an RFC 3339 time, read like the
// eligibility commands read them (output.h ParseWhen): a bare date is the
// START of that day (00:00 WIB) for --from and --opens-at, and the END
// (23:59:59.999 WIB) for --to.
//
// Human output masks NIKs (MaskNik); the service never returns a filer's
// NIK, only free text and member corrections can hold one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/jaringctl/client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace jaring::ctl {

struct AppealFileFlags {
  std::string kind, kk, program, decision_id, filer, filer_nik, statement, proposed_file, request_id;
  int64_t decision_version = 0;
  std::string actor = "jaringctl";
};
struct AppealAssignFlags {
  std::string appeal_id, verifier, request_id;
  std::string actor = "jaringctl";
};
struct AppealVerifyFlags {
  std::string appeal_id, verifier, findings, recommend, request_id;
  std::vector<std::string> evidence;
  std::string actor = "jaringctl";
};
struct AppealDecideFlags {
  std::string appeal_id, outcome, reason, round, correction_file, corrected_event, request_id;
  int decile = 0;                 // 0: not given
  int64_t pmt_score_micros = -1;  // -1: derived from the decile
  std::string actor = "jaringctl";
};
struct AppealCloseFlags {
  std::string appeal_id, note, request_id;
  std::string actor = "jaringctl";
};
struct AppealWithdrawFlags {
  std::string appeal_id, reason, filer_nik, request_id;
  std::string actor = "jaringctl";
};
struct AppealShowFlags {
  std::string appeal_id;
};
struct AppealsFamilyFlags {
  std::string kk;
};
struct AppealsQueueFlags {
  std::string region, state, page_token;
  int limit = 0;  // 0: the service's default (100)
};
struct AppealsRangeFlags {
  std::string region, from, to;
};
struct AppealPolicyFlags {
  std::string region, kind, request_id;
  int verification_days = 0, decision_days = 0;
  int objection_window_days = 30;
  std::string actor = "jaringctl";
};
struct AppealWindowOpenFlags {
  std::string region, program, announcement, opens_at, request_id;
  int days = 0;  // 0: the policy's objection_window_days
  std::string actor = "jaringctl";
};
struct AppealWindowsFlags {
  std::string region;
};

// Prints the appeal id, its state and deadlines, and the request id used;
// says "existing" when the service returned an open appeal of the same
// family, program and kind (or the request was a retry).
int RunAppealFile(const GlobalFlags& g, const AppealFileFlags& f);
int RunAppealAssign(const GlobalFlags& g, const AppealAssignFlags& f);
int RunAppealVerify(const GlobalFlags& g, const AppealVerifyFlags& f);
// The correction of an upheld appeal: --decile/--round (a welfare
// assessment) or --correction-file (a RecordCorrected in proto JSON).
int RunAppealDecide(const GlobalFlags& g, const AppealDecideFlags& f);
int RunAppealClose(const GlobalFlags& g, const AppealCloseFlags& f);
int RunAppealWithdraw(const GlobalFlags& g, const AppealWithdrawFlags& f);
// The appeal, its deadlines (due, met, breached), timeline, and the
// contested, resulting and current decisions.
int RunAppealShow(const GlobalFlags& g, const AppealShowFlags& f);
int RunAppealsFamily(const GlobalFlags& g, const AppealsFamilyFlags& f);
int RunAppealsQueue(const GlobalFlags& g, const AppealsQueueFlags& f);
int RunAppealsBreaches(const GlobalFlags& g, const AppealsRangeFlags& f);
int RunAppealsStats(const GlobalFlags& g, const AppealsRangeFlags& f);
int RunAppealPolicySet(const GlobalFlags& g, const AppealPolicyFlags& f);
int RunAppealWindowOpen(const GlobalFlags& g, const AppealWindowOpenFlags& f);
int RunAppealWindows(const GlobalFlags& g, const AppealWindowsFlags& f);

// The appeal commands on a CLI11 app: `appeal file|assign|verify|decide|
// close|withdraw|show|policy set|window open|windows` and `appeals family|
// queue|breaches|stats`. Construct before app.parse(); the object must
// outlive the parse (CLI11 writes into its flags).
class AppealsCommands {
 public:
  explicit AppealsCommands(CLI::App& app);
  AppealsCommands(const AppealsCommands&) = delete;
  AppealsCommands& operator=(const AppealsCommands&) = delete;

  // After a successful parse: the exit code of the appeal command that was
  // given, or nullopt when the command line named another one.
  std::optional<int> Run(const GlobalFlags& g) const;

 private:
  AppealFileFlags file_;
  AppealAssignFlags assign_;
  AppealVerifyFlags verify_;
  AppealDecideFlags decide_;
  AppealCloseFlags close_;
  AppealWithdrawFlags withdraw_;
  AppealShowFlags show_;
  AppealsFamilyFlags family_;
  AppealsQueueFlags queue_;
  AppealsRangeFlags breaches_, stats_;
  AppealPolicyFlags policy_;
  AppealWindowOpenFlags window_open_;
  AppealWindowsFlags windows_;
  CLI::App* file_cmd_ = nullptr;
  CLI::App* assign_cmd_ = nullptr;
  CLI::App* verify_cmd_ = nullptr;
  CLI::App* decide_cmd_ = nullptr;
  CLI::App* close_cmd_ = nullptr;
  CLI::App* withdraw_cmd_ = nullptr;
  CLI::App* show_cmd_ = nullptr;
  CLI::App* family_cmd_ = nullptr;
  CLI::App* queue_cmd_ = nullptr;
  CLI::App* breaches_cmd_ = nullptr;
  CLI::App* stats_cmd_ = nullptr;
  CLI::App* policy_set_cmd_ = nullptr;
  CLI::App* window_open_cmd_ = nullptr;
  CLI::App* windows_cmd_ = nullptr;
};

}  // namespace jaring::ctl
