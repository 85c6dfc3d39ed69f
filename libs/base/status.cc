#include "libs/base/status.h"

#include <cstdio>

namespace jaring::base_internal {

void CheckFailed(const char* file, int line, const char* cond, const char* msg) {
  std::fprintf(stderr, "FATAL %s:%d: invariant broken: %s: %s\n", file, line, cond, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace jaring::base_internal
