// Child process of projection_crash_test: catches a projection up with the
// embedded log and exits, unless it is killed first.
//   projection_crash_child LOG_DIR STORE_DIR wal|nowal
#include <cstdio>
#include <cstring>

#include "libs/eventlog/embedded_log.h"
#include "libs/projection/projection.h"
#include "libs/projection/test_applier.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LOG_DIR STORE_DIR wal|nowal\n", argv[0]);
    return 2;
  }
  auto log = jaring::eventlog::OpenEmbeddedLog({.dir = argv[1]});
  if (!log.ok()) {
    std::fprintf(stderr, "open log: %s\n", log.status().ToString().c_str());
    return 1;
  }
  jaring::projection_testing::ChainApplier applier;
  jaring::projection::Options options;
  options.dir = argv[2];
  options.topics = {"crash"};
  options.max_batch_events = 500;  // many commits: many places to be killed
  options.use_wal = std::strcmp(argv[3], "wal") == 0;
  auto projection = jaring::projection::Projection::Open(log->get(), &applier, options);
  if (!projection.ok()) {
    std::fprintf(stderr, "open projection: %s\n", projection.status().ToString().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  absl::Status st = (*projection)->CatchUp();
  if (!st.ok()) {
    std::fprintf(stderr, "catch up: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}
