"""`facmon bench rules`: the rule engine with the default pack over a recorded simulator stream.

Two phases over the same deterministic stream (simulators.Simulation, seed fixed, the demo faults on the
first copy of the default portfolio): *throughput* feeds every reading as fast as one thread can;
*latency* feeds readings at a stated rate from a producer thread into the engine thread's queue and
times each reading from its arrival in the queue to ``evaluate`` returning its transitions (the alarm
events the rules service turns into alarms).
"""

from __future__ import annotations

import argparse
import json
import math
import queue
import resource
import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from core.domain import Reading

WATERMARK_EVERY = timedelta(minutes=1)


def register(benchmarks: Any) -> None:
    bench = benchmarks.add_parser("rules", help="rule engine throughput and alarm latency (one JSON object)")
    bench.add_argument("--readings", type=int, default=200_000, help="readings in the recorded stream")
    bench.add_argument("--rate", type=float, default=5_000.0, help="readings/s fed in the latency phase")
    bench.add_argument("--latency-seconds", type=float, default=10.0, help="length of the latency phase")
    bench.add_argument("--seed", type=int, default=1)
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(bench_rules(args.readings, args.rate, args.latency_seconds, args.seed)))  # noqa: T201
    return 0


def bench_rules(readings: int, rate: float, latency_s: float, seed: int = 1) -> dict[str, Any]:
    from rules.pack import default_rules

    rules = default_rules()
    stream, assets = record_stream(readings, seed)
    throughput = _throughput(rules, stream, assets)
    latency = _latency(rules, stream[: max(1, int(rate * latency_s))], assets, rate)
    return {"benchmark": "rules", "rules": len(rules), "assets": len(assets), **throughput, **latency,
            "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def record_stream(count: int, seed: int) -> tuple[list[Reading], list[Any]]:
    """``count`` readings of copies of the default portfolio (the demo's faults on the first copy)."""
    from simulators.portfolio import Portfolio, default_portfolio
    from simulators.scenario import DEMO_START, demo_scenario
    from simulators.simulation import Simulation

    base = default_portfolio()
    per_day = sum(86_400 / asset.report_interval_s for asset in base.assets)
    copies = max(1, math.ceil(count / per_day))
    sites, assets = list(base.sites), list(base.assets)
    for copy in range(1, copies):
        sites += [replace(site, id=f"{site.id}-{copy}") for site in base.sites]
        assets += [replace(asset, id=f"{asset.id}-{copy}", site_id=f"{asset.site_id}-{copy}")
                   for asset in base.assets]
    simulation = Simulation(Portfolio(sites, assets), DEMO_START, seed=seed, scenario=demo_scenario(),
                            max_catch_up=10_000)
    stream: list[Reading] = []
    now = DEMO_START
    while len(stream) < count:
        now += timedelta(minutes=10)
        stream += simulation.due(now)
    return stream[:count], assets


def _throughput(rules: list[Any], stream: list[Reading], assets: list[Any]) -> dict[str, Any]:
    from rules.engine import RuleEngine, TransitionKind

    engine = RuleEngine(rules, assets)
    raised = cleared = 0
    next_tick = stream[0].at + WATERMARK_EVERY
    started = time.perf_counter()
    for reading in stream:
        fired = engine.evaluate(reading)
        if reading.at >= next_tick:
            fired += engine.advance_time(next_tick)
            next_tick += WATERMARK_EVERY
        for _rule, _reading, transition in fired:
            if transition.kind is TransitionKind.RAISE:
                raised += 1
            else:
                cleared += 1
    elapsed = time.perf_counter() - started
    return {"readings": len(stream), "seconds": round(elapsed, 3),
            "readings_per_s": round(len(stream) / elapsed), "alarms": raised, "clears": cleared}


def _latency(rules: list[Any], stream: list[Reading], assets: list[Any], rate: float) -> dict[str, Any]:
    from rules.engine import RuleEngine

    engine = RuleEngine(rules, assets)
    inbox: queue.SimpleQueue[tuple[int, Reading] | None] = queue.SimpleQueue()
    all_ns: list[int] = []
    alarm_ns: list[int] = []

    def consume() -> None:
        while (item := inbox.get()) is not None:
            arrived, reading = item
            fired = engine.evaluate(reading)
            done = time.perf_counter_ns()
            all_ns.append(done - arrived)
            if fired:
                alarm_ns.append(done - arrived)

    consumer = threading.Thread(target=consume, name="rules-engine")
    consumer.start()
    started = time.perf_counter()
    for index, reading in enumerate(stream):
        due = started + index / rate
        pause = due - time.perf_counter()
        if pause > 0.0005:
            time.sleep(pause)
        inbox.put((time.perf_counter_ns(), reading))
    inbox.put(None)
    consumer.join()
    achieved = len(stream) / (time.perf_counter() - started)
    return {"latency_rate_per_s": rate, "latency_achieved_rate_per_s": round(achieved),
            "latency_readings": len(all_ns), "latency_p50_ms": _percentile(all_ns, 50),
            "latency_p99_ms": _percentile(all_ns, 99), "alarm_events": len(alarm_ns),
            "alarm_latency_p50_ms": _percentile(alarm_ns, 50), "alarm_latency_p99_ms": _percentile(alarm_ns, 99),
            "latency_path": "producer thread -> queue -> engine thread: arrival to evaluate() returning"}


def _percentile(samples_ns: list[int], percent: float) -> float | None:
    if not samples_ns:
        return None
    ordered = sorted(samples_ns)
    index = min(len(ordered) - 1, math.ceil(percent / 100 * len(ordered)) - 1)
    return round(ordered[index] / 1e6, 3)
