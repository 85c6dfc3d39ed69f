// The child of eligibility_crash_test: opens the embedded log and the
// eligibility store, prints "ready", lets the engine derive every decision
// that is due, prints "done" and exits 0. The parent kills it with SIGKILL
// at random moments in between.
//
//   eligibility_crash_child LOG_DIR STORE_DIR NOW_UNIX_SECONDS
#include <cstdio>
#include <cstdlib>

#include "libs/base/clock.h"
#include "libs/eventlog/embedded_log.h"
#include "services/eligibility/service.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LOG_DIR STORE_DIR NOW_UNIX_SECONDS\n", argv[0]);
    return 2;
  }
  jaring::ManualClock clock(absl::FromUnixSeconds(std::atoll(argv[3])));
  auto log = jaring::eventlog::OpenEmbeddedLog({.dir = argv[1], .clock = &clock});
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  auto svc = jaring::eligibility::EligibilityServiceImpl::Create(
      log->get(), {.store_dir = argv[2], .clock = &clock, .engine_interval = absl::ZeroDuration()});
  if (!svc.ok()) {
    std::fprintf(stderr, "%s\n", svc.status().ToString().c_str());
    return 1;
  }
  const absl::Status st = (*svc)->engine().Settle();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}
