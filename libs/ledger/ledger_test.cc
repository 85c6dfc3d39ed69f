// libs/ledger: RFC 6962 trees and proofs against the published test vectors
// and the RFC's own recursive definitions, the proof text (every changed byte
// is refused), the hash chain (every kind of break is found where it is),
// and the channel's CSV files (every kind of bad line is named).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/base/strings.h"
#include "libs/ledger/chain.h"
#include "libs/ledger/channel_files.h"
#include "libs/ledger/merkle.h"
#include "libs/testing/status_matchers.h"

namespace jaring::ledger {

// Readable failure messages (found by argument-dependent lookup, so outside
// the anonymous namespace).
void PrintTo(const LineError& e, std::ostream* os) { *os << ToString(e); }
void PrintTo(const StatementLine& l, std::ostream* os) {
  *os << "{line " << l.line_number << ", " << l.reference << ", " << StatusName(l.status) << ", " << l.amount
      << ", " << l.channel_reference << ", " << l.settled_on << "}";
}
void PrintTo(const InstructionLine& l, std::ostream* os) {
  const PaymentInstruction& i = l.instruction;
  *os << "{line " << l.line_number << ", " << i.reference << ", " << i.kk_number << ", " << i.region_code << ", "
      << i.recipient_name << ", " << i.program << ", " << i.period << ", " << i.amount << "}";
}
void PrintTo(const InclusionProofBundle& p, std::ostream* os) { *os << EncodeProof(p); }

namespace {

using ::jaring::testing::IsOk;
using ::jaring::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Hash H(std::string_view hex) {
  std::optional<Hash> h = HashFromHex(hex);
  EXPECT_TRUE(h.has_value()) << hex;
  return h.value_or(Hash{});
}

std::string Bytes(const Hash& h) { return std::string(AsBytes(h)); }

std::vector<Hash> LeafHashes(const std::vector<std::string>& entries) {
  std::vector<Hash> out;
  for (const std::string& e : entries) out.push_back(LeafHash(e));
  return out;
}

// Entries "entry-0", "entry-1", ... of a tree of `n`.
std::vector<std::string> Entries(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(absl::StrCat("entry-", i));
  return out;
}

// ---------------------------------------------------------------------------
// RFC 6962, written out as the RFC states it (recursive, quadratic-free
// enough for small trees), to check the library against something that
// shares none of its code.

Hash ReferenceMth(const std::vector<Hash>& d, size_t begin, size_t end) {
  const size_t n = end - begin;
  if (n == 0) return Sha256("");
  if (n == 1) return d[begin];
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return Sha256(absl::StrCat(std::string(1, '\x01'), Bytes(ReferenceMth(d, begin, begin + k)),
                             Bytes(ReferenceMth(d, begin + k, end))));
}

// The sides of RFC 6962 PATH(m, D[n]), leaf first: 'R' when the sibling is
// on the right, 'L' when it is on the left.
std::string ReferenceSides(size_t m, size_t n) {
  if (n <= 1) return "";
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  if (m < k) return ReferenceSides(m, k) + "R";
  return ReferenceSides(m - k, n - k) + "L";
}

// The certificate-transparency reference tree (RFC 6962 test data, as in
// transparency-dev/merkle proof/verify_test.go and
// certificate-transparency-go): leaves and the roots of its first 0..8
// leaves.
const std::vector<std::string> kCtLeaves = {
    std::string(),
    std::string("\x00", 1),
    "\x10",
    "\x20\x21",
    "\x30\x31",
    "\x40\x41\x42\x43",
    "\x50\x51\x52\x53\x54\x55\x56\x57",
    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
};
const char* const kCtRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

// ---------------------------------------------------------------------------
// Hashes.

TEST(HashTest, Sha256AndHex) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const Hash h = Sha256("abc");
  EXPECT_EQ(HashFromHex(ToHex(h)), h);
  EXPECT_EQ(HashFromBytes(AsBytes(h)), h);
}

TEST(HashTest, HexAndBytesHaveOneSpelling) {
  const std::string hex = ToHex(Sha256("abc"));
  EXPECT_EQ(HashFromHex(absl::StrReplaceAll(hex, {{"ba", "BA"}})), std::nullopt) << "upper case";
  EXPECT_EQ(HashFromHex(hex.substr(1)), std::nullopt);
  EXPECT_EQ(HashFromHex(hex + "0"), std::nullopt);
  EXPECT_EQ(HashFromHex(" " + hex.substr(1)), std::nullopt);
  EXPECT_EQ(HashFromHex("g" + hex.substr(1)), std::nullopt);
  EXPECT_EQ(HashFromHex(""), std::nullopt);
  EXPECT_EQ(HashFromBytes(std::string(31, 'x')), std::nullopt);
  EXPECT_EQ(HashFromBytes(std::string(33, 'x')), std::nullopt);
  EXPECT_EQ(HashFromBytes(""), std::nullopt);
}

TEST(HashTest, LeafAndNodeHashesAreTheRfcConstructions) {
  EXPECT_EQ(ToHex(LeafHash("")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(LeafHash("abc"), Sha256(std::string("\x00" "abc", 4)));
  const Hash a = Sha256("a");
  const Hash b = Sha256("b");
  EXPECT_EQ(NodeHash(a, b), Sha256(absl::StrCat("\x01", Bytes(a), Bytes(b))));
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
}

// ---------------------------------------------------------------------------
// Roots.

TEST(MerkleRootTest, EmptyTreeIsSha256OfNothing) {
  EXPECT_EQ(ToHex(MerkleRoot({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(MerkleTree({}).root(), MerkleRoot({}));
  EXPECT_EQ(MerkleTree({}).size(), 0u);
}

TEST(MerkleRootTest, CertificateTransparencyReferenceRoots) {
  const std::vector<Hash> leaves = LeafHashes(kCtLeaves);
  for (size_t n = 0; n <= leaves.size(); ++n) {
    const std::vector<Hash> first(leaves.begin(), leaves.begin() + n);
    EXPECT_EQ(ToHex(MerkleRoot(first)), kCtRoots[n]) << "size " << n;
    EXPECT_EQ(ToHex(MerkleTree(first).root()), kCtRoots[n]) << "size " << n;
  }
}

TEST(MerkleRootTest, OneTwoAndThreeLeavesByHand) {
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  const Hash c = LeafHash("c");
  EXPECT_EQ(a, Sha256(std::string("\x00" "a", 2)));
  EXPECT_EQ(MerkleRoot({a}), a);
  EXPECT_EQ(MerkleRoot({a, b}), Sha256(absl::StrCat("\x01", Bytes(a), Bytes(b))));
  // Three leaves split 2 + 1: the third is not paired with a copy of itself.
  EXPECT_EQ(MerkleRoot({a, b, c}), Sha256(absl::StrCat("\x01", Bytes(NodeHash(a, b)), Bytes(c))));
  EXPECT_EQ(ToHex(MerkleRoot({a, b, c})), "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1")
      << "pins the value computed from the definitions (Python hashlib)";
}

TEST(MerkleRootTest, MatchesTheRecursiveDefinitionUpTo130Leaves) {
  const std::vector<Hash> leaves = LeafHashes(Entries(130));
  for (size_t n = 0; n <= leaves.size(); ++n) {
    const std::vector<Hash> first(leaves.begin(), leaves.begin() + n);
    const Hash want = ReferenceMth(first, 0, n);
    EXPECT_EQ(MerkleRoot(first), want) << n;
    EXPECT_EQ(MerkleTree(first).root(), want) << n;
  }
}

// ---------------------------------------------------------------------------
// Inclusion proofs.

struct CtInclusion {
  uint64_t index;
  uint64_t size;
  std::vector<const char*> path;
};

// transparency-dev/merkle proof/verify_test.go inclusionProofs (its leaf
// numbers are 1-based; these indexes are 0-based).
const std::vector<CtInclusion> kCtInclusion = {
    {0, 1, {}},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

TEST(InclusionProofTest, CertificateTransparencyReferenceProofs) {
  const std::vector<Hash> leaves = LeafHashes(kCtLeaves);
  const Hash some_hash = H("abacaba000000000000000000000000000000000000000000060061e00123456");
  for (const CtInclusion& v : kCtInclusion) {
    SCOPED_TRACE(absl::StrCat("index ", v.index, " size ", v.size));
    std::vector<Hash> want;
    for (const char* h : v.path) want.push_back(H(h));
    const std::vector<Hash> first(leaves.begin(), leaves.begin() + v.size);
    EXPECT_EQ(InclusionProof(first, v.index), want);
    EXPECT_EQ(MerkleTree(first).InclusionProof(v.index), want);
    const Hash root = H(kCtRoots[v.size]);
    const Hash leaf = leaves[v.index];
    EXPECT_TRUE(VerifyInclusion(leaf, v.index, v.size, want, root));

    // The probes of the reference implementation's corruptInclusionProof.
    EXPECT_FALSE(VerifyInclusion(leaf, v.index - 1, v.size, want, root));
    EXPECT_FALSE(VerifyInclusion(leaf, v.index + 1, v.size, want, root));
    EXPECT_FALSE(VerifyInclusion(leaf, v.index ^ 2, v.size, want, root));
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size * 2, want, root));
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size / 2, want, root));
    EXPECT_FALSE(VerifyInclusion(LeafHash("WrongLeaf"), v.index, v.size, want, root));
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, want, Sha256("")));
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, want, some_hash));
    std::vector<Hash> longer = want;
    longer.push_back(root);
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, longer, root));
    longer = want;
    longer.insert(longer.begin(), root);
    EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, longer, root));
    for (size_t i = 0; i < want.size(); ++i) {
      std::vector<Hash> bad = want;
      bad[i][0] ^= 8;
      EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, bad, root)) << "bit flipped in path[" << i << "]";
    }
    if (!want.empty()) {
      EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, absl::MakeConstSpan(want).first(want.size() - 1), root));
    }
    if (want.size() > 1) {
      std::vector<Hash> inserted = want;
      inserted.insert(inserted.begin() + 1, some_hash);
      EXPECT_FALSE(VerifyInclusion(leaf, v.index, v.size, inserted, root));
    }
  }
}

