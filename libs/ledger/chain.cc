#include "libs/ledger/chain.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/ledger/internal/digest.h"

namespace jaring::ledger {

namespace {
constexpr char kChainPrefix = 0x02;
}  // namespace

Hash ChainHash(const Hash& previous, std::string_view entry) {
  return ledger_internal::Sha256Parts({std::string_view(&kChainPrefix, 1), AsBytes(previous), entry});
}

absl::Status ChainVerifier::Break(ChainBreak b) {
  std::string message;
  if (b.kind == ChainBreak::Kind::kPreviousLink) {
    std::string predecessor;
    if (b.index == 0) {
      predecessor = b.expected == kGenesis ? std::string("the chain starts at the genesis hash (32 zero bytes)")
                                           : absl::StrCat("the chain starts at ", ToHex(b.expected));
    } else {
      predecessor = absl::StrCat("entry ", b.index - 1, " hashes to ", ToHex(b.expected));
    }
    message = absl::StrCat("entry ", b.index, ": previous-link: names ", ToHex(b.claimed),
                           " as its predecessor's hash, but ", predecessor);
  } else {
    message = absl::StrCat("entry ", b.index, ": hash: claims ", ToHex(b.claimed), ", but its bytes hash to ",
                           ToHex(b.expected));
  }
  first_break_ = std::move(b);
  status_ = absl::DataLossError(message);
  return status_;
}

absl::Status ChainVerifier::Add(std::string_view entry, const Hash& claimed_previous) {
  if (!status_.ok()) return status_;
  if (claimed_previous != head_) {
    return Break({.index = next_index_, .kind = ChainBreak::Kind::kPreviousLink, .expected = head_,
                  .claimed = claimed_previous});
  }
  head_ = ChainHash(head_, entry);
  ++next_index_;
  return absl::OkStatus();
}

absl::Status ChainVerifier::Add(std::string_view entry, const Hash& claimed_previous, const Hash& claimed_hash) {
  if (!status_.ok()) return status_;
  if (claimed_previous != head_) {
    return Break({.index = next_index_, .kind = ChainBreak::Kind::kPreviousLink, .expected = head_,
                  .claimed = claimed_previous});
  }
  const Hash computed = ChainHash(head_, entry);
  if (claimed_hash != computed) {
    return Break({.index = next_index_, .kind = ChainBreak::Kind::kHash, .expected = computed,
                  .claimed = claimed_hash});
  }
  head_ = computed;
  ++next_index_;
  return absl::OkStatus();
}

}  // namespace jaring::ledger
