#!/usr/bin/env bash
# Parallel speed-up of a 100-job sweep: the same sweep with --threads 1 and
# --threads 2, one after the other; prints both wall times (from sweep.json)
# and their ratio, and checks that the results are identical.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
./target/release/capsim sweep benches/sweep100.toml --threads 1 --out "$out/t1" --quiet >/dev/null
./target/release/capsim sweep benches/sweep100.toml --threads 2 --out "$out/t2" --quiet >/dev/null
cmp "$out/t1/results.csv" "$out/t2/results.csv"
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
t1 = json.load(open(f"{d}/t1/sweep.json"))
t2 = json.load(open(f"{d}/t2/sweep.json"))
print(f"jobs: {t1['jobs_run']}  1 thread: {t1['wall_ms']/1000:.2f} s  2 threads: {t2['wall_ms']/1000:.2f} s  speed-up: {t1['wall_ms']/t2['wall_ms']:.2f}x  (results identical)")
PY
rm -rf "$out"
