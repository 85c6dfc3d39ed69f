#include "libs/ledger/merkle.h"

#include <bit>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "libs/base/status.h"
#include "libs/base/strings.h"
#include "libs/ledger/internal/digest.h"

namespace jaring::ledger {
namespace {

using ledger_internal::Sha256Parts;

constexpr char kLeafPrefix = 0x00;
constexpr char kNodePrefix = 0x01;

// The largest power of two smaller than n (n >= 2): RFC 6962's split point.
size_t SplitPoint(size_t n) { return std::bit_floor(n - 1); }

// Appends RFC 6962 PATH(m, leaves) to `out`, leaf first. Each level hashes
// the sibling subtree once, so the whole path costs n/2 + n/4 + ... hashes.
void AppendPath(absl::Span<const Hash> leaves, size_t m, std::vector<Hash>* out) {
  const size_t n = leaves.size();
  if (n <= 1) return;
  const size_t k = SplitPoint(n);
  if (m < k) {
    AppendPath(leaves.subspan(0, k), m, out);
    out->push_back(MerkleRoot(leaves.subspan(k)));
  } else {
    AppendPath(leaves.subspan(k), m - k, out);
    out->push_back(MerkleRoot(leaves.subspan(0, k)));
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

Hash Sha256(std::string_view bytes) { return Sha256Parts({bytes}); }

std::string ToHex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(hash.size() * 2, '0');
  for (size_t i = 0; i < hash.size(); ++i) {
    out[2 * i] = kDigits[hash[i] >> 4];
    out[2 * i + 1] = kDigits[hash[i] & 0xf];
  }
  return out;
}

std::optional<Hash> HashFromHex(std::string_view hex) {
  Hash out;
  if (hex.size() != out.size() * 2) return std::nullopt;
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexDigit(hex[2 * i]);
    const int lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<Hash> HashFromBytes(std::string_view bytes) {
  Hash out;
  if (bytes.size() != out.size()) return std::nullopt;
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(bytes[i]);
  return out;
}

std::string_view AsBytes(const Hash& hash) {
  return std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size());
}

Hash LeafHash(std::string_view entry) { return Sha256Parts({std::string_view(&kLeafPrefix, 1), entry}); }

Hash NodeHash(const Hash& left, const Hash& right) {
  return Sha256Parts({std::string_view(&kNodePrefix, 1), AsBytes(left), AsBytes(right)});
}

Hash MerkleRoot(absl::Span<const Hash> leaf_hashes) {
  size_t n = leaf_hashes.size();
  if (n == 0) return Sha256("");
  if (n == 1) return leaf_hashes[0];
  // Bottom-up, pairing neighbours and carrying an odd last node up
  // unchanged: this builds the same left-balanced tree as RFC 6962's
  // recursive split, in n - 1 node hashes and without recursion. Each level
  // is written over the front of the previous one (slot i / 2 is read as
  // slots i and i + 1 before it is written).
  std::vector<Hash> level(n / 2 + n % 2);
  for (size_t i = 0; i + 1 < n; i += 2) level[i / 2] = NodeHash(leaf_hashes[i], leaf_hashes[i + 1]);
  if (n % 2 == 1) level[n / 2] = leaf_hashes[n - 1];
  n = level.size();
  while (n > 1) {
    for (size_t i = 0; i + 1 < n; i += 2) level[i / 2] = NodeHash(level[i], level[i + 1]);
    if (n % 2 == 1) level[n / 2] = level[n - 1];
    n = n / 2 + n % 2;
  }
  return level[0];
}

std::vector<Hash> InclusionProof(absl::Span<const Hash> leaf_hashes, size_t index) {
  JARING_RELEASE_ASSERT(index < leaf_hashes.size(), "InclusionProof: index is not below the number of leaves");
  std::vector<Hash> path;
  AppendPath(leaf_hashes, index, &path);
  return path;
}

std::optional<Hash> RootFromInclusionProof(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                                           absl::Span<const Hash> proof) {
  // RFC 9162 section 2.1.3.2, step by step. `fn` walks the leaf's position
  // up the tree, `sn` the last leaf's; while they are equal the node is on
  // the right border, where a missing right sibling means "carried up".
  if (index >= tree_size) return std::nullopt;
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return std::nullopt;  // more hashes than the tree has levels
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return std::nullopt;  // fewer hashes than the path needs
  return r;
}

bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size, absl::Span<const Hash> proof,
                     const Hash& root) {
  const std::optional<Hash> computed = RootFromInclusionProof(leaf_hash, index, tree_size, proof);
  return computed.has_value() && *computed == root;
}

size_t InclusionProofLength(uint64_t index, uint64_t tree_size) {
  // The same walk as RootFromInclusionProof, counting instead of hashing.
  if (index >= tree_size) return 0;
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  size_t length = 0;
  while (sn != 0) {
    ++length;
    if (fn == sn && (fn & 1) == 0) {
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    }
    fn >>= 1;
    sn >>= 1;
  }
  return length;
}

MerkleTree::MerkleTree(std::vector<Hash> leaf_hashes) {
  levels_.push_back(std::move(leaf_hashes));
  while (levels_.back().size() > 1) {
    const std::vector<Hash>& below = levels_.back();
    const size_t n = below.size();
    std::vector<Hash> level;
    level.reserve(n / 2 + n % 2);
    for (size_t i = 0; i + 1 < n; i += 2) level.push_back(NodeHash(below[i], below[i + 1]));
    if (n % 2 == 1) level.push_back(below[n - 1]);
    levels_.push_back(std::move(level));
  }
  root_ = levels_.back().empty() ? Sha256("") : levels_.back()[0];
}

const Hash& MerkleTree::leaf(size_t index) const {
  JARING_RELEASE_ASSERT(index < size(), "MerkleTree::leaf: index is not below the number of leaves");
  return levels_[0][index];
}

std::vector<Hash> MerkleTree::InclusionProof(size_t index) const {
  JARING_RELEASE_ASSERT(index < size(), "MerkleTree::InclusionProof: index is not below the number of leaves");
  std::vector<Hash> path;
  size_t i = index;
  for (size_t k = 0; k + 1 < levels_.size(); ++k) {
    const std::vector<Hash>& level = levels_[k];
    if (i % 2 == 1) {
      path.push_back(level[i - 1]);
    } else if (i + 1 < level.size()) {
      path.push_back(level[i + 1]);
    }
    // Otherwise the node is the odd last one: carried up, no sibling here.
    i /= 2;
  }
  return path;
}

absl::StatusOr<InclusionProofBundle> MakeProof(const MerkleTree& tree, size_t index, std::string entry) {
  if (index >= tree.size()) {
    return absl::OutOfRangeError(absl::StrCat("index: ", index, " is not below the tree size ", tree.size()));
  }
  if (LeafHash(entry) != tree.leaf(index)) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry: its leaf hash ", ToHex(LeafHash(entry)), " is not leaf ", index, " of the tree (",
                     ToHex(tree.leaf(index)), ")"));
  }
  InclusionProofBundle proof;
  proof.entry = std::move(entry);
  proof.index = index;
  proof.tree_size = tree.size();
  proof.path = tree.InclusionProof(index);
  proof.root = tree.root();
  return proof;
}

