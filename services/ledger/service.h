// jaring.v1.LedgerService: budgets, payment cycles pinned to the decisions
// recorded by their cutoff, the channel's files, reconciliation, recovery of
// overpayments, and a journal anyone can verify. See docs/ledger.md.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "jaring/v1/ledger_service.grpc.pb.h"
#include "libs/base/clock.h"
#include "libs/eventlog/eventlog.h"
#include "libs/projection/projection.h"
#include "services/ledger/journal_state.h"
#include "services/ledger/store.h"

namespace jaring::ledger_service {

struct ServiceOptions {
  std::string store_dir;
  // Not owned; null means Clock::Real().
  Clock* clock = nullptr;
  // Generous: a cycle of a million families is one append of a million
  // entries, read back before the command returns.
  absl::Duration apply_timeout = absl::Minutes(30);
  // How often the overpayment scanner looks at new deaths when idle; zero:
  // never on its own (tests call RaiseRecoveryClaims()).
  absl::Duration scan_interval = absl::Milliseconds(200);
  // Journal records per Append.
  int append_chunk = 10000;
  // kWriter: commands and background work; kReplica: follows the log and
  // answers reads only; kSnapshot: a frozen as-of store (jaring replay),
  // reads only, the log is never touched (may be null).
  projection::Mode mode = projection::Mode::kWriter;
};

// One journal entry to append: the envelope with its ledger_entry's kind,
// postings and cycle id set; the writer fills the chain fields, the nonce,
// the times and the source.
struct NewEntry {
  // The record key: the cycle id, or the budget's account.
  std::string key;
  v1::Envelope envelope;
};

class LedgerServiceImpl final : public v1::LedgerService::Service {
 public:
  static absl::StatusOr<std::unique_ptr<LedgerServiceImpl>> Create(eventlog::EventLog* log, ServiceOptions options);
  ~LedgerServiceImpl() override;
  // Builds this service's store as of `bound` into `dir` (jaring replay):
  // the live service's applier and topics, nothing live touched. Errors as
  // projection::BuildAsOf.
  static absl::Status BuildAsOf(eventlog::EventLog* log, const std::string& dir, const projection::Bound& bound,
                                projection::Stats* stats = nullptr);

  absl::StatusOr<v1::AllocateBudgetResponse> AllocateBudget(const v1::AllocateBudgetRequest& r);
  absl::StatusOr<v1::OpenCycleResponse> OpenCycle(const v1::OpenCycleRequest& r);
  // The CSV file of the instructions appended (libs/ledger/channel_files.h)
  // and the totals.
  // An export is recorded (ExportRecorded, then its PaymentInstructed
  // entries, each carrying its line of the file) and its file is always
  // rebuilt from the journal, so FetchExport gives the same bytes.
  struct Export {
    std::string csv;
    int64_t instructions = 0;
    int64_t total_amount = 0;
    std::string export_id;  // empty: nothing to instruct, nothing recorded
    std::string csv_sha256;
    bool resumed = false;  // completed an export an earlier call left incomplete
  };
  absl::StatusOr<Export> ExportInstructions(const v1::ExportInstructionsRequest& r);
  // The file of a recorded export, byte for byte (an incomplete one is
  // completed first).
  absl::StatusOr<Export> FetchExport(const v1::FetchExportRequest& r);
  absl::StatusOr<v1::ImportStatementResponse> ImportStatement(std::string_view cycle_id, std::string_view csv,
                                                              std::string_view actor);
  absl::StatusOr<v1::CloseCycleResponse> CloseCycle(const v1::CloseCycleRequest& r);
  absl::StatusOr<v1::GetCycleResponse> GetCycle(const v1::GetCycleRequest& r);
  // For the guard's scope checks: a cycle's region prefix ("" for a
  // national cycle); nullopt when there is no such cycle.
  absl::StatusOr<std::optional<std::string>> CycleRegion(std::string_view cycle_id);
  absl::StatusOr<v1::ListAccountsResponse> ListAccounts(const v1::ListAccountsRequest& r);
  // Every cycle's state (for metrics and audit), in cycle id order.
  absl::StatusOr<std::vector<v1::GetCycleResponse>> ListCycles();
  absl::StatusOr<v1::GetFamilyLedgerResponse> GetFamilyLedger(const v1::GetFamilyLedgerRequest& r);
  absl::StatusOr<v1::ListRecoveryClaimsResponse> ListRecoveryClaims(const v1::ListRecoveryClaimsRequest& r);
  absl::StatusOr<v1::GetInclusionProofResponse> GetInclusionProof(const v1::GetInclusionProofRequest& r);
  absl::StatusOr<v1::VerifyLedgerResponse> VerifyLedger(const v1::VerifyLedgerRequest& r);

  // Checks the deaths applied since the last call for payments made to
  // families that had no living member at the cycle's cutoff, and raises one
  // recovery claim per such payment (never twice). Returns the claims raised.
  absl::StatusOr<int64_t> RaiseRecoveryClaims();

  projection::Projection& projection() { return *projection_; }

