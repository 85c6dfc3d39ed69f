// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view), so std::string_view must be converted before it is
// passed to absl::StrCat and friends. Our interfaces use std::string_view.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace jaring {

inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace jaring