// ---------------------------------------------------------------------------
// Proof text.

namespace {

constexpr std::string_view kProofHeader = "jaring-ledger-proof v1";
// A tree of at most 2^64 leaves has at most 64 levels above the leaves.
constexpr size_t kMaxPathLength = 64;

std::string CheckLine(std::string_view body) { return absl::StrCat("check ", ToHex(Sha256(body)), "\n"); }

// One physical line of the proof text, without its line end.
struct Line {
  int number;
  std::string_view text;
};

// Splits at "\n", dropping one "\r" before it. A final line end is
// optional. Never returns an empty trailing line for text ending in "\n".
std::vector<Line> SplitProofLines(std::string_view text) {
  std::vector<Line> lines;
  int number = 1;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    // "\r" only as part of "\r\n": a lone one stays in the line, where the
    // value checks refuse it.
    if (nl != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({number++, line});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

absl::Status ProofLineError(const Line& line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line.number, ": ", Av(what)));
}

// The value of `line` if it is "<key> <value>"; an error naming the line
// otherwise.
absl::StatusOr<std::string_view> ValueOf(const Line& line, std::string_view key) {
  std::string_view t = line.text;
  if (t.size() < key.size() + 1 || t.substr(0, key.size()) != key || t[key.size()] != ' ') {
    return ProofLineError(line, absl::StrCat("expected \"", Av(key), " <value>\", found \"", absl::CHexEscape(Av(t)),
                                        "\""));
  }
  return t.substr(key.size() + 1);
}

// Decimal, no sign, no leading zeros: one spelling per number.
absl::StatusOr<uint64_t> ParseCount(const Line& line, std::string_view key, std::string_view v) {
  const auto bad = [&] {
    return ProofLineError(line, absl::StrCat(Av(key), ": \"", absl::CHexEscape(Av(v)),
                                        "\" is not a decimal number without sign or leading zeros"));
  };
  if (v.empty() || (v.size() > 1 && v[0] == '0')) return bad();
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return bad();
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) {
      return ProofLineError(line, absl::StrCat(Av(key), ": \"", Av(v), "\" is larger than 2^64 - 1"));
    }
    n = n * 10 + d;
  }
  return n;
}

