#!/usr/bin/env bash
# The one test command (README): every unit, property and integration test of the workspace,
# plus one pass of each benchmark in test mode so benches cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked --all-targets