TEST(InclusionProofTest, EveryIndexOfEverySizeUpTo70) {
  const std::vector<Hash> all = LeafHashes(Entries(70));
  for (size_t n = 1; n <= all.size(); ++n) {
    const std::vector<Hash> leaves(all.begin(), all.begin() + n);
    const Hash root = MerkleRoot(leaves);
    const MerkleTree tree(leaves);
    ASSERT_EQ(tree.root(), root);
    for (size_t i = 0; i < n; ++i) {
      SCOPED_TRACE(absl::StrCat("index ", i, " size ", n));
      const std::vector<Hash> proof = InclusionProof(leaves, i);
      ASSERT_EQ(tree.InclusionProof(i), proof);
      ASSERT_EQ(proof.size(), ReferenceSides(i, n).size());
      ASSERT_EQ(InclusionProofLength(i, n), proof.size());
      ASSERT_TRUE(VerifyInclusion(leaves[i], i, n, proof, root));

      // A changed leaf.
      EXPECT_FALSE(VerifyInclusion(LeafHash("not an entry"), i, n, proof, root));
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion(leaves[(i + 1) % n], i, n, proof, root));
      }
      // A changed index (every other one).
      for (size_t j = 0; j < n; ++j) {
        if (j != i) {
          EXPECT_FALSE(VerifyInclusion(leaves[i], j, n, proof, root)) << "index " << j;
        }
      }
      EXPECT_FALSE(VerifyInclusion(leaves[i], n, n, proof, root));
      // A changed size: refused unless the audit path of `i` has exactly
      // the same sides in a tree of that size (RFC 6962 proofs do not bind
      // the size; VerifyProofAgainst compares it with the published one).
      for (size_t m = 1; m <= 72; ++m) {
        if (m == n) continue;
        const bool same_shape = i < m && ReferenceSides(i, m) == ReferenceSides(i, n);
        EXPECT_EQ(VerifyInclusion(leaves[i], i, m, proof, root), same_shape) << "size " << m;
      }
      EXPECT_FALSE(VerifyInclusion(leaves[i], i, 0, proof, root));
      // A changed path element.
      for (size_t k = 0; k < proof.size(); ++k) {
        std::vector<Hash> bad = proof;
        bad[k][31] ^= 1;
        EXPECT_FALSE(VerifyInclusion(leaves[i], i, n, bad, root)) << "path[" << k << "]";
      }
      // A changed root.
      Hash bad_root = root;
      bad_root[0] ^= 0x80;
      EXPECT_FALSE(VerifyInclusion(leaves[i], i, n, proof, bad_root));
    }
  }
}

