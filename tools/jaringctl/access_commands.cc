#include "tools/jaringctl/access_commands.h"

#include <cstdio>

#include "jaring/v1/appeals_service.grpc.pb.h"
#include "jaring/v1/population_service.grpc.pb.h"
#include "tools/jaringctl/output.h"

namespace jaring::ctl {

AccessCommands::AccessCommands(CLI::App& app) {
  status_cmd_ = app.add_subcommand(
      "status", "A family's own status (cek status): programs, appeals, members masked; needs no token");
  status_cmd_->add_option("kk", status_.kk_number, "KK number")->required();
  status_cmd_->add_option("nik", status_.nik, "NIK of a living member of the family")->required();

  access_cmd_ = app.add_subcommand("access", "Who looked at a family's data (oversight): reads recorded by the services");
  auto* kk = access_cmd_->add_option("--kk", access_.kk_number, "Reads of one family");
  auto* region = access_cmd_->add_option("--region", access_.region_prefix,
                                         "Listings of a region (\"*\": listings of every region)");
  auto* subject = access_cmd_->add_option("--subject", access_.subject, "Reads by one principal");
  kk->excludes(region)->excludes(subject);
  region->excludes(subject);
  access_cmd_->add_option("--from", access_.from, "From this time (YYYY-MM-DD or RFC 3339)");
  access_cmd_->add_option("--to", access_.to, "Up to this time (a bare date: its end)");
  access_cmd_->add_option("--page-size", access_.page_size, "At most this many (default 100)");
  access_cmd_->add_option("--page-token", access_.page_token, "Continue from an earlier page");
}

std::optional<int> AccessCommands::Run(const GlobalFlags& g) const {
  if (*status_cmd_) return RunStatus(g, status_);
  if (*access_cmd_) return RunAccess(g, access_);
  return std::nullopt;
}

int RunStatus(const GlobalFlags& g, const StatusFlags& f) {
  Remote<v1::AppealsService> s(g);
  v1::LookupFamilyStatusRequest req;
  req.set_kk_number(f.kk_number);
  req.set_nik(f.nik);
  v1::LookupFamilyStatusResponse resp;
  grpc::Status st = s.Call(&v1::AppealsService::Stub::LookupFamilyStatus, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  std::printf("family   KK %s, region %s\n", resp.masked_kk_number().c_str(), resp.region_code().c_str());
  for (const auto& m : resp.members()) {
    std::printf("  %-28s %s%s\n", m.masked_name().c_str(), v1::Relationship_Name(m.relationship()).c_str(),
                m.alive() ? "" : " (deceased)");
  }
  std::printf("programs\n");
  if (resp.programs().empty()) std::printf("  no decision yet\n");
  for (const auto& p : resp.programs()) {
    std::printf("  %-10s %-13s %s a year (decision %s v%lld)\n", p.program().c_str(),
                p.eligible() ? "eligible" : "not eligible", Rupiah(p.yearly_amount()).c_str(), p.decision_id().c_str(),
                static_cast<long long>(p.decision_version()));
  }
  std::printf("appeals\n");
  if (resp.appeals().empty()) std::printf("  none\n");
  for (const auto& a : resp.appeals()) {
    std::printf("  %s %s %s %s filed %s\n", a.appeal_id().c_str(), a.program().c_str(),
                v1::AppealKind_Name(a.kind()).c_str(), v1::AppealState_Name(a.state()).c_str(),
                FormatTime(a.filed_at()).c_str());
  }
  return kExitOk;
}

int RunAccess(const GlobalFlags& g, const AccessFlags& f) {
  v1::ListAccessRecordsRequest req;
  req.set_kk_number(f.kk_number);
  req.set_region_prefix(f.region_prefix);
  req.set_subject(f.subject);
  if (!f.from.empty()) {
    absl::Status st = SetTime("--from", f.from, DayEdge::kStart, [&] { return req.mutable_from(); });
    if (!st.ok()) return BadArguments(std::string(st.message()));
  }
  if (!f.to.empty()) {
    absl::Status st = SetTime("--to", f.to, DayEdge::kEnd, [&] { return req.mutable_to(); });
    if (!st.ok()) return BadArguments(std::string(st.message()));
  }
  req.set_page_size(f.page_size);
  req.set_page_token(f.page_token);
  Remote<v1::PopulationService> s(g);
  v1::ListAccessRecordsResponse resp;
  grpc::Status st = s.Call(&v1::PopulationService::Stub::ListAccessRecords, req, &resp);
  if (!st.ok()) return s.Fail(st);
  if (g.json) {
    std::printf("%s\n", ToJson(resp).c_str());
    return kExitOk;
  }
  std::printf("%-24s %-10s %-24s %-18s %s\n", "at", "role", "subject", "family/region", "method");
  for (const auto& r : resp.records()) {
    const auto& a = r.read();
    std::printf("%-24s %-10s %-24s %-18s %s\n", FormatTime(r.at()).c_str(), a.role().c_str(),
                a.subject().empty() ? "(public)" : a.subject().c_str(),
                a.kk_number().empty() ? a.region_prefix().c_str() : a.kk_number().c_str(), a.method().c_str());
  }
  if (!resp.next_page_token().empty()) std::printf("more: --page-token '%s'\n", resp.next_page_token().c_str());
  return kExitOk;
}

}  // namespace jaring::ctl
