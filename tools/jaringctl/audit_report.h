// The audit report an oversight body takes away: what `jaringctl audit
// report` writes (report.md, report.html with charts, and one CSV per
// listing). Pure functions of the answers of jaring.v1.AuditService, so
// the same answers always give the same files.
//
// Families appear as a keyed reference and a masked KK number (the full
// number only when the answers were asked with --identify); people as a
// keyed reference, a masked NIK and a masked name. Nothing else personal is
// in the answers, so nothing else can reach the files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "jaring/v1/audit_service.pb.h"

namespace jaring::ctl {

struct AuditReport {
  v1::GetAuditSourceResponse source;
  // "" for every region.
  std::string region;
  absl::Time on;
  // Entered and left between from and to.
  absl::Time from, to;
  // One answer per program, in the order asked.
  std::vector<std::string> programs;
  std::vector<v1::ListEligibleOnResponse> eligible;
  v1::ListEligibilityChangesResponse changes;
  v1::ListPaymentsWithoutLivingMemberResponse payments;
  v1::ListPeopleInTwoPlacesResponse people;
  // With the consistent cycles too.
  v1::ListCycleDiscrepanciesResponse cycles;
};

// The findings in one paragraph each, and every listing as a table.
std::string RenderMarkdown(const AuditReport& report);
// The same, self-contained (no scripts, no remote resources), with bar
// charts as inline SVG.
std::string RenderHtml(const AuditReport& report);
// File name -> contents: eligible-<program>.csv, changes.csv,
// payments-without-living-member.csv, people-in-two-places.csv, cycles.csv.
std::map<std::string, std::string> RenderCsv(const AuditReport& report);

// One CSV each, for the single listings (`jaringctl audit eligible --csv`).
std::string EligibleCsv(const std::string& program, const v1::ListEligibleOnResponse& r);
std::string ChangesCsv(const v1::ListEligibilityChangesResponse& r);
std::string PaymentsCsv(const v1::ListPaymentsWithoutLivingMemberResponse& r);
std::string PeopleCsv(const v1::ListPeopleInTwoPlacesResponse& r);
std::string CyclesCsv(const v1::ListCycleDiscrepanciesResponse& r);

// Text escaped for HTML.
std::string HtmlEscape(std::string_view s);

}  // namespace jaring::ctl
