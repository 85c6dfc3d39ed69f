#include "tools/bench/workspace.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/events/topics.h"

namespace jaring::bench {

absl::StatusOr<Workspace> OpenWorkspace(std::string_view bench, const std::string& dir) {
  Workspace w;
  w.owned = dir.empty();
  w.dir = w.owned ? std::filesystem::temp_directory_path() / absl::StrCat("jaring-bench-", Av(bench), "-", getpid())
                  : std::filesystem::path(dir);
  if (std::filesystem::exists(w.dir) && !std::filesystem::is_empty(w.dir)) {
    return absl::FailedPreconditionError(absl::StrCat(w.dir.string(), " exists and is not empty"));
  }
  std::filesystem::create_directories(w.dir);
  JARING_ASSIGN_OR_RETURN(w.log, eventlog::OpenEmbeddedLog({.dir = (w.dir / "log").string()}));
  for (const auto& t : events::kDefaultTopics) {
    JARING_RETURN_IF_ERROR(w.log->CreateTopic(std::string(t.name), t.partitions));
  }
  return w;
}

}  // namespace jaring::bench
