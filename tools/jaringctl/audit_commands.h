// jaringctl's audit commands: oversight's questions to jaring.v1.
// AuditService, asked of the live system or of a replay (`jaring serve
// --replay DIR`): point --target (or --audit-target) at either.
//
//   jaringctl audit source
//   jaringctl audit eligible --program PKH --on 2026-03-01 [--check]
//   jaringctl audit changes --from 2026-01-01 --to 2026-03-31 [--program P]
//   jaringctl audit dead-payments
//   jaringctl audit duplicates
//   jaringctl audit cycles [--all]
//   jaringctl audit report --on D [--from D --to D] --out DIR
//
// Every command takes --region PREFIX and --identify (full KK numbers in
// the answer); the listings take --csv. `report` writes report.md,
// report.html and one CSV per listing into a new directory. Exit codes as
// every jaringctl command (client.h); `cycles` exits 1 when a cycle
// disagrees with its entitlements, `dead-payments` when a payment is not
// yet claimed back.
#pragma once

#include <optional>
#include <string>

#include "tools/jaringctl/client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace jaring::ctl {

struct AuditScopeFlags {
  std::string region;
  bool identify = false;
  bool csv = false;
};
struct AuditEligibleFlags {
  std::string program, on;
  bool check = false;
  AuditScopeFlags scope;
};
struct AuditChangesFlags {
  std::string from, to, program;
  AuditScopeFlags scope;
};
struct AuditCyclesFlags {
  bool all = false;
  AuditScopeFlags scope;
};
struct AuditReportFlags {
  std::string on, from, to, out;
  std::string programs = "PKH,BPNT,PBI_JK,BLT_DD";
  bool check = true;
  AuditScopeFlags scope;
};

int RunAuditSource(const GlobalFlags& g);
int RunAuditEligible(const GlobalFlags& g, const AuditEligibleFlags& f);
int RunAuditChanges(const GlobalFlags& g, const AuditChangesFlags& f);
int RunAuditPayments(const GlobalFlags& g, const AuditScopeFlags& f);
int RunAuditPeople(const GlobalFlags& g, const AuditScopeFlags& f);
int RunAuditCycles(const GlobalFlags& g, const AuditCyclesFlags& f);
// Refuses (exit 2) when --out exists and is not empty.
int RunAuditReport(const GlobalFlags& g, const AuditReportFlags& f);

class AuditCommands {
 public:
  explicit AuditCommands(CLI::App& app);
  AuditCommands(const AuditCommands&) = delete;
  AuditCommands& operator=(const AuditCommands&) = delete;
  std::optional<int> Run(const GlobalFlags& g) const;

 private:
  AuditEligibleFlags eligible_;
  AuditChangesFlags changes_;
  AuditScopeFlags payments_, people_;
  AuditCyclesFlags cycles_;
  AuditReportFlags report_;
  CLI::App* source_cmd_ = nullptr;
  CLI::App* eligible_cmd_ = nullptr;
  CLI::App* changes_cmd_ = nullptr;
  CLI::App* payments_cmd_ = nullptr;
  CLI::App* people_cmd_ = nullptr;
  CLI::App* cycles_cmd_ = nullptr;
  CLI::App* report_cmd_ = nullptr;
};

}  // namespace jaring::ctl
