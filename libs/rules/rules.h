// Rule sets as data: loading, validation and content hashes.
//
// A rule set (jaring.v1.RuleSet, proto/jaring/v1/rules.proto) lives in the
// repository under rules/<version>/ as text-format protos: ruleset.textproto
// (version, effective_from, description) plus one jaring.v1.ProgramRules per
// other *.textproto file. The format is specified in docs/rules.md.
//
// Every function here is pure (apart from reading files) and thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "jaring/v1/rules.pb.h"

namespace jaring::rules {

// The name of the manifest file in a rule set directory.
inline constexpr std::string_view kManifestFile = "ruleset.textproto";

// A validated rule set and its content hash.
struct LoadedRuleSet {
  v1::RuleSet rules;
  // ContentHash(rules).
  std::string content_hash;
  // The files it was read from, in the order they were read.
  std::vector<std::string> sources;
};

// Loads a rule set from `path`:
//  - a directory: `ruleset.textproto` (a RuleSet without programs) and every
//    other regular `*.textproto` file, each one ProgramRules, appended in
//    byte order of the file names. The manifest's version must equal the
//    directory's name.
//  - a file: one RuleSet in text format, programs included.
// The result is validated (ValidateRuleSet) and hashed.
// Errors:
//  - kNotFound: `path`, or the manifest of a directory, does not exist.
//  - kInvalidArgument: a file does not parse, or the rule set is invalid; the
//    message names the file, the field and the reason, e.g.
//    "pkh.textproto: pkh.caps.max_components: must be at least 1" or
//    "pkh.textproto:12:3: Message type ... has no field named ...".
//  - kInternal: a file exists but cannot be read.
absl::StatusOr<LoadedRuleSet> LoadRuleSet(const std::filesystem::path& path);

// Parses `text` as one text-format RuleSet (not validated). `origin` names
// the text in errors ("<origin>:<line>:<column>: <what>"); kInvalidArgument
// when it does not parse.
absl::StatusOr<v1::RuleSet> ParseRuleSetText(std::string_view text, std::string_view origin);

// Parses `text` as one text-format ProgramRules (not validated).
absl::StatusOr<v1::ProgramRules> ParseProgramText(std::string_view text, std::string_view origin);

// Checks every parameter of `rules` (ranges, required fields, unique program
// ids and component kinds, PBI-JK bands that cover deciles 1-10 without
// overlap, exclusions that name existing programs without a cycle). Errors
// are kInvalidArgument with "<where>: <field path>: <reason>", where <where>
// is program_origins[i] for program i when given (a file name), else
// "programs[i] (<program_id>)", and "ruleset" for rule-set-level fields.
absl::Status ValidateRuleSet(const v1::RuleSet& rules,
                             const std::vector<std::string>& program_origins = {});

// Lower-case hex SHA-256 of the rule set's deterministic binary
// serialization. Any change to any field (including the version, the
// description and the order of programs) changes it; comments and layout of
// the text files do not.
std::string ContentHash(const v1::RuleSet& rules);

// The program with `program_id`, or nullptr.
const v1::ProgramRules* FindProgram(const v1::RuleSet& rules, std::string_view program_id);

}  // namespace jaring::rules
