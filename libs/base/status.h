// Status helpers shared by every Jaring library.
//
// Everything that can fail returns absl::Status or absl::StatusOr<T>; no
// exception crosses a module boundary. Status codes map one to one onto gRPC
// codes, so a gRPC handler returns what the library said.
#pragma once

#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define JARING_INTERNAL_CONCAT_IMPL(a, b) a##b
#define JARING_INTERNAL_CONCAT(a, b) JARING_INTERNAL_CONCAT_IMPL(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define JARING_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status jaring_status_ = (expr);          \
    if (!jaring_status_.ok()) return jaring_status_; \
  } while (0)

// `JARING_ASSIGN_OR_RETURN(auto x, FnReturningStatusOr());` declares or
// assigns `x` from the value, or returns the error status.
#define JARING_ASSIGN_OR_RETURN(lhs, expr) \
  JARING_INTERNAL_ASSIGN_OR_RETURN(JARING_INTERNAL_CONCAT(jaring_sor_, __LINE__), lhs, expr)
#define JARING_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()

namespace jaring::base_internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, const char* msg);
}  // namespace jaring::base_internal

// A broken invariant (a projection that disagrees with its own log, a
// corrupted internal structure) stops the process loudly, in every build
// type. Bad input and I/O errors are never handled with this: they return a
// Status.
#define JARING_RELEASE_ASSERT(cond, msg)                                    \
  do {                                                                      \
    if (!(cond)) ::jaring::base_internal::CheckFailed(__FILE__, __LINE__, #cond, msg); \
  } while (0)
