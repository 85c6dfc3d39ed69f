// jaringctl's eligibility commands: rule sets (publish, list), decisions
// (decision, explain, decisions), and the region queries (beneficiaries,
// movements, risks, simulate) of jaring.v1.EligibilityService.
//
// EligibilityCommands registers the commands on the CLI11 app (main.cc) and
// runs the one that was parsed. Each Run* function takes the parsed flags,
// talks to the service and returns the process exit code (client.h): 0 ok,
// 1 the service refused, 2 bad arguments or a rule set that does not load,
// 3 the service is unreachable. `--json` prints the service's response as
// proto JSON (with --all: every page merged into one response).
//
// Time flags take YYYY-MM-DD (WIB) or an RFC 3339 time. A bare date means
// the END of that day (23:59:59.999 WIB) for --as-of, --as-known-at and
// --to, and the START of the day (00:00 WIB) for --from, --since and
// --effective-from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tools/jaringctl/client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace jaring::ctl {

struct RulesPublishFlags {
  std::string path;            // a rule set directory or a single RuleSet file
  std::string effective_from;  // overrides the rule set's effective_from
  std::string actor = "jaringctl";
};
struct RulesListFlags {};
struct DecisionFlags {
  std::string kk, program, as_of, as_known_at;
};
struct DecisionHistoryFlags {
  std::string kk, program;
};
struct BeneficiariesFlags {
  std::string program, region, page_token;
  int page_size = 0;
  bool all = false;
};
struct MovementsFlags {
  std::string region, from, to, from_round, to_round, page_token;
  bool include_unchanged = false;
  int page_size = 0;
  bool all = false;
};
struct RisksFlags {
  std::string region, program, kind, since, page_token;
  int page_size = 0;
  bool all = false;
};
struct SimulateFlags {
  std::string path, region, as_of;
  int depth = 0;         // 0: the service's default (2, regency/city)
  int max_families = 0;  // 0: the service's default (1000)
};

int RunRulesPublish(const GlobalFlags& g, const RulesPublishFlags& f);
int RunRulesList(const GlobalFlags& g, const RulesListFlags& f);
// explain: with every rule clause.
int RunDecision(const GlobalFlags& g, const DecisionFlags& f, bool explain);
int RunDecisionHistory(const GlobalFlags& g, const DecisionHistoryFlags& f);
int RunBeneficiaries(const GlobalFlags& g, const BeneficiariesFlags& f);
int RunMovements(const GlobalFlags& g, const MovementsFlags& f);
int RunRisks(const GlobalFlags& g, const RisksFlags& f);
int RunSimulate(const GlobalFlags& g, const SimulateFlags& f);

// The eligibility commands on a CLI11 app. Construct before app.parse();
// the object must outlive the parse (CLI11 writes into its flags).
class EligibilityCommands {
 public:
  explicit EligibilityCommands(CLI::App& app);
  EligibilityCommands(const EligibilityCommands&) = delete;
  EligibilityCommands& operator=(const EligibilityCommands&) = delete;

  // After a successful parse: the exit code of the eligibility command that
  // was given, or nullopt when the command line named another one.
  std::optional<int> Run(const GlobalFlags& g) const;

 private:
  RulesPublishFlags publish_;
  RulesListFlags list_;
  DecisionFlags decision_, explain_;
  DecisionHistoryFlags history_;
  BeneficiariesFlags beneficiaries_;
  MovementsFlags movements_;
  RisksFlags risks_;
  SimulateFlags simulate_;
  CLI::App* publish_cmd_ = nullptr;
  CLI::App* list_cmd_ = nullptr;
  CLI::App* decision_cmd_ = nullptr;
  CLI::App* explain_cmd_ = nullptr;
  CLI::App* history_cmd_ = nullptr;
  CLI::App* beneficiaries_cmd_ = nullptr;
  CLI::App* movements_cmd_ = nullptr;
  CLI::App* risks_cmd_ = nullptr;
  CLI::App* simulate_cmd_ = nullptr;
};

}  // namespace jaring::ctl
