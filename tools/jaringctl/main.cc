// jaringctl: the command-line client of Jaring.
//
//   jaringctl [--target HOST:PORT] [--json] [--timeout S] <command> ...
//
// Exit codes: 0 ok, 1 the service refused or failed, 2 bad arguments,
// 3 the service is unreachable.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>

#include "CLI/CLI.hpp"
#include "tools/jaringctl/access_commands.h"
#include "tools/jaringctl/appeals_commands.h"
#include "tools/jaringctl/audit_commands.h"
#include "tools/jaringctl/client.h"
#include "tools/jaringctl/eligibility_commands.h"
#include "tools/jaringctl/ledger_commands.h"
#include "tools/jaringctl/population_commands.h"

namespace {

using namespace jaring::ctl;  // NOLINT: this file is only wiring

// The flags every write command shares.
void AddCommandFlags(CLI::App* cmd, CommandFlags& c, bool date_required, const std::string& date_help) {
  CLI::Option* date = cmd->add_option("--date", c.date, date_help);
  if (date_required) date->required();
  cmd->add_option("--recorded", c.recorded,
                  "When it was reported (tanggal lapor): YYYY-MM-DD or RFC 3339; default: the service's clock");
  cmd->add_option("--request-id", c.request_id, "Idempotency key; default: a random one");
  cmd->add_option("--source", c.source, "DUKCAPIL, BPS_DTSEN, DINSOS, FIELD_VERIFIER, SYSTEM, NATIONAL or FAMILY");
  cmd->add_option("--actor", c.actor, "Principal id recorded on the event (never a NIK)")->capture_default_str();
  cmd->add_option("--expected-version", c.expected_version,
                  "Apply only if the family is at this version (ABORTED otherwise)");
  cmd->add_option("--correlation-id", c.correlation_id, "Ties the events to a larger action");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"jaringctl: command-line client of Jaring (digital social assistance, event-sourced)"};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Dates are calendar days in WIB (YYYY-MM-DD, 00:00) or RFC 3339 times; the eligibility commands read a\n"
      "bare date as the END of that day for --as-of, --as-known-at and --to. NIKs are masked in human output;\n"
      "--json prints the service's response as proto JSON.\n"
      "Exit codes: 0 ok, 1 service error, 2 bad arguments, 3 service unreachable.");

  GlobalFlags g;
  app.add_option("--target", g.target, "Service address HOST:PORT")->envname("JARING_TARGET")->capture_default_str();
  app.add_flag("--json", g.json, "Machine-readable output (proto JSON)");
  CLI::Option* tls_ca = app.add_option("--tls-ca", g.tls_ca, "CA certificate (PEM) of the server: connect with TLS")
      ->envname("JARING_TLS_CA")
      ->check(CLI::ExistingFile);
  CLI::Option* tls_cert = app.add_option("--tls-cert", g.tls_cert, "Client certificate (PEM) for mutual TLS")
                              ->envname("JARING_TLS_CERT")
                              ->check(CLI::ExistingFile);
  CLI::Option* tls_key = app.add_option("--tls-key", g.tls_key, "Client private key (PEM) for mutual TLS")
                             ->envname("JARING_TLS_KEY")
                             ->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_cert->needs(tls_ca);
  tls_key->needs(tls_cert);
  CLI::Option* token = app.add_option("--token", g.token, "Signed token (from `jaring token`) naming your role")
                          ->envname("JARING_TOKEN");
  app.add_option("--token-file", g.token_file, "File holding the token")
      ->envname("JARING_TOKEN_FILE")
      ->check(CLI::ExistingFile)
      ->excludes(token);
  for (auto [flag, env, field] : {std::tuple{"--population-target", "JARING_POPULATION_TARGET", &g.population_target},
                                   std::tuple{"--eligibility-target", "JARING_ELIGIBILITY_TARGET", &g.eligibility_target},
                                   std::tuple{"--appeals-target", "JARING_APPEALS_TARGET", &g.appeals_target},
                                   std::tuple{"--ledger-target", "JARING_LEDGER_TARGET", &g.ledger_target},
                                   std::tuple{"--audit-target", "JARING_AUDIT_TARGET", &g.audit_target}}) {
    app.add_option(flag, *field, "Where this service is when the services run apart (default: --target)")
        ->envname(env)
        ->group("Separate processes");
  }
  app.add_option("--tls-server-name", g.tls_server_name,
                 "Name to check in the server's certificate (default: the target's host)");
  CLI::Option* timeout = app.add_option("--timeout", g.timeout, "Deadline of each call in seconds (streams: none "
                                                                  "unless given)")
                             ->capture_default_str()
                             ->check(CLI::PositiveNumber);

  // family register|get|list|history
  CLI::App* family = app.add_subcommand("family", "Family cards (KK)");
  family->require_subcommand(1);
  RegisterFlags reg;
  CLI::App* reg_cmd = family->add_subcommand("register", "Register a family card from a RegisterFamilyRequest in "
                                                         "proto JSON");
  reg_cmd->add_option("--file", reg.file, "family.json")->required()->check(CLI::ExistingFile);
  reg_cmd->add_option("--actor", reg.c.actor, "Actor when the file has none")->capture_default_str();

  FamilyGetFlags fget;
  CLI::App* fget_cmd = family->add_subcommand("get", "Show a family: current, as known at a date, or as of a date");
  fget_cmd->add_option("kk", fget.kk, "KK number (16 digits)")->required();
  fget_cmd->add_option("--as-known-at", fget.as_known_at, "Only events recorded on or before this date");
  fget_cmd->add_option("--as-of", fget.as_of, "Only events that happened on or before this date");

  FamilyListFlags flist;
  CLI::App* flist_cmd = family->add_subcommand("list", "List the families of a region");
  flist_cmd->add_option("--region", flist.region, "Region code prefix, e.g. 52.71 or 52.71.01")->required();
  flist_cmd->add_option("--page-size", flist.page_size, "Families per page (service default when 0)");
  flist_cmd->add_option("--page-token", flist.page_token, "From a previous page");
  flist_cmd->add_flag("--count", flist.count, "Also count every family under the prefix");

  HistoryFlags hist;
  CLI::App* hist_cmd = family->add_subcommand("history", "The events of a family card");
  hist_cmd->add_option("kk", hist.kk, "KK number (16 digits)")->required();
  hist_cmd->add_option("--as-known-at", hist.as_known_at, "Only events recorded on or before this date");

  // member get
  CLI::App* member = app.add_subcommand("member", "People (by NIK)");
  member->require_subcommand(1);
  MemberGetFlags mget;
  CLI::App* mget_cmd = member->add_subcommand("get", "Show a person and their family card");
  mget_cmd->add_option("nik", mget.nik, "NIK (16 digits)")->required();

  // Population commands.
  BirthFlags birth;
  CLI::App* birth_cmd = app.add_subcommand("birth", "Record a birth (kelahiran)");
  birth_cmd->add_option("--kk", birth.kk, "KK number of the family")->required();
  birth_cmd->add_option("--mother", birth.mother, "NIK of the mother in this family");
  birth_cmd->add_option("--no-mother-reason", birth.no_mother_reason, "Why there is no living mother in the family");
  birth_cmd->add_option("--child-nik", birth.child_nik, "NIK of the child")->required();
  birth_cmd->add_option("--name", birth.name, "Full name of the child")->required();
  birth_cmd->add_option("--sex", birth.sex, "L or P")->required();
  birth_cmd->add_option("--relationship", birth.relationship, "Relationship to the head")->capture_default_str();
  AddCommandFlags(birth_cmd, birth.c, true, "Date of birth (tanggal peristiwa)");

  DeathFlags death;
  CLI::App* death_cmd = app.add_subcommand("death", "Record a death (kematian)");
  death_cmd->add_option("--kk", death.kk, "KK number of the family")->required();
  death_cmd->add_option("--nik", death.nik, "NIK of the deceased")->required();
  death_cmd->add_option("--certificate", death.certificate, "Death certificate number");
  AddCommandFlags(death_cmd, death.c, true, "Date of death (tanggal peristiwa)");

  MoveFlags move;
  CLI::App* move_cmd = app.add_subcommand("move", "Move a member to another family (pindah)");
  move_cmd->add_option("--from", move.from, "KK number the member leaves")->required();
  move_cmd->add_option("--nik", move.nik, "NIK of the member")->required();
  move_cmd->add_option("--to", move.to, "KK number the member joins")->required();
  move_cmd->add_option("--relationship", move.relationship, "Relationship to the new head")->capture_default_str();
  move_cmd->add_option("--reason", move.reason, "Why");
  AddCommandFlags(move_cmd, move.c, false, "When it happened; default: now");

  SplitFlags split;
  CLI::App* split_cmd = app.add_subcommand("split", "Split a family card (pecah KK)");
  split_cmd->add_option("--kk", split.kk, "KK number of the family that splits")->required();
  split_cmd->add_option("--new-kk", split.new_kk, "KK number of the new card")->required();
  split_cmd->add_option("--region", split.region, "Village-level region code of the new card")->required();
  split_cmd->add_option("--members", split.members, "NIKs of the members who leave (comma-separated)")
      ->required()
      ->delimiter(',');
  split_cmd->add_option("--new-head", split.new_head, "NIK of the new card's head (one of --members)")->required();
  split_cmd->add_option("--reason", split.reason, "Why");
  split_cmd->add_option("--address", split.address, "Address of the new card");
  AddCommandFlags(split_cmd, split.c, false, "When it happened; default: now");

  HeadFlags head;
  CLI::App* head_cmd = app.add_subcommand("head", "Change the head of a family (ganti kepala keluarga)");
  head_cmd->add_option("--kk", head.kk, "KK number")->required();
  head_cmd->add_option("--new-head", head.new_head, "NIK of the new head")->required();
  head_cmd->add_option("--reason", head.reason, "Why");
  AddCommandFlags(head_cmd, head.c, false, "When it happened; default: now");

  AssessFlags assess;
  CLI::App* assess_cmd = app.add_subcommand("assess", "Record a DTSEN welfare assessment");
  assess_cmd->add_option("--kk", assess.kk, "KK number")->required();
  assess_cmd->add_option("--round", assess.round, "DTSEN round, e.g. 2026-Q2")->required();
  assess_cmd->add_option("--decile", assess.decile, "Decile 1 (poorest) to 10")->required();
  assess_cmd->add_option("--pmt-score-micros", assess.pmt_score_micros, "PMT score in millionths");
  AddCommandFlags(assess_cmd, assess.c, false, "When it was assessed; default: now");

  AttributesFlags attrs;
  CLI::App* attrs_cmd = app.add_subcommand("attributes", "Change a member's attributes (disability, school, pregnancy)");
  attrs_cmd->add_option("--kk", attrs.kk, "KK number")->required();
  attrs_cmd->add_option("--nik", attrs.nik, "NIK of the member")->required();
  attrs_cmd->add_option("--disability", attrs.disability, "TIDAK, RINGAN or BERAT");
  attrs_cmd->add_option("--school-level", attrs.school_level, "TIDAK_SEKOLAH, PAUD, SD, SMP, SMA or PT");
  attrs_cmd->add_option("--school-enrolled", attrs.school_enrolled, "Y or N");
  attrs_cmd->add_option("--pregnant", attrs.pregnant, "Y or N");
  attrs_cmd->add_option("--pregnancy-order", attrs.pregnancy_order, "1 for the first pregnancy, ...");
  AddCommandFlags(attrs_cmd, attrs.c, false, "When it changed; default: now");

  CorrectFlags corr;
  CLI::App* corr_cmd = app.add_subcommand("correct", "Correct an earlier event of a family");
  corr_cmd->add_option("--kk", corr.kk, "KK number")->required();
  corr_cmd->add_option("--event-id", corr.event_id, "event_id of the event being corrected")->required();
  corr_cmd->add_option("--reason", corr.reason, "Why (required)")->required();
  corr_cmd->add_option("--appeal-id", corr.appeal_id, "The appeal that led to it");
  corr_cmd->add_flag("--retract", corr.retract, "The event did not happen");
  corr_cmd->add_option("--member-file", corr.member_file, "Replacement Member in proto JSON")
      ->check(CLI::ExistingFile);
  corr_cmd->add_option("--round", corr.round, "Replacement assessment: round");
  corr_cmd->add_option("--decile", corr.decile, "Replacement assessment: decile");
  corr_cmd->add_option("--pmt-score-micros", corr.pmt_score_micros, "Replacement assessment: PMT score");
  AddCommandFlags(corr_cmd, corr.c, false, "When the correction was decided; default: now");

  FindingsFlags find;
  CLI::App* find_cmd = app.add_subcommand("findings", "Overlap findings (tumpang tindih) of a region");
  find_cmd->add_option("--region", find.region, "Region code prefix, e.g. 52.71")->required();
  find_cmd->add_flag("--include-resolved", find.include_resolved, "Also resolved findings");
  find_cmd->add_option("--page-size", find.page_size, "Findings per page");
  find_cmd->add_option("--page-token", find.page_token, "From a previous page");

  ImportFlags imp;
  CLI::App* imp_cmd = app.add_subcommand("import", "Import a registry extract (CSV, docs/import-format.md)");
  imp_cmd->add_option("file", imp.file, "registry.csv")->required()->check(CLI::ExistingFile);
  imp_cmd->add_option("--actor", imp.actor, "Actor recorded on the imported cards")->capture_default_str();

  SynthFlags syn;
  CLI::App* syn_cmd = app.add_subcommand(
      "synth",
      "Generate a synthetic population (deterministic by seed): with --out, write DIR/registry.csv, "
      "DIR/events.jsonl and DIR/ground_truth.jsonl; without --out, send it to --target");
  syn_cmd->add_option("--regions", syn.regions, "Pilot regency/city codes, comma-separated (52.71, 52.03, 35.10, "
                                               "35.76, 35.73, 35.78, 81.71)")
      ->delimiter(',')
      ->capture_default_str();
  syn_cmd->add_option("--families", syn.families, "Families in the extract")->capture_default_str()->check(
      CLI::PositiveNumber);
  syn_cmd->add_option("--months", syn.months, "Months of life after the extract")->capture_default_str()->check(
      CLI::NonNegativeNumber);
  syn_cmd->add_option("--seed", syn.seed, "Random seed")->capture_default_str();
  syn_cmd->add_option("--anomalies", syn.anomalies, "Planted overlap anomalies")->capture_default_str()->check(
      CLI::NonNegativeNumber);
  syn_cmd->add_option("--start", syn.start,
                      "Extract date YYYY-MM-DD; default 2026-01-01 if the period ends before today, else the first "
                      "of the month months+1 months ago");
  syn_cmd->add_option("--out", syn.out, "Output directory");

  ReplayFlags rep;
  CLI::App* rep_cmd = app.add_subcommand("replay-commands", "Send a commands file (events.jsonl) to the service");
  rep_cmd->add_option("file", rep.file, "events.jsonl")->required()->check(CLI::ExistingFile);
  rep_cmd->add_flag("--keep-going", rep.keep_going, "Continue after a refused command");

  // rules publish|list, decision, explain, decisions, beneficiaries, movements, risks, simulate.
  EligibilityCommands eligibility(app);
  // budget allocate, cycle open|export|import|close|show, accounts, ledger family, claims, proof,
  // verify-proof, verify-ledger.
  LedgerCommands ledger(app);
  // appeal file|assign|verify|decide|close|withdraw|show|policy set|window open|windows,
  // appeals family|queue|breaches|stats.
  AppealsCommands appeals(app);
  // status (the public lookup), access (who looked at what).
  AccessCommands access(app);
  // audit source|eligible|changes|dead-payments|duplicates|cycles|report.
  AuditCommands audit(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadArguments;
  }
  g.timeout_set = timeout->count() > 0;

  if (*reg_cmd) return RunRegister(g, reg);
  if (*fget_cmd) return RunFamilyGet(g, fget);
  if (*flist_cmd) return RunFamilyList(g, flist);
  if (*hist_cmd) return RunFamilyHistory(g, hist);
  if (*mget_cmd) return RunMemberGet(g, mget);
  if (*birth_cmd) return RunBirth(g, birth);
  if (*death_cmd) return RunDeath(g, death);
  if (*move_cmd) return RunMove(g, move);
  if (*split_cmd) return RunSplit(g, split);
  if (*head_cmd) return RunHead(g, head);
  if (*assess_cmd) return RunAssess(g, assess);
  if (*attrs_cmd) return RunAttributes(g, attrs);
  if (*corr_cmd) return RunCorrect(g, corr);
  if (*find_cmd) return RunFindings(g, find);
  if (*imp_cmd) return RunImport(g, imp);
  if (*syn_cmd) return RunSynth(g, syn);
  if (*rep_cmd) return RunReplay(g, rep);
  if (std::optional<int> code = eligibility.Run(g)) return *code;
  if (std::optional<int> code = ledger.Run(g)) return *code;
  if (std::optional<int> code = appeals.Run(g)) return *code;
  if (std::optional<int> code = access.Run(g)) return *code;
  if (std::optional<int> code = audit.Run(g)) return *code;
  return kExitBadArguments;
}
