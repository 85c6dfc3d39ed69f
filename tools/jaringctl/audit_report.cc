#include "tools/jaringctl/audit_report.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/clock.h"
#include "tools/jaringctl/output.h"
#include "tools/synth/csv.h"

namespace jaring::ctl {
namespace {

// Rows of one listing shown in the Markdown and HTML reports; the CSV files
// hold every row.
constexpr int kShownRows = 200;

std::string Family(const v1::AuditFamily& f) { return f.kk_number().empty() ? f.kk_masked() : f.kk_number(); }

std::string Reasons(const google::protobuf::RepeatedPtrField<v1::Reason>& reasons, bool english) {
  std::vector<std::string> out;
  for (const v1::Reason& r : reasons) out.push_back(english ? r.text_en() : r.text_id());
  return absl::StrJoin(out, "; ");
}

std::string TriggerName(v1::EvaluationTrigger t) {
  switch (t) {
    case v1::EVALUATION_TRIGGER_POPULATION_EVENT:
      return "population event";
    case v1::EVALUATION_TRIGGER_RULE_SET:
      return "rule set";
    case v1::EVALUATION_TRIGGER_DATE:
      return "date";
    case v1::EVALUATION_TRIGGER_LATE_REPORT:
      return "late report";
    default:
      return "-";
  }
}

std::string SourceText(const AuditReport& r) {
  const v1::GetAuditSourceResponse& s = r.source;
  std::string kind;
  switch (s.kind()) {
    case v1::AUDIT_SOURCE_KIND_REPLAY:
      kind = absl::StrCat("a replay as of ", FormatTime(s.as_of()), " (events recorded at or before it)");
      break;
    case v1::AUDIT_SOURCE_KIND_REPLICA:
      kind = absl::StrCat("a read-only replica, at ", FormatTime(s.as_of()));
      break;
    default:
      kind = absl::StrCat("the live system, at ", FormatTime(s.as_of()));
  }
  std::vector<std::string> applied;
  for (const v1::ServiceEvents& e : s.events()) {
    applied.push_back(absl::StrCat(e.service(), " ", e.records_read(), " records read",
                                   e.filtered_out() > 0 ? absl::StrCat(" (", e.filtered_out(), " recorded later left out)")
                                                        : ""));
  }
  return absl::StrCat(kind, "; ", absl::StrJoin(applied, ", "));
}

struct Listing {
  std::string title;
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::string csv;  // the file that holds every row
};

std::vector<std::string> EligibleHeaders() {
  return {"family", "ref", "region", "decile", "DTSEN round", "rule version", "Rp a year", "decision", "recorded",
          "why (id)", "why (en)", "agrees with today's knowledge", "today's reason"};
}
std::vector<std::vector<std::string>> EligibleRows(const v1::ListEligibleOnResponse& r) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::EligibleFamily& f : r.families()) {
    rows.push_back({Family(f.family()), f.family().family_ref(), f.family().region_code(), absl::StrCat(f.decile()),
                    f.dtsen_round(), f.rule_version(), absl::StrCat(f.yearly_amount()),
                    absl::StrCat(f.decision_id(), " v", f.decision_version()), FormatTime(f.recorded_at()),
                    Reasons(f.reasons(), false), Reasons(f.reasons(), true),
                    !f.checked() ? "-" : f.agrees_now() ? "yes" : "NO", Reasons(f.reasons_now(), true)});
  }
  return rows;
}

std::vector<std::string> ChangeHeaders() {
  return {"family", "ref", "region", "program", "change", "Rp a year before", "Rp a year after", "decision",
          "rule version", "trigger", "recorded", "why (en)"};
}
std::vector<std::vector<std::string>> ChangeRows(const v1::ListEligibilityChangesResponse& r) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::EligibilityChange& c : r.changes()) {
    rows.push_back({Family(c.family()), c.family().family_ref(), c.family().region_code(), c.program(),
                    c.entered() ? "entered" : "left", absl::StrCat(c.yearly_amount_before()),
                    absl::StrCat(c.yearly_amount_after()), absl::StrCat(c.decision_id(), " v", c.decision_version()),
                    c.rule_version(), TriggerName(c.trigger()), FormatTime(c.recorded_at()), Reasons(c.reasons(), true)});
  }
  return rows;
}

std::vector<std::string> PaymentHeaders() {
  return {"family", "ref", "region", "program", "period", "cycle", "Rp", "cutoff", "settled on", "recovery claim"};
}
std::vector<std::vector<std::string>> PaymentRows(const v1::ListPaymentsWithoutLivingMemberResponse& r) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::PaymentWithoutLivingMember& p : r.payments()) {
    rows.push_back({Family(p.family()), p.family().family_ref(), p.family().region_code(), p.program(), p.period(),
                    p.cycle_id(), absl::StrCat(p.amount()), FormatTime(p.cutoff()), p.settled_on(),
                    p.recovery_claim_id().empty() ? "none yet" : p.recovery_claim_id()});
  }
  return rows;
}