  grpc::Status AllocateBudget(grpc::ServerContext*, const v1::AllocateBudgetRequest*,
                              v1::AllocateBudgetResponse*) override;
  grpc::Status OpenCycle(grpc::ServerContext*, const v1::OpenCycleRequest*, v1::OpenCycleResponse*) override;
  grpc::Status ExportInstructions(grpc::ServerContext*, const v1::ExportInstructionsRequest*,
                                  grpc::ServerWriter<v1::ExportInstructionsResponse>*) override;
  grpc::Status FetchExport(grpc::ServerContext*, const v1::FetchExportRequest*,
                           grpc::ServerWriter<v1::FetchExportResponse>*) override;
  grpc::Status ImportStatement(grpc::ServerContext*, grpc::ServerReader<v1::ImportStatementRequest>*,
                               v1::ImportStatementResponse*) override;
  grpc::Status CloseCycle(grpc::ServerContext*, const v1::CloseCycleRequest*, v1::CloseCycleResponse*) override;
  grpc::Status GetCycle(grpc::ServerContext*, const v1::GetCycleRequest*, v1::GetCycleResponse*) override;
  grpc::Status ListAccounts(grpc::ServerContext*, const v1::ListAccountsRequest*,
                            v1::ListAccountsResponse*) override;
  grpc::Status GetFamilyLedger(grpc::ServerContext*, const v1::GetFamilyLedgerRequest*,
                               v1::GetFamilyLedgerResponse*) override;
  grpc::Status ListRecoveryClaims(grpc::ServerContext*, const v1::ListRecoveryClaimsRequest*,
                                  v1::ListRecoveryClaimsResponse*) override;
  grpc::Status GetInclusionProof(grpc::ServerContext*, const v1::GetInclusionProofRequest*,
                                 v1::GetInclusionProofResponse*) override;
  grpc::Status VerifyLedger(grpc::ServerContext*, const v1::VerifyLedgerRequest*,
                            v1::VerifyLedgerResponse*) override;

 private:
  LedgerServiceImpl(eventlog::EventLog* log, ServiceOptions options);
  // Appends entries in order, chained, in chunks; returns once the
  // projection applied them. Callers hold write_mu_.
  absl::Status AppendEntries(std::vector<NewEntry>& entries) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Waits until the projection has applied everything on the ledger topic,
  // and feeds the journal's state machine (journal_) everything on the log
  // it has not seen (all of it after a start or a failed append).
  absl::Status CatchUpJournal() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status FeedJournalState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The lines of an export (new, or the rest of an incomplete one): the
  // cycle's entitlements the journal says are created or failed, in KK
  // order. Refused when the store disagrees with the journal about one.
  absl::Status PlanExport(const v1::GetCycleResponse& cycle, std::string_view export_id, std::string_view actor,
                          std::vector<NewEntry>* entries, int64_t* total) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Appends the instructions an incomplete export still misses.
  absl::Status ResumeExport(const v1::GetCycleResponse& cycle, const JournalState::ExportState& x,
                            std::string_view actor) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The file of a recorded export, rebuilt from its journal entries.
  absl::StatusOr<Export> BuildExportFile(std::string_view export_id);
  // The entitlements a cycle with these parameters has: pinned to its
  // cutoff, deterministic, so a retry recomputes the same list.
  struct PlannedEntitlement {
    v1::Decision decision;
    std::string entitlement_id;
    int64_t amount = 0;
    // Already on the journal in this cycle (an interrupted open).
    bool present = false;
  };
  struct CyclePlan {
    std::vector<PlannedEntitlement> entitlements;
    int64_t families = 0;
    int64_t total_amount = 0;
    int64_t skipped_no_living_member = 0;
    int64_t skipped_no_stage = 0;
    int64_t skipped_already_entitled = 0;
    std::string digest;  // CycleOpened.entitlements_digest
  };
  absl::StatusOr<CyclePlan> PlanCycle(const v1::CycleOpened& params, std::string_view cycle_id);
  NewEntry EntitlementEntry(const v1::CycleOpened& params, std::string_view cycle_id, const PlannedEntitlement& pe);
  // Appends the entitlements an incomplete cycle still misses; returns how
  // many. FAILED_PRECONDITION (nothing appended) when the recomputed list
  // is not the one its CycleOpened announced. Callers hold write_mu_.
  absl::StatusOr<int64_t> ResumeCycle(const v1::GetCycleResponse& cycle) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<v1::GetCycleResponse> LoadCycle(std::string_view cycle_id);
  // A cycle that takes exports and statements: complete and not closed
  // (FAILED_PRECONDITION saying which it is not).
  absl::StatusOr<v1::GetCycleResponse> LoadOpenCycle(std::string_view cycle_id);
  absl::StatusOr<std::optional<v1::Entitlement>> LoadEntitlement(std::string_view id);
  // A recovery claim for a paid entitlement whose family had no living
  // member at the cycle's cutoff (as known now), unless one exists.
  absl::StatusOr<std::optional<NewEntry>> ClaimIfOverpaid(const v1::Entitlement& ent, const v1::GetCycleResponse& cycle,
                                                          std::string_view cause_event_id);
  NewEntry Entry(std::string key, std::string event_id, std::string cycle_id);

  eventlog::EventLog* const log_;
  const ServiceOptions options_;
  Clock* const clock_;
  LedgerApplier applier_;
  std::unique_ptr<projection::Projection> projection_;
  int32_t partitions_ = 0;

  absl::Mutex write_mu_;  // one writer of the journal in this process
  // The state machine from the log alone (journal_state.h); null until the
  // first command, and after an append that failed (rebuilt then).
  std::unique_ptr<JournalState> journal_ ABSL_GUARDED_BY(write_mu_);
  std::unique_ptr<eventlog::Reader> journal_reader_ ABSL_GUARDED_BY(write_mu_);

  absl::Mutex scan_mu_;
  bool stop_ ABSL_GUARDED_BY(scan_mu_) = false;
  bool nudged_ ABSL_GUARDED_BY(scan_mu_) = false;
  std::thread scanner_;
};

// "Lalu Ahmad" -> "L*** A****": what an export may say about a person.
std::string MaskName(std::string_view name);

}  // namespace jaring::ledger_service
