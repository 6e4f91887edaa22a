#!/usr/bin/env bash
# Runs every Go fuzz target in the module for FUZZTIME (default 20s) each.
# Bounded: each target stops by itself; a crash fails the script and leaves its input under testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-20s}
found=0
while IFS= read -r file; do
  dir=$(dirname "$file")
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    found=$((found + 1))
    echo "== fuzz ./$dir $target ($FUZZTIME)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "./$dir"
  done
done < <(git ls-files --cached --others --exclude-standard '*_test.go' | sort)
echo "fuzz: $found targets ran for $FUZZTIME each"