absl::StatusOr<Hash> ParseHashValue(const Line& line, std::string_view key, std::string_view v) {
  std::optional<Hash> h = HashFromHex(v);
  if (!h.has_value()) {
    return ProofLineError(line, absl::StrCat(Av(key), ": \"", absl::CHexEscape(Av(v)),
                                        "\" is not 64 lower-case hex digits"));
  }
  return *h;
}

}  // namespace

std::string EncodeProof(const InclusionProofBundle& proof) {
  std::string out = absl::StrCat(Av(kProofHeader), "\n", "entry ", absl::Base64Escape(Av(proof.entry)), "\n",
                                 "index ", proof.index, "\n", "size ", proof.tree_size, "\n", "root ",
                                 ToHex(proof.root), "\n");
  for (const Hash& h : proof.path) absl::StrAppend(&out, "path ", ToHex(h), "\n");
  absl::StrAppend(&out, CheckLine(out));
  return out;
}

absl::StatusOr<InclusionProofBundle> DecodeProof(std::string_view text) {
  const std::vector<Line> lines = SplitProofLines(text);
  // header, entry, index, size, root, path*, check.
  if (lines.empty()) return absl::InvalidArgumentError("line 1: empty proof");
  if (lines[0].text != kProofHeader) {
    return ProofLineError(lines[0], absl::StrCat("expected \"", Av(kProofHeader), "\", found \"",
                                            absl::CHexEscape(Av(lines[0].text)), "\""));
  }
  constexpr size_t kFixedLines = 5;
  for (size_t i = 1; i < kFixedLines; ++i) {
    if (i >= lines.size()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", i + 1, ": missing; the proof ends early"));
    }
  }
  InclusionProofBundle proof;

  JARING_ASSIGN_OR_RETURN(std::string_view entry64, ValueOf(lines[1], "entry"));
  std::string entry;
  // absl's decoder tolerates missing padding and stray low bits; re-encoding
  // and comparing refuses every spelling but the canonical one.
  if (!absl::Base64Unescape(Av(entry64), &entry) || absl::Base64Escape(entry) != Av(entry64)) {
    return ProofLineError(lines[1], "entry: not canonical base64 (RFC 4648, standard alphabet, with padding)");
  }
  proof.entry = std::move(entry);

  JARING_ASSIGN_OR_RETURN(std::string_view index_text, ValueOf(lines[2], "index"));
  JARING_ASSIGN_OR_RETURN(proof.index, ParseCount(lines[2], "index", index_text));
  JARING_ASSIGN_OR_RETURN(std::string_view size_text, ValueOf(lines[3], "size"));
  JARING_ASSIGN_OR_RETURN(proof.tree_size, ParseCount(lines[3], "size", size_text));
  if (proof.index >= proof.tree_size) {
    return ProofLineError(lines[3], absl::StrCat("size: ", proof.tree_size, " is not above the index ", proof.index));
  }
  JARING_ASSIGN_OR_RETURN(std::string_view root_text, ValueOf(lines[4], "root"));
  JARING_ASSIGN_OR_RETURN(proof.root, ParseHashValue(lines[4], "root", root_text));

  size_t i = kFixedLines;
  for (; i < lines.size() && lines[i].text.substr(0, 5) == "path "; ++i) {
    if (proof.path.size() == kMaxPathLength) {
      return ProofLineError(lines[i], absl::StrCat("path: more than ", kMaxPathLength, " path lines"));
    }
    JARING_ASSIGN_OR_RETURN(std::string_view v, ValueOf(lines[i], "path"));
    JARING_ASSIGN_OR_RETURN(Hash h, ParseHashValue(lines[i], "path", v));
    proof.path.push_back(h);
  }
  if (i >= lines.size()) {
    return absl::InvalidArgumentError(absl::StrCat("line ", i + 1, ": missing the check line"));
  }
  const Line& check = lines[i];
  if (check.text.substr(0, 6) != "check ") {
    return ProofLineError(check, absl::StrCat("expected \"path <hex>\" or \"check <hex>\", found \"",
                                              absl::CHexEscape(Av(check.text)), "\""));
  }
  const std::string_view check_text = check.text.substr(6);
  JARING_ASSIGN_OR_RETURN(Hash claimed, ParseHashValue(check, "check", check_text));
  if (i + 1 < lines.size()) {
    return ProofLineError(lines[i + 1], "text after the check line");
  }
  // The check covers the lines as EncodeProof writes them (LF line ends),
  // so a proof whose line ends were changed to CRLF in transit still reads.
  std::string body;
  for (size_t k = 0; k < i; ++k) absl::StrAppend(&body, Av(lines[k].text), "\n");
  const Hash computed = Sha256(body);
  if (computed != claimed) {
    return absl::DataLossError(absl::StrCat("line ", check.number, ": check: ", ToHex(claimed),
                                            " does not match the lines above (", ToHex(computed),
                                            "): the proof was altered or damaged"));
  }
  return proof;
}

