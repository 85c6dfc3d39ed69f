#!/usr/bin/env bash
# Schema checks: `buf lint`, and `buf breaking` against the previous commit's
# proto/ so that a change that would break reading old events fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=.tools/buf/node_modules/.bin/buf
[ -x "$BUF" ] || { echo "buf is not installed: run scripts/setup.sh" >&2; exit 1; }
(cd proto && "../$BUF" lint)
echo "buf lint: ok"
if ! git rev-parse -q --verify HEAD~1 >/dev/null 2>&1; then
  echo "buf breaking: no previous commit to compare with"
  exit 0
fi
prev=$(mktemp -d)
trap 'rm -rf "$prev"' EXIT
if ! git archive HEAD~1 proto 2>/dev/null | tar -x -C "$prev" 2>/dev/null || [ ! -f "$prev/proto/buf.yaml" ]; then
  echo "buf breaking: the previous commit has no proto/ module"
  exit 0
fi
(cd proto && "../$BUF" breaking . --against "$prev/proto")
echo "buf breaking against HEAD~1: ok"