TEST(InclusionProofTest, SizeIsNotBoundByTheProofAlone) {
  // The proof of leaf 0 in a tree of 5 has three right siblings; so would
  // leaf 0 of a tree of 6, 7 or 8. Only the published size tells them apart.
  const std::vector<Hash> leaves = LeafHashes(Entries(5));
  const std::vector<Hash> proof = InclusionProof(leaves, 0);
  const Hash root = MerkleRoot(leaves);
  EXPECT_FALSE(VerifyInclusion(leaves[0], 0, 4, proof, root));
  for (uint64_t m : {5, 6, 7, 8}) EXPECT_TRUE(VerifyInclusion(leaves[0], 0, m, proof, root)) << m;
  EXPECT_FALSE(VerifyInclusion(leaves[0], 0, 9, proof, root));
}

TEST(InclusionProofTest, RootFromInclusionProofRefusesImpossibleShapes) {
  const Hash leaf = LeafHash("x");
  EXPECT_EQ(RootFromInclusionProof(leaf, 0, 0, {}), std::nullopt);
  EXPECT_EQ(RootFromInclusionProof(leaf, 1, 1, {}), std::nullopt);
  EXPECT_EQ(RootFromInclusionProof(leaf, 0, 1, {}), leaf);
  EXPECT_EQ(RootFromInclusionProof(leaf, 0, 1, {leaf}), std::nullopt) << "too long";
  EXPECT_EQ(RootFromInclusionProof(leaf, 0, 2, {}), std::nullopt) << "too short";
  EXPECT_FALSE(VerifyInclusion(leaf, 0, 1, {}, Sha256("")));
  EXPECT_FALSE(VerifyInclusion(leaf, UINT64_MAX, UINT64_MAX, {}, leaf));
}

TEST(InclusionProofTest, HugeSizesNeedAtMost64Hashes) {
  EXPECT_EQ(InclusionProofLength(0, UINT64_MAX), 64u);
  EXPECT_EQ(InclusionProofLength(UINT64_MAX - 1, UINT64_MAX), 63u);
  EXPECT_EQ(InclusionProofLength(0, uint64_t{1} << 63), 63u);
  EXPECT_EQ(InclusionProofLength(0, 1), 0u);
  EXPECT_EQ(InclusionProofLength(3, 3), 0u) << "index not below size";
}

// ---------------------------------------------------------------------------
// Proof bundles and their text.

// The proof of "entitlement-2" in the tree of entitlement-1..3, as version 1
// writes it. Every hash here was computed independently (Python hashlib)
// from the definitions in README.md: this pins the format.
constexpr std::string_view kGoldenProof =
    "jaring-ledger-proof v1\n"
    "entry ZW50aXRsZW1lbnQtMg==\n"
    "index 1\n"
    "size 3\n"
    "root 3019f948c3bf43e0d58f0c5932ff51931e90f4526df7f72321382b006f4334c1\n"
    "path c839e0770f4e7aae0e7763a475d5802b85f7b32164dde4bc21c524f563a23fa4\n"
    "path 9b86bcbb42b8fab8ea45c94ee56a9a3195db62c444154f5fc92a3db1c44ddc60\n"
    "check 4eefd371a8d3f3c8bd509df0cd1734dfd88dd88c215ae65467d50a238e098cb4\n";

MerkleTree TreeOf(const std::vector<std::string>& entries) { return MerkleTree(LeafHashes(entries)); }

TEST(ProofTextTest, GoldenEncoding) {
  const std::vector<std::string> entries = {"entitlement-1", "entitlement-2", "entitlement-3"};
  const MerkleTree tree = TreeOf(entries);
  ASSERT_OK_AND_ASSIGN(InclusionProofBundle proof, MakeProof(tree, 1, entries[1]));
  EXPECT_EQ(EncodeProof(proof), kGoldenProof);
  ASSERT_OK_AND_ASSIGN(InclusionProofBundle decoded, DecodeProof(kGoldenProof));
  EXPECT_EQ(decoded, proof);
  EXPECT_OK(VerifyProof(decoded));
  EXPECT_OK(VerifyProofAgainst(decoded, 3, tree.root()));
}

TEST(ProofTextTest, RoundTripOfEveryIndexWithBinaryEntries) {
  std::vector<std::string> entries;
  for (int i = 0; i < 13; ++i) {
    entries.push_back(absl::StrCat(std::string("\x00\n\r,\"\xff", 6), i, std::string(static_cast<size_t>(i), 'z')));
  }
  entries.push_back("");  // an empty entry encodes as "entry " with nothing after
  const MerkleTree tree = TreeOf(entries);
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(InclusionProofBundle proof, MakeProof(tree, i, entries[i]));
    const std::string text = EncodeProof(proof);
    ASSERT_OK_AND_ASSIGN(InclusionProofBundle decoded, DecodeProof(text));
    EXPECT_EQ(decoded, proof);
    EXPECT_OK(VerifyProof(decoded));
    EXPECT_OK(VerifyProofAgainst(decoded, entries.size(), tree.root()));
  }
}

TEST(ProofTextTest, CrlfAndAMissingFinalLineEndAreRead) {
  ASSERT_OK_AND_ASSIGN(InclusionProofBundle want, DecodeProof(kGoldenProof));
  EXPECT_THAT(DecodeProof(absl::StrReplaceAll(Av(kGoldenProof), {{"\n", "\r\n"}})), IsOk());
  EXPECT_EQ(*DecodeProof(absl::StrReplaceAll(Av(kGoldenProof), {{"\n", "\r\n"}})), want);
  EXPECT_EQ(*DecodeProof(kGoldenProof.substr(0, kGoldenProof.size() - 1)), want);
}

TEST(ProofTextTest, EveryChangedByteIsRefused) {
  // A 21-entry tree: the proof of entry 13 has 5 path lines.
  const std::vector<std::string> entries = Entries(21);
  const MerkleTree tree = TreeOf(entries);
  ASSERT_OK_AND_ASSIGN(InclusionProofBundle proof, MakeProof(tree, 13, entries[13]));
  const std::string text = EncodeProof(proof);
  ASSERT_EQ(proof.path.size(), 5u);
  int decode_refused = 0;
  int verify_refused = 0;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    for (int v = 0; v < 256; ++v) {
      if (static_cast<char>(v) == text[pos]) continue;
      std::string changed = text;
      changed[pos] = static_cast<char>(v);
      absl::StatusOr<InclusionProofBundle> decoded = DecodeProof(changed);
      if (!decoded.ok()) {
        ++decode_refused;
        continue;
      }
      ASSERT_THAT(VerifyProof(*decoded), Not(IsOk()))
          << "byte " << pos << " changed to " << v << " was accepted:\n" << changed;
      ++verify_refused;
    }
  }
  EXPECT_EQ(decode_refused + verify_refused, static_cast<int>(text.size()) * 255);
}

