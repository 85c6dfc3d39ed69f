// Structured logs: one JSON object per line on stderr, for operators and
// their log shippers (journald, Loki, Cloud Logging):
//
//   {"ts":"2026-11-23T03:00:00.000Z","level":"info","event":"serving","listen":"127.0.0.1:7700"}
//
// Fields are what the caller names: ids, counts, offsets, methods, codes.
// Never a NIK, a name or an address: the caller's contract, checked by the
// end-to-end tests, which scan every server log for the NIKs they used.
//
// Thread-safe: a line is written with one write(2) call.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"

namespace jaring::log {

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// {"ts":…,"level":…,"event":…, fields…} with JSON string escaping.
std::string JsonLine(std::string_view level, std::string_view event, Fields fields, absl::Time now);

void Info(std::string_view event, Fields fields = {});
void Warn(std::string_view event, Fields fields = {});
void Error(std::string_view event, Fields fields = {});

// Replaces where lines go (the default is stderr); for tests. Not to be
// called while other threads log.
void SetSinkForTesting(std::function<void(const std::string& line)> sink);

}  // namespace jaring::log
