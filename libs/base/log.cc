#include "libs/base/log.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace jaring::log {
namespace {

std::function<void(const std::string&)>& Sink() {
  static auto* sink = new std::function<void(const std::string&)>();
  return *sink;
}

void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void Write(std::string_view level, std::string_view event, Fields fields) {
  std::string line = JsonLine(level, event, fields, absl::Now());
  if (Sink()) {
    Sink()(line);
    return;
  }
  line.push_back('\n');
  // One write: lines of concurrent threads do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

std::string JsonLine(std::string_view level, std::string_view event, Fields fields, absl::Time now) {
  std::string out = "{\"ts\":";
  AppendQuoted(&out, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone()));
  out.append(",\"level\":");
  AppendQuoted(&out, level);
  out.append(",\"event\":");
  AppendQuoted(&out, event);
  for (const auto& [k, v] : fields) {
    out.push_back(',');
    AppendQuoted(&out, k);
    out.push_back(':');
    AppendQuoted(&out, v);
  }
  out.push_back('}');
  return out;
}

void Info(std::string_view event, Fields fields) { Write("info", event, fields); }
void Warn(std::string_view event, Fields fields) { Write("warn", event, fields); }
void Error(std::string_view event, Fields fields) { Write("error", event, fields); }

void SetSinkForTesting(std::function<void(const std::string&)> sink) { Sink() = std::move(sink); }

}  // namespace jaring::log
