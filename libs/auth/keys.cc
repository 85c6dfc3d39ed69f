#include "libs/auth/keys.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace jaring::auth {

absl::StatusOr<std::string> LoadKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the key"));
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() < 16) return absl::FailedPreconditionError(absl::StrCat(path, ": a key needs at least 16 bytes"));
  return key;
}

absl::StatusOr<std::string> LoadOrCreateKey(const std::string& path) {
  if (std::ifstream(path, std::ios::binary)) return LoadKey(path);
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return absl::InternalError("cannot draw random bytes for a key");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  const bool ok = ::write(fd, bytes, sizeof bytes) == static_cast<ssize_t>(sizeof bytes) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

std::string KeyedHash(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(out), len));
}

std::string MaskName(std::string_view name) {
  std::string out;
  bool word_start = true;
  for (char c : name) {
    if (c == ' ') {
      out.push_back(' ');
      word_start = true;
    } else if (word_start) {
      out.push_back(c);
      word_start = false;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {  // one star per character, not per byte
      out.push_back('*');
    }
  }
  return out;
}

std::string MaskNumber(std::string_view number) {
  if (number.size() < 10) return std::string(number.size(), '*');
  std::string out(number);
  for (size_t i = 6; i + 4 < number.size(); ++i) out[i] = '*';
  return out;
}

}  // namespace jaring::auth
