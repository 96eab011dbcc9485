#!/usr/bin/env bash
# Runs one fuzz target for a time budget: `fuzz/run.sh TARGET SECONDS [libFuzzer flags...]`.
# Seeds the working corpus first (seed.sh), then runs libFuzzer with the target's dictionary
# and the project's limits. Exits non-zero on a finding; the input is left in
# fuzz/artifacts/TARGET/ (see README.md for what to do with it).
#
# Built without a sanitizer (`-s none`): the crate forbids unsafe code, so AddressSanitizer
# would mostly re-check dependencies and halve the executions; panics, overflow (debug
# assertions are on), timeouts and memory blow-ups are what these targets look for.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET SECONDS [libFuzzer flags...]}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS [libFuzzer flags...]}
shift 2
case $target in
  hl7v2 | fhir | csv) max_len=65536 ;;
  search_query) max_len=1024 ;;
  *) echo "no fuzz target called $target (hl7v2, fhir, csv, search_query)" >&2; exit 2 ;;
esac
./seed.sh >/dev/null
mkdir -p "artifacts/$target"
# FUZZ_TARGET_DIR: build elsewhere, e.g. while other runs use the binaries in fuzz/target.
exec cargo fuzz run -O -a -s none ${FUZZ_TARGET_DIR:+--target-dir "$FUZZ_TARGET_DIR"} "$target" "corpus/$target" -- \
  -max_total_time="$seconds" \
  -max_len="$max_len" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -dict="dict/$target.dict" \
  -artifact_prefix="artifacts/$target/" \
  -print_final_stats=1 \
  "$@"
