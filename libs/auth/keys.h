// Secret keys on disk (token signing, keyed hashes of NIKs) and the keyed
// hash itself. Keys live with a deployment's data, never in the repository
// or on the log.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace jaring::auth {

// Reads the key at `path`, or makes a new random 32-byte key there (mode
// 0600, fsynced) when the file does not exist. A key shorter than 16 bytes
// is refused.
absl::StatusOr<std::string> LoadOrCreateKey(const std::string& path);

// Reads an existing key (no creation).
absl::StatusOr<std::string> LoadKey(const std::string& path);

// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex digits.
std::string KeyedHash(std::string_view key, std::string_view data);

// A name shown to the public or in exports: each word keeps its first letter
// and its length in code points ("Siti Rahmawati" -> "S*** R********",
// "\u00d1oman" -> "\u00d1****"). A multi-byte first letter is kept whole, so
// the result is valid UTF-8 for any valid input.
std::string MaskName(std::string_view name);

// A KK number or NIK shown masked: the six region digits and the last four
// ("5271011203170001" -> "527101******0001").
std::string MaskNumber(std::string_view number);

}  // namespace jaring::auth