TEST(ProofTextTest, AnEditorWhoRecomputesTheCheckIsCaughtByThePublishedRoot) {
  // The check line only catches damage; someone who edits a proof on
  // purpose can recompute it. Then VerifyProofAgainst (the published size
  // and root) must still refuse every edit.
  const std::vector<std::string> entries = Entries(21);
  const MerkleTree tree = TreeOf(entries);
  ASSERT_OK_AND_ASSIGN(InclusionProofBundle proof, MakeProof(tree, 13, entries[13]));
  const std::string text = EncodeProof(proof);
  const size_t body_size = text.rfind("check ");
  int size_edits_that_verify = 0;
  for (size_t pos = 0; pos < body_size; ++pos) {
    for (int v = 0; v < 256; ++v) {
      if (static_cast<char>(v) == text[pos]) continue;
      std::string body = text.substr(0, body_size);
      body[pos] = static_cast<char>(v);
      const std::string changed = absl::StrCat(body, "check ", ToHex(Sha256(body)), "\n");
      absl::StatusOr<InclusionProofBundle> decoded = DecodeProof(changed);
      if (!decoded.ok()) continue;
      ASSERT_THAT(VerifyProofAgainst(*decoded, entries.size(), tree.root()),
                  StatusIs(absl::StatusCode::kDataLoss))
          << "byte " << pos << " changed to " << v;
      if (VerifyProof(*decoded).ok()) ++size_edits_that_verify;
    }
  }
  // "size 21" -> "size 22", "size 23", ... verify on their own (leaf 13 has
  // the same audit path in those trees) and are caught by the size only.
  EXPECT_GT(size_edits_that_verify, 0);
}

TEST(ProofTextTest, DecodeErrorsNameTheLine) {
  const std::string good(kGoldenProof);
  const auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  struct Case {
    std::string text;
    absl::StatusCode code;
    std::string message;
  };
  const std::string root_hex = "3019f948c3bf43e0d58f0c5932ff51931e90f4526df7f72321382b006f4334c1";
  const std::vector<Case> cases = {
      {"", absl::StatusCode::kInvalidArgument, "line 1: empty proof"},
      {replaced("v1", "v2"), absl::StatusCode::kInvalidArgument, "line 1: expected \"jaring-ledger-proof v1\""},
      {"jaring-ledger-proof v1\nentry YQ==\n", absl::StatusCode::kInvalidArgument, "line 3: missing"},
      {replaced("entry ZW50aXRsZW1lbnQtMg==", "entry ZW50aXRsZW1lbnQtMg"), absl::StatusCode::kInvalidArgument,
       "line 2: entry: not canonical base64"},
      {replaced("entry ZW50aXRsZW1lbnQtMg==", "entry ZW50aXRsZW1lbnQtMh=="), absl::StatusCode::kInvalidArgument,
       "line 2: entry: not canonical base64"},
      {replaced("entry ", "entry: "), absl::StatusCode::kInvalidArgument, "line 2: expected \"entry <value>\""},
      {replaced("index 1", "index 01"), absl::StatusCode::kInvalidArgument,
       "line 3: index: \"01\" is not a decimal number"},
      {replaced("index 1", "index +1"), absl::StatusCode::kInvalidArgument, "line 3: index: \"+1\""},
      {replaced("index 1", "index 3"), absl::StatusCode::kInvalidArgument,
       "line 4: size: 3 is not above the index 3"},
      {replaced("size 3", "size 18446744073709551616"), absl::StatusCode::kInvalidArgument,
       "line 4: size: \"18446744073709551616\" is larger than 2^64 - 1"},
      {replaced("root 3019", "root 3O19"), absl::StatusCode::kInvalidArgument,
       "line 5: root: \"3O19"},
      {replaced("root 3019f9", "root 3019F9"), absl::StatusCode::kInvalidArgument,
       "is not 64 lower-case hex digits"},
      {replaced("path c839", "path  c839"), absl::StatusCode::kInvalidArgument, "line 6: path:"},
      {replaced("path 9b86", "pat 9b86"), absl::StatusCode::kInvalidArgument,
       "line 7: expected \"path <hex>\" or \"check <hex>\""},
      {good.substr(0, good.find("check")), absl::StatusCode::kInvalidArgument, "line 8: missing the check line"},
      {good + "\n", absl::StatusCode::kInvalidArgument, "line 9: text after the check line"},
      {good + "path " + root_hex + "\n", absl::StatusCode::kInvalidArgument, "line 9: text after the check line"},
      {replaced("check 4eef", "check 4eee"), absl::StatusCode::kDataLoss,
       "line 8: check: 4eeed371a8d3f3c8bd509df0cd1734dfd88dd88c215ae65467d50a238e098cb4 does not match"},
      {replaced("index 1", "index 2"), absl::StatusCode::kDataLoss, "the proof was altered or damaged"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(DecodeProof(c.text), StatusIs(c.code, HasSubstr(c.message))) << c.text;
  }

  std::string many = "jaring-ledger-proof v1\nentry YQ==\nindex 0\nsize 18446744073709551615\nroot " + root_hex + "\n";
  for (int i = 0; i < 65; ++i) absl::StrAppend(&many, "path ", root_hex, "\n");
  EXPECT_THAT(DecodeProof(many), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("line 70: path: more than 64 path lines")));
}

