#!/usr/bin/env python3
"""M/M/c in SimPy: the same model as scenarios/mmc.toml (c = 16 servers,
exponential service with mean 10 ms, Poisson arrivals at rho = 0.9), for the
side-by-side comparison with capsim (benches/compare_simpy.sh).

Prints one JSON line: requests simulated, wall seconds, requests per wall
second, and the mean latency (a sanity check against Erlang C: 13.696 ms).
"""
import json
import random
import sys
import time

import simpy

C = 16
MEAN_S = 0.010
RHO = 0.9
LAM = RHO * C / MEAN_S


def customer(env, servers, rng, stats):
    arrived = env.now
    with servers.request() as req:
        yield req
        yield env.timeout(rng.expovariate(1.0 / MEAN_S))
    stats["n"] += 1
    stats["sum"] += env.now - arrived


def source(env, servers, rng, stats):
    while True:
        yield env.timeout(rng.expovariate(LAM))
        env.process(customer(env, servers, rng, stats))


def main():
    sim_seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    rng = random.Random(42)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=C)
    stats = {"n": 0, "sum": 0.0}
    env.process(source(env, servers, rng, stats))
    t0 = time.perf_counter()
    env.run(until=sim_seconds)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "engine": "simpy " + simpy.__version__,
        "requests": stats["n"],
        "wall_s": wall,
        "requests_per_s": stats["n"] / wall,
        "mean_latency_ms": 1000.0 * stats["sum"] / max(stats["n"], 1),
    }))


if __name__ == "__main__":
    main()
