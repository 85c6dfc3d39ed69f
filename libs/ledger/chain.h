// The hash chain that links the ledger's journal entries in order.
//
// With H(-1) = kGenesis (32 zero bytes) and H(n) = ChainHash(H(n-1), bytes of
// entry n), each entry names H(n-1) as its predecessor (LedgerEntry.
// previous_hash). Removing, inserting, reordering or changing any entry then
// breaks a link at or after it, which ChainVerifier finds by replaying the
// journal from its start (or from a head already trusted).
//
// Pure functions; ChainVerifier is a single-owner object (not thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "libs/ledger/merkle.h"

namespace jaring::ledger {

// The predecessor of the first entry.
inline constexpr Hash kGenesis{};

// SHA-256(0x02 || previous || entry). The 0x02 prefix keeps chain hashes
// apart from the Merkle tree's leaf (0x00) and node (0x01) hashes of the
// same bytes.
Hash ChainHash(const Hash& previous, std::string_view entry);

// Where and how a chain first broke.
struct ChainBreak {
  enum class Kind {
    // The entry's claimed predecessor hash is not the hash of the entry
    // before it (an entry was dropped, inserted or moved before this one).
    kPreviousLink,
    // The entry's claimed own hash is not ChainHash of its predecessor and
    // its bytes (this entry, or its recorded hash, was changed).
    kHash,
  };
  // 0-based position in the chain (counting from the resume point's index).
  uint64_t index = 0;
  Kind kind = Kind::kPreviousLink;
  // What the chain says the hash must be, and what the entry claimed.
  Hash expected{};
  Hash claimed{};

  friend bool operator==(const ChainBreak&, const ChainBreak&) = default;
};

// Replays a chain one entry at a time, in order. After the first break it
// stops: first_break() keeps it, and every later Add returns the same error
// without looking at its arguments, so what is reported is always the first
// break, never a consequence of it.
class ChainVerifier {
 public:
  // A chain that starts at entry 0 after kGenesis.
  ChainVerifier() = default;
  // A chain whose entries before `next_index` were verified already (or are
  // trusted) and whose last hash is `head`.
  ChainVerifier(uint64_t next_index, const Hash& head) : next_index_(next_index), head_(head) {}

  // Checks the next entry, whose bytes are `entry`, which claims that its
  // predecessor hashes to `claimed_previous` and that it hashes to
  // `claimed_hash`. Checks the previous-link first, then the hash.
  // kDataLoss on a break, naming the entry's index, which link broke, and
  // both hashes:
  //   "entry 5: previous-link: names <hex> as its predecessor's hash, but
  //    entry 4 hashes to <hex>"
  //   "entry 5: hash: claims <hex>, but its bytes hash to <hex>"
  absl::Status Add(std::string_view entry, const Hash& claimed_previous, const Hash& claimed_hash);

  // For journals whose entries store only the back link (LedgerEntry has
  // previous_hash but not its own hash): checks the previous-link only. A
  // changed entry then shows as a previous-link break at the entry after it;
  // a change to the last entry shows only against a hash published or kept
  // elsewhere (compare head()).
  absl::Status Add(std::string_view entry, const Hash& claimed_previous);

  // Entries accepted so far (plus the starting index).
  uint64_t next_index() const { return next_index_; }
  // The hash of the last accepted entry (kGenesis before the first).
  const Hash& head() const { return head_; }
  const std::optional<ChainBreak>& first_break() const { return first_break_; }
  // OK, or the error of the first break.
  const absl::Status& status() const { return status_; }

 private:
  absl::Status Break(ChainBreak b);

  uint64_t next_index_ = 0;
  Hash head_ = kGenesis;
  std::optional<ChainBreak> first_break_;
  absl::Status status_;
};

}  // namespace jaring::ledger
