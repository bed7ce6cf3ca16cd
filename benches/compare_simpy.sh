#!/usr/bin/env bash
# capsim vs SimPy on the same M/M/16 model at rho = 0.9 (scenarios/mmc.toml and
# benches/simpy_mmc.py). Each engine counts events its own way, so the
# comparison is in simulated requests per wall-clock second. Both run on one
# core, one after the other, in the same invocation.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import simpy" 2>/dev/null || pip install --quiet simpy
cargo build --release --quiet
capsim_json=$(./target/release/capsim run scenarios/mmc.toml --set duration=30m --json --out target/bench-mmc)
simpy_json=$(python3 benches/simpy_mmc.py 120)
python3 - "$capsim_json" "$simpy_json" <<'PY'
import json, sys
c = json.loads(sys.argv[1]); s = json.loads(sys.argv[2])
c_req = c["requests"]["completed"]; c_wall = c["engine"]["wall_ms"] / 1000.0
c_rate = c_req / c_wall
ev_rate = c["engine"]["events"] / c_wall
print(f"capsim: {c_req:>10,} requests in {c_wall:6.2f} s = {c_rate:>12,.0f} req/s ({ev_rate:,.0f} events/s), mean latency {c['latency_ms']['mean']:.3f} ms")
print(f"simpy : {s['requests']:>10,} requests in {s['wall_s']:6.2f} s = {s['requests_per_s']:>12,.0f} req/s, mean latency {s['mean_latency_ms']:.3f} ms")
print(f"Erlang C mean latency: 13.696 ms")
print(f"ratio capsim / simpy: {c_rate / s['requests_per_s']:.1f}x")
PY
