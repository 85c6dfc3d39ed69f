#!/usr/bin/env bash
# The main job: set up, build, and run Jaring on the embedded log (data in
# ./data). Extra arguments go to `jaring serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/bin/jaring serve --data data "$@"
