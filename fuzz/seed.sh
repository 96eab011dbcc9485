#!/usr/bin/env bash
# Builds the working corpus of each fuzz target in fuzz/corpus/<target>/ (git-ignored) from the
# repo's sample feeds, the shared UK test corpus beside the repo (../shared/corpus, used when
# present, never copied into git) and the kept regression inputs. Re-running rewrites the
# seeds and keeps what the fuzzer has added.
set -euo pipefail
cd "$(dirname "$0")"
repo=..
shared=../../shared/corpus
samples=$repo/sample-feeds
mkdir -p corpus/hl7v2 corpus/fhir corpus/csv corpus/search_query

# Seeds are named by their place in a sorted list, so re-seeding overwrites rather than adds
# copies (libFuzzer names the inputs it finds by their hash; those never clash with these).
put() { # put TARGET FILE...
  local target=$1 n=0; shift
  for f in "$@"; do
    n=$((n + 1))
    cp "$f" "corpus/$target/seed-$n"
  done
}

files() { # files DIR FIND-ARGS...: files under DIR (which may be absent), at most 64 KiB
  local dir=$1; shift
  [ -d "$dir" ] && find "$dir" -type f -size -65k "$@" | LC_ALL=C sort
  true
}

mapfile -t hl7 < <(files "$samples/acute"; files "$shared/hl7v2" \( -name '*.hl7' -o -name '*.txt' \))
put hl7v2 "${hl7[@]}"

mapfile -t fhir < <(files "$samples/gp" -name '*.json'; files "$shared/fhir" -name '*.json')
put fhir "${fhir[@]}"

# Every mapping with every CSV-shaped file: the matching pairs read rows, the others exercise
# a header the mapping does not fit. Input shape: mapping TOML, one NUL byte, then the file.
mapfile -t csvs < <(
  files "$samples" \( -path '*community*' -o -path '*mental-health*' -o -path '*social-care*' -o -path '*gp-csv*' \)
  files "$shared/gp-extract" \( -name '*.csv' -o -name '*.EIA' -o -name '*.A1A' -o -name '*.CSA' -o -name '*.CSB' -o -name '*.GCA' \)
)
n=0
for mapping in "$samples"/mappings/*.toml; do
  for f in "${csvs[@]}"; do
    n=$((n + 1))
    { cat "$mapping"; printf '\0'; cat "$f"; } > "corpus/csv/seed-$n"
  done
done

n=0
while IFS= read -r q; do
  n=$((n + 1))
  printf '%s' "$q" > "corpus/search_query/seed-$n"
done <<'QUERIES'
9434765919
943 476 5919
smith 1954
John Smith 22/07/1952
o'brien-jones 12 Mar 1954 wx3 7hg
12 march 1954
1954-03-12
WX3 7HG
EC1A 1BB
smith WX3
12 ???
"smith" OR near(a b)
Zoë Ñúñez-O'Brien
QUERIES

for target in hl7v2 fhir csv search_query; do
  for f in regressions/"$target"/*; do
    [ -f "$f" ] && cp "$f" "corpus/$target/regression-$(basename "$f")"
  done
  echo "corpus/$target: $(ls corpus/$target | wc -l) files"
done
