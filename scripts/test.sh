#!/usr/bin/env bash
# The one test command (README): every unit, property and integration test of the workspace,
# plus one pass of each benchmark in test mode so benches cannot rot. Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked --all-targets 2>&1 | tee "$log"
# Doc tests too (--all-targets leaves them out): they include the compile-fail proof that real
# and exercise data cannot be combined.
cargo test --workspace --locked --doc 2>&1 | tee -a "$log"
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed"
