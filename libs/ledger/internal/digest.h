// SHA-256 over several pieces without concatenating them (OpenSSL's
// libcrypto), shared by the Merkle tree and the hash chain.
#pragma once

#include <initializer_list>
#include <string_view>

#include "libs/ledger/merkle.h"

namespace jaring::ledger_internal {

// SHA-256 of the concatenation of `parts`. Thread-safe: each thread keeps its
// own digest context, so hashing a million leaves does not allocate one per
// hash.
ledger::Hash Sha256Parts(std::initializer_list<std::string_view> parts);

}  // namespace jaring::ledger_internal
