#!/usr/bin/env bash
# The main job: set up, build, and run the whole of Jaring on the embedded
# log (data in ./data), with a synthetic Kota Mataram loaded on first run:
# the registry and months of life, the 2026 rule sets, eligibility settled,
# the first PKH and BPNT payment cycles opened, a handful of appeals filed,
# then a summary. The server stays up (Ctrl-C stops it). A second run finds
# the data loaded and only serves it.
#
#   scripts/run.sh                       # everything
#   JARING_FAMILIES=130000 scripts/run.sh    # a full-size Kota Mataram (default 20000)
#   scripts/run.sh --listen 0.0.0.0:7700 --tls-cert ... --tls-key ...   # extra flags go to `jaring serve`
#
# TLS is on (a development CA in DATA/tls unless --tls-cert is given) and
# every call carries the operator's token (DATA/keys/operator.token).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

DATA="${JARING_DATA:-data}"
FAMILIES="${JARING_FAMILIES:-20000}"
LISTEN=localhost:7700
OWN_TLS=no
SERVE_LISTEN=(--listen "$LISTEN")
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = "--listen" ]; then j=$((i + 1)); LISTEN="${!j}"; SERVE_LISTEN=(); fi
  case "${!i}" in --tls-cert | --plaintext) OWN_TLS=yes ;; esac
done
TARGET="$LISTEN"
case "$TARGET" in 0.0.0.0:*) TARGET="localhost:${TARGET#0.0.0.0:}" ;; esac

mkdir -p "$DATA/keys"
# TLS by default: a development CA and server certificate in DATA/tls
# (production brings its own: pass --tls-cert/--tls-key and set
# JARING_TLS_CA for jaringctl).
SERVE_TLS=()
if [ "$OWN_TLS" = no ]; then
  [ -f "$DATA/tls/server.pem" ] || scripts/dev-certs.sh "$DATA/tls" > /dev/null
  SERVE_TLS=(--tls-cert "$DATA/tls/server.pem" --tls-key "$DATA/tls/server.key")
  export JARING_TLS_CA="$DATA/tls/ca.pem"
