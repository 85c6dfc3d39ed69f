#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks (Debian and npm packages),
# then configures and builds Jaring into build/. Safe to run again: it only
# installs what is missing and rebuilds what changed.
#
#   scripts/setup.sh            # release-ish build (RelWithDebInfo)
#   JARING_SANITIZE=ON scripts/setup.sh   # ASan + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libabsl-dev libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  librdkafka-dev librocksdb-dev libssl-dev libsodium-dev openssl
  libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libyaml-cpp-dev libcpp-httplib-dev
  kafkacat
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (for buf) may come from elsewhere than Debian: only ask
# Debian for them when there is no npm at all.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# buf (schema lint and breaking-change checks) from the npm registry, kept
# inside the repository's .tools/ (git-ignored).
BUF_VERSION=1.75.0
if [ ! -x .tools/buf/node_modules/.bin/buf ] || \
   [ "$(.tools/buf/node_modules/.bin/buf --version 2>/dev/null)" != "$BUF_VERSION" ]; then
  echo "setup: installing @bufbuild/buf@$BUF_VERSION"
  mkdir -p .tools/buf
  npm install --prefix .tools/buf --no-audit --no-fund --loglevel=error "@bufbuild/buf@$BUF_VERSION" >/dev/null
fi

BUILD_DIR=build
EXTRA=()
if [ "${JARING_SANITIZE:-OFF}" = ON ]; then
  BUILD_DIR=build-asan
  EXTRA+=(-DJARING_SANITIZE=ON)
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${EXTRA[@]}" >/dev/null
fi
echo "setup: building ($(nproc) cores)"
cmake --build "$BUILD_DIR" -- -j"$(nproc)" | grep -E "error|warning|FAILED" || true
test "${PIPESTATUS[0]}" -eq 0
echo "setup: done; binaries in $BUILD_DIR/bin"
