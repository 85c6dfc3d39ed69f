// jaringctl's ledger commands: budgets, payment cycles (open, export,
// import, close, show), balances, a family's ledger, recovery claims,
// inclusion proofs and the journal check of jaring.v1.LedgerService
// (docs/ledger.md).
//
// LedgerCommands registers the commands on the CLI11 app (main.cc) and runs
// the one that was parsed. Each Run* function takes the parsed flags, talks
// to the service and returns the process exit code (client.h): 0 ok, 1 the
// service refused (a budget shortfall, an unknown cycle: NOT_FOUND) or a
// check failed (verify-proof, verify-ledger, accounts that do not sum to 0),
// 2 bad arguments, 3 the service is unreachable. `--json` prints the
// service's response as proto JSON.
//
// `verify-proof` works offline (no service) unless given --cycle.
//
// --cutoff takes YYYY-MM-DD (WIB: the END of that day, 23:59:59.999, like
// --as-known-at: the decisions recorded by then), an RFC 3339 time, or
// "now". The service refuses a cutoff in the future.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tools/jaringctl/client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace jaring::ctl {

struct BudgetAllocateFlags {
  std::string program, region, period, amount, request_id;
  std::string actor = "jaringctl";
};
struct CycleOpenFlags {
  std::string program, period, region, cutoff, channel;
  bool dry_run = false;
  std::string actor = "jaringctl";
};
struct CycleExportFlags {
  std::string cycle_id, out;
  std::string actor = "jaringctl";
};
struct CycleImportFlags {
  std::string cycle_id, file;
  std::string actor = "jaringctl";
};
struct CycleCloseFlags {
  std::string cycle_id;
  std::string actor = "jaringctl";
};
struct CycleShowFlags {
  std::string cycle_id;
};
struct AccountsFlags {
  std::string prefix;
};
struct FamilyLedgerFlags {
  std::string kk;
};
struct ClaimsFlags {
  std::string region;
};
struct ProofFlags {
  std::string cycle_id, kk, out;
};
struct VerifyProofFlags {
  std::string file, root, cycle;
  int64_t entries = -1;  // -1: not given
};
struct VerifyLedgerFlags {};

int RunBudgetAllocate(const GlobalFlags& g, const BudgetAllocateFlags& f);
int RunCycleOpen(const GlobalFlags& g, const CycleOpenFlags& f);
// Refuses (exit 2, nothing asked of the service) when --out exists: an
// export instructs each payment once, so an earlier file must not be lost.
int RunCycleExport(const GlobalFlags& g, const CycleExportFlags& f);
// Exit 0 even when lines were not applied; the report lists them by line.
int RunCycleImport(const GlobalFlags& g, const CycleImportFlags& f);
int RunCycleClose(const GlobalFlags& g, const CycleCloseFlags& f);
int RunCycleShow(const GlobalFlags& g, const CycleShowFlags& f);
// Exit 1 when the listing has no --prefix and the balances do not sum to 0.
int RunAccounts(const GlobalFlags& g, const AccountsFlags& f);
int RunFamilyLedger(const GlobalFlags& g, const FamilyLedgerFlags& f);
int RunClaims(const GlobalFlags& g, const ClaimsFlags& f);
int RunProof(const GlobalFlags& g, const ProofFlags& f);
// Exit 1 when the proof does not verify (or does not decode).
int RunVerifyProof(const GlobalFlags& g, const VerifyProofFlags& f);
// Exit 1 when the service reports a break.
int RunVerifyLedger(const GlobalFlags& g, const VerifyLedgerFlags& f);

// The ledger commands on a CLI11 app. Construct before app.parse(); the
// object must outlive the parse (CLI11 writes into its flags).
class LedgerCommands {
 public:
  explicit LedgerCommands(CLI::App& app);
  LedgerCommands(const LedgerCommands&) = delete;
  LedgerCommands& operator=(const LedgerCommands&) = delete;

  // After a successful parse: the exit code of the ledger command that was
  // given, or nullopt when the command line named another one.
  std::optional<int> Run(const GlobalFlags& g) const;

 private:
  BudgetAllocateFlags allocate_;
  CycleOpenFlags open_;
  CycleExportFlags export_;
  CycleImportFlags import_;
  CycleCloseFlags close_;
  CycleShowFlags show_;
  AccountsFlags accounts_;
  FamilyLedgerFlags family_;
  ClaimsFlags claims_;
  ProofFlags proof_;
  VerifyProofFlags verify_proof_;
  VerifyLedgerFlags verify_ledger_;
  CLI::App* allocate_cmd_ = nullptr;
  CLI::App* open_cmd_ = nullptr;
  CLI::App* export_cmd_ = nullptr;
  CLI::App* import_cmd_ = nullptr;
  CLI::App* close_cmd_ = nullptr;
  CLI::App* show_cmd_ = nullptr;
  CLI::App* accounts_cmd_ = nullptr;
  CLI::App* family_cmd_ = nullptr;
  CLI::App* claims_cmd_ = nullptr;
  CLI::App* proof_cmd_ = nullptr;
  CLI::App* verify_proof_cmd_ = nullptr;
  CLI::App* verify_ledger_cmd_ = nullptr;
};

}  // namespace jaring::ctl
