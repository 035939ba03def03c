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
# The Stone Soup side by side, small (bench/stonesoup/compare.py --check): both trackers on the
# first 800 radar detections of srbm-salvo, and tripoint's GOSPA against the independent
# gospa.py on every tracker's output. Needs pip's stonesoup (.ci/run installs it).
smoke_failed=0
if python3 -c "import stonesoup" 2>/dev/null; then
    work=$(mktemp -d)
    if TRIPOINT=target/debug/tripoint python3 bench/stonesoup/compare.py scenarios/srbm-salvo.toml \
        --max-detections 800 --work "$work" --check 2>&1 | tee -a "$log"; then
        echo "stonesoup smoke: 1 passed" | tee -a "$log"
    else
        echo "stonesoup smoke: 1 failed" | tee -a "$log"
        smoke_failed=1
    fi
    rm -rf "$work"
else
    echo "stonesoup smoke: skipped (python3 -m pip install -r bench/stonesoup/requirements.txt)"
fi
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed"
exit "$smoke_failed"
