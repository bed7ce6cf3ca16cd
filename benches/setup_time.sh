#!/usr/bin/env bash
# A newcomer's set-up time: the README's two commands from an empty target
# folder (and, with FRESH_CARGO_HOME=1, an empty cargo home: downloads
# included). Run from the project root:
#   benches/setup_time.sh            # empty target folder, warm cargo home
#   FRESH_CARGO_HOME=1 benches/setup_time.sh
# Prints the wall time of each command; record them in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"
if [ "${FRESH_CARGO_HOME:-0}" = 1 ]; then
  export CARGO_HOME="$work/cargo-home"
  # Keep the toolchain: only the registry and its caches start empty.
  mkdir -p "$CARGO_HOME"
fi
first=$(sed -n '/^## Set-up/,/^## /p' README.md | grep -m1 '^cargo run')
second=$(sed -n '/^## Set-up/,/^## /p' README.md | grep -m1 '^cargo test')
echo "first:  $first"
echo "second: $second"
s=$(date +%s)
bash -c "$first" > "$work/first.log" 2>&1
m=$(date +%s)
bash -c "$second" > "$work/second.log" 2>&1
e=$(date +%s)
echo "first command:  $((m - s)) s"
echo "second command: $((e - m)) s (after the first)"
