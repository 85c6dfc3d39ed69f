#!/usr/bin/env bash
# Every test: set up, build, then run the whole ctest suite (unit, contract,
# Kafka mock-cluster, crash and schema checks).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