absl::Status VerifyProof(const InclusionProofBundle& proof) {
  const auto mismatch = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("proof does not match root ", ToHex(proof.root), ": ", Av(why)));
  };
  if (proof.index >= proof.tree_size) {
    return mismatch(absl::StrCat("index ", proof.index, " is not below the tree size ", proof.tree_size));
  }
  const size_t want = InclusionProofLength(proof.index, proof.tree_size);
  if (proof.path.size() != want) {
    return mismatch(absl::StrCat("entry ", proof.index, " of a tree of ", proof.tree_size, " needs ", want,
                                 " path hashes, the proof has ", proof.path.size()));
  }
  const std::optional<Hash> computed =
      RootFromInclusionProof(LeafHash(proof.entry), proof.index, proof.tree_size, proof.path);
  JARING_RELEASE_ASSERT(computed.has_value(), "InclusionProofLength disagrees with RootFromInclusionProof");
  if (*computed != proof.root) {
    return mismatch(absl::StrCat("the entry and path lead to ", ToHex(*computed)));
  }
  return absl::OkStatus();
}

absl::Status VerifyProofAgainst(const InclusionProofBundle& proof, uint64_t published_tree_size,
                                const Hash& published_root) {
  JARING_RETURN_IF_ERROR(VerifyProof(proof));
  if (proof.root != published_root) {
    return absl::DataLossError(absl::StrCat("proof's root ", ToHex(proof.root), " is not the published root ",
                                            ToHex(published_root)));
  }
  if (proof.tree_size != published_tree_size) {
    return absl::DataLossError(absl::StrCat("proof's tree size ", proof.tree_size,
                                            " is not the published size ", published_tree_size));
  }
  return absl::OkStatus();
}

}  // namespace jaring::ledger