TEST(ProofTextTest, VerifyProofSaysWhy) {
  ASSERT_OK_AND_ASSIGN(InclusionProofBundle good, DecodeProof(kGoldenProof));
  const std::string root_hex = ToHex(good.root);

  InclusionProofBundle p = good;
  p.entry = "entitlement-4";
  EXPECT_THAT(VerifyProof(p), StatusIs(absl::StatusCode::kDataLoss,
                                       HasSubstr(absl::StrCat("proof does not match root ", root_hex,
                                                              ": the entry and path lead to "))));
  p = good;
  p.path.pop_back();
  EXPECT_THAT(VerifyProof(p), StatusIs(absl::StatusCode::kDataLoss,
                                       HasSubstr("entry 1 of a tree of 3 needs 2 path hashes, the proof has 1")));
  p = good;
  p.index = 3;
  EXPECT_THAT(VerifyProof(p), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("index 3 is not below the tree size 3")));
  p = good;
  p.index = 0;
  EXPECT_THAT(VerifyProof(p), StatusIs(absl::StatusCode::kDataLoss));
  p = good;
  p.tree_size = 5;
  EXPECT_THAT(VerifyProof(p), StatusIs(absl::StatusCode::kDataLoss));
  p = good;
  std::swap(p.path[0], p.path[1]);
  EXPECT_THAT(VerifyProof(p), StatusIs(absl::StatusCode::kDataLoss));
  p = good;
  p.root[5] ^= 1;
  EXPECT_THAT(VerifyProof(p), StatusIs(absl::StatusCode::kDataLoss));

  EXPECT_OK(VerifyProofAgainst(good, 3, good.root));
  Hash other = good.root;
  other[0] ^= 1;
  EXPECT_THAT(VerifyProofAgainst(good, 3, other),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("is not the published root")));
  EXPECT_THAT(VerifyProofAgainst(good, 4, good.root),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("proof's tree size 3 is not the published size 4")));
}

