// RFC 6962 (Certificate Transparency) Merkle trees over the ledger's journal
// entries, and the proof a family keeps to show that its entry is in a closed
// cycle.
//
// A cycle's entries are fixed by the root of a Merkle tree whose leaves are
// the entries' bytes, in journal order (CycleClosed.merkle_root). Anyone with
// the root can check a family's inclusion proof without the other entries,
// with any RFC 6962 / RFC 9162 implementation: the hashes here are exactly
// the RFC's (libs/ledger/README.md spells them out).
//
// Everything here is pure and thread-safe; MerkleTree is immutable once
// built and may be shared between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace jaring::ledger {

// A SHA-256 digest.
using Hash = std::array<uint8_t, 32>;

// SHA-256 of `bytes`.
Hash Sha256(std::string_view bytes);

// 64 lower-case hex digits.
std::string ToHex(const Hash& hash);

// The hash spelled by exactly 64 lower-case hex digits (what ToHex writes);
// nullopt for anything else, upper case included, so that a hash has one
// spelling and a changed character is never read as the same hash.
std::optional<Hash> HashFromHex(std::string_view hex);

// The hash whose 32 raw bytes are `bytes` (e.g. a proto `bytes` field);
// nullopt when `bytes` is not exactly 32 bytes long.
std::optional<Hash> HashFromBytes(std::string_view bytes);

// The raw 32 bytes of `hash`, as a view into it (valid while `hash` lives).
std::string_view AsBytes(const Hash& hash);

// RFC 6962 section 2.1: SHA-256(0x00 || entry). The prefix keeps a leaf from
// ever hashing like an interior node.
Hash LeafHash(std::string_view entry);

// RFC 6962 section 2.1: SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);

// RFC 6962 MTH over the leaf hashes (LeafHash of each entry), in order. The
// empty tree's root is SHA-256 of the empty string; n > 1 leaves split at the
// largest power of two smaller than n. O(n) time, O(n) scratch memory.
Hash MerkleRoot(absl::Span<const Hash> leaf_hashes);

// RFC 6962 PATH(index, leaf_hashes): the sibling hashes from the leaf up to
// the root. O(n) time per call: to serve many proofs of one tree, build a
// MerkleTree once. `index` must be below leaf_hashes.size(); a larger one is
// a caller bug and stops the process.
std::vector<Hash> InclusionProof(absl::Span<const Hash> leaf_hashes, size_t index);

// The root that `proof` leads to from `leaf_hash` at `index` in a tree of
// `tree_size` leaves, by the verification algorithm of RFC 9162 section
// 2.1.3.2; nullopt when index >= tree_size or the proof has the wrong number
// of hashes for that index and size.
std::optional<Hash> RootFromInclusionProof(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                                           absl::Span<const Hash> proof);

// True when RootFromInclusionProof(...) is `root`.
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size, absl::Span<const Hash> proof,
                     const Hash& root);

// The number of hashes in the inclusion proof of `index` in a tree of
// `tree_size` leaves (index < tree_size); 0 for a one-leaf tree.
size_t InclusionProofLength(uint64_t index, uint64_t tree_size);

// A whole tree kept in memory (every level, about 2n hashes: 64 MB for a
// million leaves), for a service that hands out many proofs of one closed
// cycle: building is O(n), each proof O(log n). Its root and proofs equal
// MerkleRoot and InclusionProof over the same leaves.
class MerkleTree {
 public:
  explicit MerkleTree(std::vector<Hash> leaf_hashes);

  size_t size() const { return levels_.front().size(); }
  const Hash& root() const { return root_; }
  // Leaf hash `index` (< size()).
  const Hash& leaf(size_t index) const;
  // The inclusion proof of leaf `index`; index >= size() is a caller bug
  // and stops the process.
  std::vector<Hash> InclusionProof(size_t index) const;

 private:
  // levels_[0] are the leaves; levels_[k + 1] pairs levels_[k], with an odd
  // last node carried up unchanged (the same tree as RFC 6962's split).
  std::vector<std::vector<Hash>> levels_;
  Hash root_;
};

// What a family keeps: its entry, where it is, and the path to the root of
// a closed cycle. Its text form (EncodeProof) is what the ledger hands out
// (GetInclusionProofResponse.proof) and `jaringctl verify-proof` reads.
struct InclusionProofBundle {
  // The entry's bytes, exactly as hashed into the leaf (LeafHash(entry)).
  std::string entry;
  uint64_t index = 0;
  uint64_t tree_size = 0;
  // Leaf to root.
  std::vector<Hash> path;
  Hash root{};

  friend bool operator==(const InclusionProofBundle&, const InclusionProofBundle&) = default;
};

// The bundle for leaf `index` of `tree`, whose bytes are `entry`.
// Errors: kOutOfRange when index >= tree.size(); kInvalidArgument when
// LeafHash(entry) is not the tree's leaf `index` (the caller passed the
// wrong entry).
absl::StatusOr<InclusionProofBundle> MakeProof(const MerkleTree& tree, size_t index, std::string entry);

// The text form, version 1 (README.md, "Proof text"): LF-terminated lines
//   jaring-ledger-proof v1
//   entry <base64 of the entry, RFC 4648 with padding>
//   index <decimal>
//   size <decimal>
//   root <hex>
//   path <hex>          (one line per path hash, leaf to root; none for size 1)
//   check <hex>         (SHA-256 of all the lines above, LF-terminated)
std::string EncodeProof(const InclusionProofBundle& proof);

// Reads the text form. Every value has one spelling (canonical base64,
// lower-case hex, decimal without leading zeros) and the check line must
// match, so any changed byte is refused here or by VerifyProof. Accepts
// "\r\n" as well as "\n" line ends, and a missing line end after the check
// line. Decoding does not verify the proof: call VerifyProof.
// Errors name the line: "line 3: index: ..." and are
//  - kInvalidArgument: malformed (unknown or missing line, bad value, index
//    not below size, more path lines than any tree needs);
//  - kDataLoss: well formed but the check line does not match the lines
//    above (the text was altered or damaged).
absl::StatusOr<InclusionProofBundle> DecodeProof(std::string_view text);

// OK when the entry, index, size and path lead to the bundle's root.
// Otherwise kDataLoss "proof does not match root <hex>: <why>".
//
// This shows the entry is in the tree whose root is `proof.root`; it proves
// something only once that root is known to be the ledger's: compare it with
// the published cycle root, for which VerifyProofAgainst is the whole check.
absl::Status VerifyProof(const InclusionProofBundle& proof);

// VerifyProof, and the bundle's size and root are the published ones (the
// cycle's CycleClosed entries and merkle_root). RFC 6962 proofs do not bind
// the tree size by themselves (the proof of leaf 0 in a tree of 5 leaves
// also fits sizes 6 to 8), so the size must be compared too. kDataLoss
// naming what differs.
absl::Status VerifyProofAgainst(const InclusionProofBundle& proof, uint64_t published_tree_size,
                                const Hash& published_root);

}  // namespace jaring::ledger