std::vector<std::string> PeopleHeaders() {
  return {"person ref", "NIK (masked)", "name (masked)", "families", "regions", "in two regencies/cities"};
}
std::vector<std::vector<std::string>> PeopleRows(const v1::ListPeopleInTwoPlacesResponse& r) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::PersonInTwoPlaces& p : r.people()) {
    std::vector<std::string> families, regions;
    for (const v1::AuditFamily& f : p.families()) {
      families.push_back(Family(f));
      regions.push_back(f.region_code());
    }
    rows.push_back({p.person_ref(), p.nik_masked(), p.name_masked(), absl::StrJoin(families, " "),
                    absl::StrJoin(regions, " "), p.two_regions() ? "yes" : "no"});
  }
  return rows;
}

std::vector<std::string> CycleHeaders() {
  return {"cycle", "program", "period", "region", "closed", "families", "entitlements", "cycle total Rp",
          "entitled Rp", "paid (net) Rp", "settled Rp", "misfiled", "problems"};
}
std::vector<std::vector<std::string>> CycleRows(const v1::ListCycleDiscrepanciesResponse& r) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::CycleCheck& c : r.cycles()) {
    rows.push_back({c.cycle_id(), c.program(), c.period(), c.region_prefix().empty() ? "(national)" : c.region_prefix(),
                    c.closed() ? "yes" : "no", absl::StrCat(c.families()), absl::StrCat(c.entitlements()),
                    absl::StrCat(c.total_amount()), absl::StrCat(c.entitled_amount()), absl::StrCat(c.paid_amount()),
                    absl::StrCat(c.settled_amount()), absl::StrCat(c.misfiled()),
                    c.problems().empty() ? "consistent" : absl::StrJoin(c.problems(), "; ")});
  }
  return rows;
}

std::string Csv(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::vector<std::string> q;
    for (const std::string& c : cells) q.push_back(synth::CsvField(c));
    absl::StrAppend(&out, absl::StrJoin(q, ","), "\r\n");
  };
  line(headers);
  for (const auto& r : rows) line(r);
  return out;
}

std::string Day(absl::Time t) { return absl::FormatCivilTime(WibDay(t)); }

std::string RegionText(const AuditReport& r) { return r.region.empty() ? "every region" : absl::StrCat("region ", r.region); }

// The paragraphs of the summary, shared by both renderings.
std::vector<std::pair<std::string, std::string>> Summary(const AuditReport& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < r.programs.size() && i < r.eligible.size(); ++i) {
    const v1::ListEligibleOnResponse& e = r.eligible[i];
    std::vector<std::string> versions;
    for (const v1::VersionCount& v : e.rule_versions()) versions.push_back(absl::StrCat(v.version(), ": ", v.families()));
    out.push_back({absl::StrCat(r.programs[i], " eligible on ", Day(r.on)),
                   absl::StrCat(Families(e.total_families()), ", ", Rupiah(e.total_yearly_amount()), " a year",
                                versions.empty() ? "" : absl::StrCat(" (rule sets ", absl::StrJoin(versions, ", "), ")"),
                                e.disagreeing_now() > 0
                                    ? absl::StrCat("; ", e.disagreeing_now(), " that today's knowledge would not list")
                                    : "")});
  }
  std::vector<std::string> moves;
  for (const v1::ProgramChangeTotals& t : r.changes.totals()) {
    moves.push_back(absl::StrCat(t.program(), " +", t.entered(), " -", t.left()));
  }
  out.push_back({absl::StrCat("Entered and left, ", Day(r.from), " to ", Day(r.to)),
                 moves.empty() ? "no change" : absl::StrJoin(moves, ", ")});
  out.push_back({"Payments to families with no living member",
                 absl::StrCat(r.payments.payments_size(), " payments, ", Rupiah(r.payments.total_amount()),
                              " (not yet claimed back: ", Rupiah(r.payments.unclaimed_amount()), ")")});
  out.push_back({"One person in two families",
                 absl::StrCat(r.people.in_two_families(), " people; ", r.people.in_two_regions(),
                              " of them in two regencies/cities")});
  out.push_back({"Cycles whose totals disagree with their entitlements",
                 absl::StrCat(r.cycles.cycles_disagreeing(), " of ", r.cycles.cycles_checked(), " cycles")});
  return out;
}