TEST(ProofTextTest, MakeProofChecksItsArguments) {
  const std::vector<std::string> entries = Entries(4);
  const MerkleTree tree = TreeOf(entries);
  EXPECT_THAT(MakeProof(tree, 4, entries[0]), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(MakeProof(tree, 1, entries[0]),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not leaf 1 of the tree")));
}

// ---------------------------------------------------------------------------
// Hash chain.

struct Journal {
  std::vector<std::string> entries;
  std::vector<Hash> previous;  // what each entry claims as its predecessor
  std::vector<Hash> hashes;    // what each entry claims as its own hash
};

Journal MakeJournal(size_t n) {
  Journal j;
  Hash prev = kGenesis;
  for (size_t i = 0; i < n; ++i) {
    j.entries.push_back(absl::StrCat("journal entry ", i));
    j.previous.push_back(prev);
    prev = ChainHash(prev, j.entries.back());
    j.hashes.push_back(prev);
  }
  return j;
}

// Feeds the journal in order; the status of the first failing Add (or OK).
absl::Status Replay(const Journal& j, ChainVerifier* v) {
  for (size_t i = 0; i < j.entries.size(); ++i) {
    absl::Status s = v->Add(j.entries[i], j.previous[i], j.hashes[i]);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// The same with only back links (as LedgerEntry stores them).
absl::Status ReplayLinks(const Journal& j, ChainVerifier* v) {
  for (size_t i = 0; i < j.entries.size(); ++i) {
    absl::Status s = v->Add(j.entries[i], j.previous[i]);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

TEST(ChainTest, ChainHashIsTheConstruction) {
  EXPECT_EQ(kGenesis, Hash{});
  EXPECT_EQ(ToHex(ChainHash(kGenesis, "entry-0")),
            "5320ca05ad27283acf91348932dcec37b8ce97df1ee14dceb48da49b174e17de");  // Python hashlib
  const Hash prev = Sha256("p");
  EXPECT_EQ(ChainHash(prev, "e"), Sha256(absl::StrCat("\x02", Bytes(prev), "e")));
  EXPECT_NE(ChainHash(kGenesis, ""), LeafHash(std::string(32, '\0')));
}

TEST(ChainTest, AGoodChainVerifies) {
  const Journal j = MakeJournal(10);
  ChainVerifier v;
  EXPECT_OK(Replay(j, &v));
  EXPECT_EQ(v.next_index(), 10u);
  EXPECT_EQ(v.head(), j.hashes.back());
  EXPECT_EQ(v.first_break(), std::nullopt);
  EXPECT_OK(v.status());

  ChainVerifier links;
  EXPECT_OK(ReplayLinks(j, &links));
  EXPECT_EQ(links.head(), j.hashes.back());
}

TEST(ChainTest, AChangedEntryIsAHashBreakAtItsIndex) {
  Journal j = MakeJournal(10);
  j.entries[6] = "journal entry 6, amount changed";
  ChainVerifier v;
  EXPECT_THAT(Replay(j, &v), StatusIs(absl::StatusCode::kDataLoss,
                                      HasSubstr(absl::StrCat("entry 6: hash: claims ", ToHex(j.hashes[6]),
                                                             ", but its bytes hash to "))));
  ASSERT_TRUE(v.first_break().has_value());
  EXPECT_EQ(v.first_break()->index, 6u);
  EXPECT_EQ(v.first_break()->kind, ChainBreak::Kind::kHash);
  EXPECT_EQ(v.first_break()->claimed, j.hashes[6]);
  EXPECT_EQ(v.first_break()->expected, ChainHash(j.hashes[5], j.entries[6]));
  EXPECT_EQ(v.next_index(), 6u);

  // With back links only, the change shows at the next entry's link.
  ChainVerifier links;
  EXPECT_THAT(ReplayLinks(j, &links),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 7: previous-link: names ")));
  EXPECT_EQ(links.first_break()->index, 7u);
  EXPECT_EQ(links.first_break()->kind, ChainBreak::Kind::kPreviousLink);
}

TEST(ChainTest, AChangedEntryWithItsHashRecomputedBreaksTheNextLink) {
  Journal j = MakeJournal(10);
  j.entries[6] = "journal entry 6, amount changed";
  j.hashes[6] = ChainHash(j.previous[6], j.entries[6]);
  ChainVerifier v;
  EXPECT_THAT(Replay(j, &v), StatusIs(absl::StatusCode::kDataLoss,
                                      HasSubstr(absl::StrCat("entry 7: previous-link: names ", ToHex(j.previous[7]),
                                                             " as its predecessor's hash, but entry 6 hashes to ",
                                                             ToHex(j.hashes[6])))));
  EXPECT_EQ(v.first_break()->index, 7u);
}

TEST(ChainTest, ADroppedEntryIsALinkBreakWhereItWas) {
  Journal j = MakeJournal(10);
  for (auto* list : {&j.previous, &j.hashes}) list->erase(list->begin() + 4);
  j.entries.erase(j.entries.begin() + 4);
  ChainVerifier v;
  EXPECT_THAT(Replay(j, &v), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 4: previous-link: ")));
  EXPECT_EQ(v.first_break(), (ChainBreak{.index = 4,
                                         .kind = ChainBreak::Kind::kPreviousLink,
                                         .expected = MakeJournal(10).hashes[3],
                                         .claimed = MakeJournal(10).hashes[4]}));
}

TEST(ChainTest, ASwappedPairIsALinkBreakAtTheFirstOfThem) {
  Journal j = MakeJournal(10);
  std::swap(j.entries[2], j.entries[3]);
  std::swap(j.previous[2], j.previous[3]);
  std::swap(j.hashes[2], j.hashes[3]);
  ChainVerifier v;
  EXPECT_THAT(Replay(j, &v), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 2: previous-link: ")));
  EXPECT_EQ(v.first_break()->index, 2u);
  ChainVerifier links;
  EXPECT_THAT(ReplayLinks(j, &links), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 2: previous-link: ")));
}

TEST(ChainTest, AnInsertedEntryIsALinkBreakAfterIt) {
  Journal j = MakeJournal(5);
  // A forged entry that links correctly to entry 2 but that entry 3 does not
  // link to.
  j.entries.insert(j.entries.begin() + 3, "forged");
  j.previous.insert(j.previous.begin() + 3, j.hashes[2]);
  j.hashes.insert(j.hashes.begin() + 3, ChainHash(j.hashes[2], "forged"));
  ChainVerifier v;
  EXPECT_THAT(Replay(j, &v), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 4: previous-link: ")));
}

TEST(ChainTest, TheFirstEntryMustFollowGenesis) {
  Journal j = MakeJournal(3);
  j.previous[0][0] = 1;
  ChainVerifier v;
  EXPECT_THAT(Replay(j, &v),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("entry 0: previous-link: names 0100000000000000000000000000000000000000000000000000000000000000"
                                 " as its predecessor's hash, but the chain starts at the genesis hash")));
}

TEST(ChainTest, ABreakIsSticky) {
  Journal j = MakeJournal(6);
  j.entries[1] = "changed";
  ChainVerifier v;
  const absl::Status first = Replay(j, &v);
  ASSERT_THAT(first, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 1: hash")));
  // Later entries, even correct ones, report the first break again.
  const Journal good = MakeJournal(6);
  EXPECT_EQ(v.Add(good.entries[1], good.previous[1], good.hashes[1]), first);
  EXPECT_EQ(v.Add(good.entries[2], good.previous[2]), first);
  EXPECT_EQ(v.status(), first);
  EXPECT_EQ(v.next_index(), 1u);
  EXPECT_EQ(v.head(), good.hashes[0]);
}

TEST(ChainTest, ResumesFromATrustedHead) {
  const Journal j = MakeJournal(8);
  ChainVerifier v(5, j.hashes[4]);
  for (size_t i = 5; i < 8; ++i) EXPECT_OK(v.Add(j.entries[i], j.previous[i], j.hashes[i]));
  EXPECT_EQ(v.next_index(), 8u);
  ChainVerifier wrong(5, j.hashes[3]);
  EXPECT_THAT(wrong.Add(j.entries[5], j.previous[5], j.hashes[5]),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entry 5: previous-link: ")));
  EXPECT_EQ(wrong.first_break()->index, 5u);
}

// ---------------------------------------------------------------------------
// Channel files: instructions.

PaymentInstruction Instruction(std::string reference) {
  return {.reference = std::move(reference),
          .kk_number = "5271010101010001",
          .region_code = "52.71.01.1001",
          .recipient_name = "S*** A***",
          .program = "PKH",
          .period = "2026-Q2",
          .amount = 750000};
}

TEST(InstructionsTest, WritesTheDocumentedFormat) {
  PaymentInstruction a = Instruction("PKH-2026Q2-000001-1");
  PaymentInstruction b = Instruction("PKH-2026Q2-000002-1");
  b.recipient_name = "Siti \"Ani\", S.Pd";
  b.period = "2026-03/04";
  b.amount = 1;
  ASSERT_OK_AND_ASSIGN(std::string text, WriteInstructions(std::vector<PaymentInstruction>{a, b}));
  EXPECT_EQ(text,
            "reference,kk_number,region_code,recipient_name,program,period,amount\r\n"
            "PKH-2026Q2-000001-1,5271010101010001,52.71.01.1001,S*** A***,PKH,2026-Q2,750000\r\n"
            "PKH-2026Q2-000002-1,5271010101010001,52.71.01.1001,\"Siti \"\"Ani\"\", S.Pd\",PKH,2026-03/04,1\r\n");
  const ParsedInstructions parsed = ParseInstructions(text);
  EXPECT_THAT(parsed.errors, IsEmpty());
  EXPECT_THAT(parsed.lines, ElementsAre(InstructionLine{2, a}, InstructionLine{3, b}));
  EXPECT_EQ(WriteInstructions({}).value(), "reference,kk_number,region_code,recipient_name,program,period,amount\r\n");
}

TEST(InstructionsTest, RoundTripWithUtf8AndLfLineEnds) {
  std::vector<PaymentInstruction> in;
  for (int i = 0; i < 20; ++i) {
    PaymentInstruction p = Instruction(absl::StrCat("R-", i));
    p.recipient_name = absl::StrCat("Ni Made \xC3\x89ka, ", i);  // "É", a comma
    p.amount = 100000 * (i + 1);
    in.push_back(p);
  }
  ASSERT_OK_AND_ASSIGN(std::string text, WriteInstructions(in));
  for (const std::string& t : {text, absl::StrReplaceAll(text, {{"\r\n", "\n"}})}) {
    const ParsedInstructions parsed = ParseInstructions(t);
    EXPECT_THAT(parsed.errors, IsEmpty());
    ASSERT_EQ(parsed.lines.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(parsed.lines[i].instruction, in[i]);
      EXPECT_EQ(parsed.lines[i].line_number, static_cast<int>(i) + 2);
    }
  }
}

TEST(InstructionsTest, WriterRefusesWhatTheChannelCannotTake) {
  struct Case {
    PaymentInstruction in;
    std::string message;
  };
  std::vector<Case> cases;
  const auto with = [&](auto change, std::string message) {
    PaymentInstruction p = Instruction("R-2");
    change(p);
    cases.push_back({p, std::move(message)});
  };
  with([](auto& p) { p.reference = ""; }, "instructions[1] (reference \"\"): reference: empty");
  with([](auto& p) { p.kk_number = "527101010101000"; }, "kk_number: \"527101010101000\" is not 16 digits");
  with([](auto& p) { p.kk_number = "527101010101000x"; }, "kk_number: \"527101010101000x\" is not 16 digits");
  with([](auto& p) { p.region_code = "5271011001"; }, "region_code: \"5271011001\" is not a village code PP.RR.DD.VVVV");
  with([](auto& p) { p.recipient_name = ""; }, "recipient_name: empty");
  with([](auto& p) { p.recipient_name = "Budi\nSantoso"; }, "recipient_name: contains a line break");
  with([](auto& p) { p.recipient_name = "Budi\xC3"; }, "recipient_name: not valid UTF-8");
  with([](auto& p) { p.program = ""; }, "program: empty");
  with([](auto& p) { p.period = ""; }, "period: empty");
  with([](auto& p) { p.amount = 0; }, "amount: 0 is not above 0");
  with([](auto& p) { p.amount = -5; }, "amount: -5 is not above 0");
  with([](auto& p) { p.reference = "R-1"; }, "instructions[1] (reference \"R-1\"): reference: already used by instructions[0]");
  with([](auto& p) { p.program = ""; p.period = ""; }, "program: empty; period: empty");
  for (const Case& c : cases) {
    EXPECT_THAT(WriteInstructions(std::vector<PaymentInstruction>{Instruction("R-1"), c.in}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(InstructionsTest, ReaderReportsBadLinesAndKeepsTheRest) {
  const std::string text =
      "reference,kk_number,region_code,recipient_name,program,period,amount\n"
      "R-1,5271010101010001,52.71.01.1001,A,PKH,2026-Q2,750000\n"
      "R-2,52710101,52.71.01.1001,B,PKH,2026-Q2,750000\n"
      "R-3,5271010101010001,52.71.01.1001,C,PKH,2026-Q2,0\n"
      "R-1,5271010101010001,52.71.01.1001,D,PKH,2026-Q2,5\n"
      "R-5,5271010101010001,52.71.01.1001,E,PKH,2026-Q2,1.5\n"
      "R-6,5271010101010001,52.71.01.1001,F,PKH,2026-Q2,9\n";
  const ParsedInstructions parsed = ParseInstructions(text);
  ASSERT_EQ(parsed.lines.size(), 2u);
  EXPECT_EQ(parsed.lines[0].instruction.reference, "R-1");
  EXPECT_EQ(parsed.lines[1].line_number, 7);
  EXPECT_THAT(parsed.errors,
              ElementsAre(LineError{3, "kk_number: \"52710101\" is not 16 digits"},
                          LineError{4, "amount: 0 is not above 0"},
                          LineError{5, "reference: \"R-1\" already appears on line 2"},
                          LineError{6, "amount: \"1.5\" is not a whole number of rupiah"}));
  EXPECT_THAT(ParseInstructions(kStatementHeader).errors,
              ElementsAre(LineError{1, absl::StrCat("header: expected \"", Av(kInstructionsHeader),
                                                    "\", found \"reference,status,amount,channel_reference,settled_on\"")}));
}

// ---------------------------------------------------------------------------
// Channel files: statements.

StatementLine Line(std::string reference, StatementLine::Status status, int64_t amount, std::string channel_ref,
                   absl::CivilDay day) {
  return {.line_number = 0,
          .reference = std::move(reference),
          .status = status,
          .amount = amount,
          .channel_reference = std::move(channel_ref),
          .settled_on = day};
}

TEST(StatementTest, RoundTrip) {
  using S = StatementLine::Status;
  std::vector<StatementLine> lines = {
      Line("R-1", S::kPaid, 750000, "BRI-0001", absl::CivilDay(2026, 4, 2)),
      Line("R-2", S::kFailed, 750000, "", absl::CivilDay(2026, 4, 3)),
      Line("R-3", S::kReturned, 0, "POS, \"Mataram\"", absl::CivilDay(2026, 12, 31)),
      Line("R-4", S::kPaid, INT64_MAX, "x", absl::CivilDay(999, 1, 9)),
  };
  const std::string text = WriteStatement(lines);
  EXPECT_EQ(text,
            "reference,status,amount,channel_reference,settled_on\r\n"
            "R-1,PAID,750000,BRI-0001,2026-04-02\r\n"
            "R-2,FAILED,750000,,2026-04-03\r\n"
            "R-3,RETURNED,0,\"POS, \"\"Mataram\"\"\",2026-12-31\r\n"
            "R-4,PAID,9223372036854775807,x,0999-01-09\r\n");
  const ParsedStatement parsed = ParseStatement(text);
  EXPECT_THAT(parsed.errors, IsEmpty());
  for (size_t i = 0; i < lines.size(); ++i) lines[i].line_number = static_cast<int>(i) + 2;
  EXPECT_EQ(parsed.lines, lines);
}

TEST(StatementTest, ReadsWhatBanksWrite) {
  // A byte order mark, LF and CRLF mixed, statuses in any case, quoted
  // fields (even the header's) with commas and quotes, trailing blank lines.
  const std::string text =
      "\xEF\xBB\xBF\"reference\",status,amount,channel_reference,settled_on\r\n"
      "R-1,paid,750000,\"BRI,0001\",2026-04-02\n"
      "\"R-2\",Failed,000750000,\"said \"\"no account\"\"\",2026-04-03\r\n"
      "R-3,RETURNED,5,\"\",2026-04-04\n"
      "\n"
      "\r\n";
  const ParsedStatement parsed = ParseStatement(text);
  EXPECT_THAT(parsed.errors, IsEmpty());
  using S = StatementLine::Status;
  std::vector<StatementLine> want = {
      Line("R-1", S::kPaid, 750000, "BRI,0001", absl::CivilDay(2026, 4, 2)),
      Line("R-2", S::kFailed, 750000, "said \"no account\"", absl::CivilDay(2026, 4, 3)),
      Line("R-3", S::kReturned, 5, "", absl::CivilDay(2026, 4, 4)),
  };
  for (size_t i = 0; i < want.size(); ++i) want[i].line_number = static_cast<int>(i) + 2;
  EXPECT_EQ(parsed.lines, want);
  EXPECT_EQ(ParseStatement(absl::StrReplaceAll(text, {{"\r\n", "\n"}})).lines, want);
}

TEST(StatementTest, EveryKindOfBadLineIsNamedAndTheRestIsRead) {
  const std::string text =
      "reference,status,amount,channel_reference,settled_on\n"        // 1
      "R-1,PAID,750000,C-1,2026-04-02\n"                                // 2 good
      "R-2,PAID,750000,C-2\n"                                           // 3
      "R-3,PAID,750000,C-3,2026-04-02,extra\n"                          // 4
      "R-4,PAYED,750000,C-4,2026-04-02\n"                               // 5
      "R-5,PAID,-5,C-5,2026-04-02\n"                                    // 6
      "R-6,PAID,12a,C-6,2026-04-02\n"                                   // 7
      "R-7,PAID,99999999999999999999,C-7,2026-04-02\n"                  // 8
      "R-8,PAID,,C-8,2026-04-02\n"                                      // 9
      "R-9,PAID,\"750,000\",C-9,2026-04-02\n"                           // 10
      "R-10,PAID,750000,C-10,2026-02-30\n"                              // 11
      "R-11,PAID,750000,C-11,02/04/2026\n"                              // 12
      ",PAID,750000,C-12,2026-04-02\n"                                  // 13
      "R-13,PAID,750000,\"C-13,2026-04-02\n"                            // 14
      "R-14,PAID,750000,\"C-14\"x,2026-04-02\n"                         // 15
      "R-15,PAID,750000,C\"15,2026-04-02\n"                             // 16
      "R-16,PAID,750000,C-\xFF,2026-04-02\n"                            // 17
      "\n"                                                              // 18
      "R-1,PAID,750000,C-19,2026-04-02\n"                               // 19
      "R-20,LOST,1x,C-20,2026-13-01\n"                                  // 20
      "R-21,returned,750000,C-21,2026-04-05\r\n"                        // 21 good
      "R-22,PAID,750000,C-22,2026-04-05\r\r\n"                          // 22
      "R-23,PAID,1 000,C-23,2026-04-05\n"                               // 23
      "R-24,PAID, 750000,C-24,2026-04-05\n"                             // 24
      "\n";
  const ParsedStatement parsed = ParseStatement(text);
  ASSERT_EQ(parsed.lines.size(), 2u);
  EXPECT_EQ(parsed.lines[0].reference, "R-1");
  EXPECT_EQ(parsed.lines[1].reference, "R-21");
  EXPECT_EQ(parsed.lines[1].line_number, 21);
  EXPECT_EQ(parsed.lines[1].status, StatementLine::Status::kReturned);
  const std::string columns = "expected 5 columns (reference,status,amount,channel_reference,settled_on)";
  EXPECT_THAT(
      parsed.errors,
      ElementsAre(
          LineError{3, columns + ", found 4"},
          LineError{4, columns + ", found 6"},
          LineError{5, "status: \"PAYED\" is not PAID, FAILED or RETURNED"},
          LineError{6, "amount: \"-5\" is negative"},
          LineError{7, "amount: \"12a\" is not a whole number of rupiah"},
          LineError{8, "amount: \"99999999999999999999\" is too large"},
          LineError{9, "amount: empty; expected a whole number of rupiah"},
          LineError{10, "amount: \"750,000\" is not a whole number of rupiah"},
          LineError{11, "settled_on: \"2026-02-30\" is not a calendar day"},
          LineError{12, "settled_on: \"02/04/2026\" is not a date (YYYY-MM-DD)"},
          LineError{13, "reference: empty"},
          LineError{14, "channel_reference: unterminated quote"},
          LineError{15, "channel_reference: text after the closing quote"},
          LineError{16, "channel_reference: a double quote inside a field that does not start with one"},
          LineError{17, "channel_reference: not valid UTF-8"},
          LineError{18, "blank line"},
          LineError{19, "reference: \"R-1\" already appears on line 2"},
          LineError{20, "status: \"LOST\" is not PAID, FAILED or RETURNED; amount: \"1x\" is not a whole number "
                        "of rupiah; settled_on: \"2026-13-01\" is not a calendar day"},
          LineError{22, "settled_on: contains a line break"},
          LineError{23, "amount: \"1 000\" is not a whole number of rupiah"},
          LineError{24, "amount: \" 750000\" is not a whole number of rupiah"}));
  EXPECT_EQ(ToString(parsed.errors[4]), "line 7: amount: \"12a\" is not a whole number of rupiah");
}

TEST(StatementTest, ADuplicateOfABadLineIsStillADuplicate) {
  const ParsedStatement parsed = ParseStatement(
      "reference,status,amount,channel_reference,settled_on\n"
      "R-1,PAID,12a,C-1,2026-04-02\n"
      "R-1,PAID,750000,C-1,2026-04-02\n");
  EXPECT_THAT(parsed.lines, IsEmpty());
  EXPECT_THAT(parsed.errors, ElementsAre(LineError{2, "amount: \"12a\" is not a whole number of rupiah"},
                                         LineError{3, "reference: \"R-1\" already appears on line 2"}));
}

TEST(StatementTest, AMissingOrWrongHeaderIsOneErrorAndNoLines) {
  const std::string header_error =
      "header: expected \"reference,status,amount,channel_reference,settled_on\", found ";
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "header: missing; expected \"reference,status,amount,channel_reference,settled_on\""},
      {"\n\n", "header: missing; expected \"reference,status,amount,channel_reference,settled_on\""},
      {"R-1,PAID,750000,C-1,2026-04-02\nR-2,PAID,750000,C-2,2026-04-02\n",
       header_error + "\"R-1,PAID,750000,C-1,2026-04-02\""},
      {"reference,status,amount,settled_on,channel_reference\nR-1,PAID,750000,2026-04-02,C-1\n",
       header_error + "\"reference,status,amount,settled_on,channel_reference\""},
      {"Reference,Status,Amount,Channel_Reference,Settled_On\n", header_error +
                                                                     "\"Reference,Status,Amount,Channel_Reference,Settled_On\""},
      {"reference,status,amount,channel_reference,settled_on,\n",
       header_error + "\"reference,status,amount,channel_reference,settled_on,\""},
      {"\n" "reference,status,amount,channel_reference,settled_on\n", header_error + "\"\""},
  };
  for (const Case& c : cases) {
    const ParsedStatement parsed = ParseStatement(c.text);
    EXPECT_THAT(parsed.lines, IsEmpty()) << c.text;
    EXPECT_THAT(parsed.errors, ElementsAre(LineError{1, c.message})) << c.text;
  }
  // A header alone is an empty statement, not an error.
  const ParsedStatement empty = ParseStatement("reference,status,amount,channel_reference,settled_on\r\n");
  EXPECT_THAT(empty.errors, IsEmpty());
  EXPECT_THAT(empty.lines, IsEmpty());
  // No line end after the last line.
  EXPECT_EQ(ParseStatement("reference,status,amount,channel_reference,settled_on\nR-1,PAID,1,C,2026-04-02")
                .lines.size(),
            1u);
}

}  // namespace
}  // namespace jaring::ledger
