#include "libs/ledger/internal/digest.h"

#include <openssl/evp.h>

#include <memory>

#include "libs/base/status.h"

namespace jaring::ledger_internal {
namespace {

// Fetched once: in OpenSSL 3 an implicit fetch per digest costs more than
// hashing a 65-byte node.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    JARING_RELEASE_ASSERT(m != nullptr, "EVP_MD_fetch(SHA256) failed");
    return m;
  }();
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* ThreadContext() {
  thread_local const std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  JARING_RELEASE_ASSERT(ctx != nullptr, "EVP_MD_CTX_new failed");
  return ctx.get();
}

}  // namespace

ledger::Hash Sha256Parts(std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = ThreadContext();
  JARING_RELEASE_ASSERT(EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) == 1, "EVP_DigestInit_ex2(SHA-256) failed");
  for (std::string_view p : parts) {
    JARING_RELEASE_ASSERT(EVP_DigestUpdate(ctx, p.data(), p.size()) == 1, "EVP_DigestUpdate failed");
  }
  ledger::Hash out;
  unsigned int len = 0;
  JARING_RELEASE_ASSERT(EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size(),
                        "EVP_DigestFinal_ex(SHA-256) failed");
  return out;
}

}  // namespace jaring::ledger_internal