std::vector<Listing> Listings(const AuditReport& r) {
  std::vector<Listing> out;
  for (size_t i = 0; i < r.programs.size() && i < r.eligible.size(); ++i) {
    out.push_back({absl::StrCat("Eligible for ", r.programs[i], " on ", Day(r.on), ", and why"), EligibleHeaders(),
                   EligibleRows(r.eligible[i]), absl::StrCat("eligible-", r.programs[i], ".csv")});
  }
  out.push_back({absl::StrCat("Entered and left between ", Day(r.from), " and ", Day(r.to)), ChangeHeaders(),
                 ChangeRows(r.changes), "changes.csv"});
  out.push_back({"Payments to families with no living member at the cycle's cutoff", PaymentHeaders(),
                 PaymentRows(r.payments), "payments-without-living-member.csv"});
  out.push_back({"One person listed alive in two families", PeopleHeaders(), PeopleRows(r.people),
                 "people-in-two-places.csv"});
  out.push_back({"Payment cycles: totals against entitlements", CycleHeaders(), CycleRows(r.cycles), "cycles.csv"});
  return out;
}

std::string MdCell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// A horizontal bar chart: one bar per (label, value), scaled to the largest.
std::string SvgBars(const std::string& title, const std::vector<std::pair<std::string, double>>& bars,
                    const std::function<std::string(double)>& format) {
  if (bars.empty()) return "";
  double max = 0;
  for (const auto& [l, v] : bars) max = std::max(max, v);
  const int row = 26, label_w = 170, bar_w = 360, height = static_cast<int>(bars.size()) * row + 34;
  std::string svg = absl::StrCat("<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", label_w + bar_w + 170,
                                 "\" height=\"", height, "\" role=\"img\" aria-label=\"", HtmlEscape(title), "\">",
                                 "<text x=\"0\" y=\"16\" class=\"t\">", HtmlEscape(title), "</text>");
  int y = 28;
  for (const auto& [label, value] : bars) {
    const int w = max > 0 ? static_cast<int>(bar_w * value / max) : 0;
    absl::StrAppend(&svg, "<text x=\"0\" y=\"", y + 15, "\">", HtmlEscape(label), "</text>", "<rect x=\"", label_w,
                    "\" y=\"", y + 3, "\" width=\"", std::max(w, 1), "\" height=\"16\" class=\"b\"/>", "<text x=\"",
                    label_w + std::max(w, 1) + 6, "\" y=\"", y + 15, "\">", HtmlEscape(format(value)), "</text>");
    y += row;
  }
  absl::StrAppend(&svg, "</svg></figure>\n");
  return svg;
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EligibleCsv(const std::string& program, const v1::ListEligibleOnResponse& r) {
  (void)program;
  return Csv(EligibleHeaders(), EligibleRows(r));
}
std::string ChangesCsv(const v1::ListEligibilityChangesResponse& r) { return Csv(ChangeHeaders(), ChangeRows(r)); }
std::string PaymentsCsv(const v1::ListPaymentsWithoutLivingMemberResponse& r) {
  return Csv(PaymentHeaders(), PaymentRows(r));
}
std::string PeopleCsv(const v1::ListPeopleInTwoPlacesResponse& r) { return Csv(PeopleHeaders(), PeopleRows(r)); }
std::string CyclesCsv(const v1::ListCycleDiscrepanciesResponse& r) { return Csv(CycleHeaders(), CycleRows(r)); }

std::map<std::string, std::string> RenderCsv(const AuditReport& report) {
  std::map<std::string, std::string> out;
  for (const Listing& l : Listings(report)) out[l.csv] = Csv(l.headers, l.rows);
  return out;
}

std::string RenderMarkdown(const AuditReport& r) {
  std::string md = "# Jaring audit report\n\n";
  absl::StrAppend(&md, "- **Answered by:** ", SourceText(r), "\n");
  absl::StrAppend(&md, "- **Scope:** ", RegionText(r), "\n");
  absl::StrAppend(&md, "- **Families** are named by a masked KK number and a keyed reference (`ref`), people by a "
                       "keyed reference, a masked NIK and a masked name. Decisions \"on record\" on a date are the "
                       "last ones recorded by the end of it.\n\n");
  absl::StrAppend(&md, "## Summary\n\n| question | answer |\n|---|---|\n");
  for (const auto& [q, a] : Summary(r)) absl::StrAppend(&md, "| ", MdCell(q), " | ", MdCell(a), " |\n");
  int n = 0;
  for (const Listing& l : Listings(r)) {
    absl::StrAppend(&md, "\n## ", ++n, ". ", l.title, "\n\n");
    if (l.rows.empty()) {
      absl::StrAppend(&md, "None.\n");
      continue;
    }
    absl::StrAppend(&md, "| ", absl::StrJoin(l.headers, " | "), " |\n|");
    for (size_t i = 0; i < l.headers.size(); ++i) md += "---|";
    md += "\n";
    int shown = 0;
    for (const auto& row : l.rows) {
      if (++shown > kShownRows) break;
      std::vector<std::string> cells;
      for (const std::string& c : row) cells.push_back(MdCell(c));
      absl::StrAppend(&md, "| ", absl::StrJoin(cells, " | "), " |\n");
    }
    absl::StrAppend(&md, "\n", l.rows.size(), " rows", l.rows.size() > kShownRows
                                                              ? absl::StrCat(", the first ", kShownRows, " shown")
                                                              : std::string(),
                    "; every row in `", l.csv, "`.\n");
  }
  return md;
}

std::string RenderHtml(const AuditReport& r) {
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Jaring audit report</title>\n"
      "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}"
      "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
      "text-align:left}th{background:#f0f3f6}.no{color:#b00020;font-weight:bold}figure{margin:1em 0}"
      "svg text{font-size:12px;fill:#222}svg .t{font-weight:bold;font-size:13px}svg .b{fill:#2f6f9f}</style>"
      "</head><body>\n<h1>Jaring audit report</h1>\n";
  absl::StrAppend(&html, "<p><b>Answered by:</b> ", HtmlEscape(SourceText(r)), "<br><b>Scope:</b> ",
                  HtmlEscape(RegionText(r)),
                  "<br>Families are named by a masked KK number and a keyed reference, people by a keyed reference, "
                  "a masked NIK and a masked name.</p>\n<h2>Summary</h2>\n<table>");
  for (const auto& [q, a] : Summary(r)) {
    absl::StrAppend(&html, "<tr><th>", HtmlEscape(q), "</th><td>", HtmlEscape(a), "</td></tr>");
  }
  absl::StrAppend(&html, "</table>\n");
  std::vector<std::pair<std::string, double>> families, money, entered, left, cycle_entitled, cycle_paid;
  for (size_t i = 0; i < r.programs.size() && i < r.eligible.size(); ++i) {
    families.push_back({r.programs[i], static_cast<double>(r.eligible[i].total_families())});
    money.push_back({r.programs[i], static_cast<double>(r.eligible[i].total_yearly_amount())});
  }
  for (const v1::ProgramChangeTotals& t : r.changes.totals()) {
    entered.push_back({absl::StrCat(t.program(), " entered"), static_cast<double>(t.entered())});
    left.push_back({absl::StrCat(t.program(), " left"), static_cast<double>(t.left())});
  }
  for (const v1::CycleCheck& c : r.cycles.cycles()) {
    const std::string label = absl::StrCat(c.program(), " ", c.period(), " ", c.region_prefix());
    cycle_entitled.push_back({label, static_cast<double>(c.entitled_amount())});
    cycle_paid.push_back({label, static_cast<double>(c.paid_amount())});
  }
  const auto count = [](double v) { return absl::StrCat(static_cast<int64_t>(v)); };
  const auto rupiah = [](double v) { return Rupiah(static_cast<int64_t>(v)); };
  absl::StrAppend(&html, SvgBars(absl::StrCat("Families eligible on ", Day(r.on)), families, count),
                  SvgBars("Their yearly amounts", money, rupiah));
  std::vector<std::pair<std::string, double>> moves = entered;
  moves.insert(moves.end(), left.begin(), left.end());
  absl::StrAppend(&html, SvgBars(absl::StrCat("Entered and left, ", Day(r.from), " to ", Day(r.to)), moves, count),
                  SvgBars("Cycles: entitled", cycle_entitled, rupiah), SvgBars("Cycles: paid (net of returns)", cycle_paid, rupiah));
  int n = 0;
  for (const Listing& l : Listings(r)) {
    absl::StrAppend(&html, "<h2>", ++n, ". ", HtmlEscape(l.title), "</h2>\n");
    if (l.rows.empty()) {
      absl::StrAppend(&html, "<p>None.</p>\n");
      continue;
    }
    absl::StrAppend(&html, "<table><tr>");
    for (const std::string& h : l.headers) absl::StrAppend(&html, "<th>", HtmlEscape(h), "</th>");
    absl::StrAppend(&html, "</tr>\n");
    int shown = 0;
    for (const auto& row : l.rows) {
      if (++shown > kShownRows) break;
      absl::StrAppend(&html, "<tr>");
      for (const std::string& c : row) {
        absl::StrAppend(&html, c == "NO" ? "<td class=\"no\">" : "<td>", HtmlEscape(c), "</td>");
      }
      absl::StrAppend(&html, "</tr>\n");
    }
    absl::StrAppend(&html, "</table><p>", l.rows.size(), " rows",
                    l.rows.size() > kShownRows ? absl::StrCat(", the first ", kShownRows, " shown") : std::string(),
                    "; every row in <code>", HtmlEscape(l.csv), "</code>.</p>\n");
  }
  absl::StrAppend(&html, "</body></html>\n");
  return html;
}

}  // namespace jaring::ctl
