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
#include "libs/validation/validation.h"

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
  // Keeps each word's first letter whole (all the bytes of its UTF-8
  // sequence) and puts one star per further code point, so the result is
  // valid UTF-8 whatever the name's script. An invalid byte counts as one
  // character and is never copied.
  std::string out;
  bool word_start = true;
  for (size_t i = 0; i < name.size();) {
    const size_t n = validation::Utf8SequenceLength(name.substr(i));
    const std::string_view ch = name.substr(i, n);
    i += n;
    if (ch == " ") {
      out.push_back(' ');
      word_start = true;
    } else if (word_start) {
      if (validation::IsValidUtf8(ch)) {
        out.append(ch);
      } else {
        out.push_back('*');
      }
      word_start = false;
    } else {
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
