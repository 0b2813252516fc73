#!/usr/bin/env bash
# ctest's doctest discovery splits a test case name at ';', and the pieces
# then match no test and pass vacuously. Refuse such names.
set -euo pipefail
status=0
for bin in "$@"; do
  while IFS= read -r name; do
    if [[ "$name" == *";"* ]]; then
      echo "$(basename "$bin"): test case name contains ';': $name" >&2
      status=1
    fi
  done < <("$bin" --list-test-cases --no-intro --no-version | grep -v '^\[doctest\]' | grep -v '^=*$' || true)
done
exit $status