fi
# The operator of this machine is a national principal: a 30-day token
# signed with DATA/keys/auth.key (made on first use; keep it secret).
build/bin/jaring token --data "$DATA" --role national --subject operator --ttl 720h > "$DATA/keys/operator.token"
chmod 600 "$DATA/keys/operator.token"
export JARING_TOKEN_FILE="$DATA/keys/operator.token"
export JARING_TARGET="$TARGET"
ctl() { build/bin/jaringctl "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# The first number after "KEY": in proto JSON (int64 fields are strings).
json_number() { grep -o "\"$1\": *\"\?[0-9]*" | head -1 | grep -o '[0-9]*$' || echo 0; }

mkdir -p "$DATA"
build/bin/jaring serve --data "$DATA" "${SERVE_LISTEN[@]}" "${SERVE_TLS[@]}" "$@" > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' INT TERM
for _ in $(seq 1 600); do
  grep -q "listening on" "$DATA/serve.log" && break
  kill -0 $SERVER 2>/dev/null || { cat "$DATA/serve.log"; exit 1; }
  sleep 0.5
done
sed -n '1,/listening on/p' "$DATA/serve.log"

if [ ! -f "$DATA/.main-job-done" ]; then
  step "A synthetic Kota Mataram: $FAMILIES families, 3 months of life (jaringctl synth)"
  ctl synth --regions 52.71 --families "$FAMILIES" --months 3 --seed 1 --anomalies 6 --out "$DATA/synth"
  step "Importing the registry extract"
  ctl import "$DATA/synth/registry.csv"
  step "Replaying the months of life (births, deaths, moves, DTSEN rounds)"
  ctl replay-commands "$DATA/synth/events.jsonl"

  step "Publishing the 2026 rule sets (PKH, BPNT, PBI-JK, BLT Dana Desa)"
  ctl rules publish rules/2026.1
  # 2026.2 takes effect on 2027-01-01 (docs/rules.md); published now, it changes nothing before then.
  ctl rules publish rules/2026.2
  step "Letting eligibility settle"
  last=-1
  while :; do
    now=$(ctl beneficiaries BPNT --region 52.71 --json --page-size 1 | json_number totalFamilies)
    pkh=$(ctl beneficiaries PKH --region 52.71 --json --page-size 1 | json_number totalFamilies)
    printf '\r  BPNT %8s families, PKH %8s families' "$now" "$pkh"
    [ "$now:$pkh" = "$last" ] && [ "$now" != 0 ] && break
    last="$now:$pkh"
    sleep 3
  done
  echo

  step "Budgets and the first payment cycles"
  period_month=$(date -u +%m)
  year=$(date -u +%Y)
  quarter="$year-Q$(( (10#$period_month - 1) / 3 + 1 ))"
  bimonth_first=$(( (10#$period_month - 1) / 2 * 2 + 1 ))
  bimonth=$(printf '%s-%02d/%02d' "$year" "$bimonth_first" $((bimonth_first + 1)))
  ctl budget allocate PKH --region 52.71 --period "$quarter" --amount 500000000000
  ctl budget allocate BPNT --region 52.71 --period "$bimonth" --amount 500000000000
  ctl cycle open PKH --period "$quarter" --region 52.71 --cutoff now --channel bank
  ctl cycle open BPNT --period "$bimonth" --region 52.71 --cutoff now --channel post

  step "Appeals: an objection window after the announcement, reports and corrections"
  ctl appeal window open --region 52.71 --program BPNT --announcement "Pengumuman daftar penerima BPNT $bimonth"
  listed=$(ctl beneficiaries BPNT --region 52.71 --json --page-size 6)
  kks=($(echo "$listed" | grep -o '"kkNumber": *"[0-9]*"' | grep -o '[0-9]\{16\}'))
  ids=($(echo "$listed" | grep -o '"decisionId": *"[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}'))
  versions=($(echo "$listed" | grep -o '"decisionVersion": *"[0-9]*"' | grep -o '[0-9]*"$' | tr -d '"'))
  for n in 0 1 2; do
    [ -n "${kks[$n]:-}" ] || break
    ctl appeal file --kind exclusion --kk "${kks[$n]}" --decision "${ids[$n]}" --decision-version "${versions[$n]}" \
      --filer community --filer-nik "527101170880$(printf '%04d' $((n + 11)))" \
      --statement "Warga melaporkan keluarga ini mampu" --request-id "main-job-report-$n" || true
  done
  for n in 3 4; do
    [ -n "${kks[$n]:-}" ] || break
    head=$(ctl family get "${kks[$n]}" --json | grep -o '"headNik": *"[0-9]*"' | grep -o '[0-9]\{16\}' || true)
    [ -n "$head" ] || continue
    ctl appeal file --kind correction --kk "${kks[$n]}" --decision "${ids[$n]}" --decision-version "${versions[$n]}" \
      --filer member --filer-nik "$head" --statement "Data anggota keluarga tidak sesuai" \
      --request-id "main-job-correction-$n" || true
  done
  touch "$DATA/.main-job-done"
else
  step "Data already loaded (remove $DATA to start over)"
fi

step "Summary"
ctl family list --region 52.71 --page-size 1 --count | grep '^total' || true
for program in PKH BPNT PBI_JK BLT_DD; do
  ctl beneficiaries "$program" --region 52.71 --page-size 1 | grep '^total' || true
done
echo
echo "Payment cycles (what each entitles and what is paid so far):"
ctl audit cycles --all --region 52.71 || true
echo
ctl accounts --prefix budget/ || true
echo
ctl appeals stats --region 52.71 || true

cat <<EOF

Jaring is running on $TARGET with TLS (data in $DATA/, server log in $DATA/serve.log).
In another shell, as this machine's national operator:
  export JARING_TARGET=$TARGET JARING_TLS_CA=${JARING_TLS_CA:-} JARING_TOKEN_FILE=$DATA/keys/operator.token
  build/bin/jaringctl family list --region 52.71.01 --page-size 5
  build/bin/jaringctl beneficiaries PKH --region 52.71
  build/bin/jaringctl explain KK_NUMBER PKH
  build/bin/jaringctl appeals queue --region 52.71
  build/bin/jaringctl verify-ledger
  build/bin/jaringctl access --kk KK_NUMBER          # who looked at a family (oversight)
  build/bin/jaringctl audit report --on $(date +%F) --out audit-$(date +%F)   # oversight's report: Markdown, HTML, CSV
  build/bin/jaring replay --data $DATA --as-of \$(date -u +%FT%TZ) --out replay-1   # every projection as of a moment
  build/bin/jaring serve --replay replay-1 --data $DATA --listen localhost:7710 ${SERVE_TLS[*]:-}   # then --target localhost:7710
  build/bin/jaring token --data $DATA --role regional --region 52.71 --subject dinsos-mataram   # a regional office
  JARING_TOKEN_FILE= build/bin/jaringctl status KK_NUMBER NIK   # the public: one family's masked status
Ctrl-C stops the server.
EOF
wait $SERVER
