"""`facmon sim ...`: simulated devices against any broker."""

from __future__ import annotations

import argparse
from pathlib import Path

from facmon.commands import Commands, wait_for_signal


def register(commands: Commands) -> None:
    sim = commands.add_parser("sim", help="simulated devices").add_subparsers(required=True, metavar="ACTION")
    sim_run = sim.add_parser("run", help="publish a simulated portfolio to an MQTT broker")
    sim_run.add_argument("--host", default="127.0.0.1")
    sim_run.add_argument("--port", type=int, default=1883)
    sim_run.add_argument("--portfolio", type=Path, default=None, help="portfolio YAML (default: built-in)")
    sim_run.add_argument("--scenario", type=Path, default=None, help="fault scenario YAML")
    sim_run.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    sim_run.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S real seconds")
    sim_run.add_argument("--seed", type=int, default=0)
    sim_run.add_argument("--format", dest="payload_format", choices=("json", "lp", "sparkplug"), default="json",
                         help="payloads: JSON, InfluxDB line protocol, or Sparkplug B (one gateway per site)")
    sim_run.set_defaults(run=run_sim)
    load = sim.add_parser("load", help="generate MQTT load at an asked rate; prints one JSON object")
    load.add_argument("--host", default="127.0.0.1")
    load.add_argument("--port", type=int, default=1883)
    load.add_argument("--devices", type=int, default=10_000, help="device topics (several per connection)")
    load.add_argument("--rate", type=float, default=None, help="messages/s in total (default: as fast as acked)")
    load.add_argument("--duration", type=float, default=None, metavar="S",
                      help="seconds of publishing (default 10); with --messages, a safety timeout")
    load.add_argument("--messages", type=int, default=None, metavar="N",
                      help="publish exactly N messages in total (at QoS 1: all acknowledged), then stop")
    load.add_argument("--qos", type=int, choices=(0, 1), default=1)
    load.add_argument("--processes", type=int, default=2)
    load.add_argument("--connections", type=int, default=2, help="MQTT connections per process")
    load.add_argument("--window", type=int, default=2000, help="QoS 1 messages in flight per connection")
    load.add_argument("--site", default="load", help="site id in the topics")
    load.set_defaults(run=run_load)
    history = sim.add_parser("history", help="write run-to-failure histories as CSV (no MQTT)")
    history.add_argument("--assets", type=int, default=100, help="assets per kind")
    history.add_argument("--days", type=float, default=365.0)
    history.add_argument("--out", type=Path, required=True, help="output directory")
    history.add_argument("--seed", type=int, default=0)
    history.add_argument("--step", type=float, default=3600.0, metavar="S", help="seconds between rows")
    history.add_argument("--kinds", default="pump,elevator,lighting", help="comma-separated asset kinds")
    history.set_defaults(run=run_history)
    ops = sim.add_parser("ops", help="play simulated operations (requests, dispatch, repairs, rounds, "
                         "emergency plans, follow-ups) against the configured database")
    ops.add_argument("--days", type=float, default=7.0, help="simulated days to play (default 7)")
    ops.add_argument("--speed", type=float, default=0.0,
                     help="simulated seconds per real second (default 0: as fast as the database allows)")
    ops.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    ops.add_argument("--seed", type=int, default=0)
    ops.add_argument("--requests-per-day", type=float, default=6.0)
    ops.set_defaults(run=run_ops)


def run_sim(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from core.clock import AcceleratedClock, Clock, WallClock
    from simulators.portfolio import default_portfolio, load_portfolio
    from simulators.runner import SimulatorRunner
    from simulators.scenario import load_scenario

    portfolio = load_portfolio(args.portfolio) if args.portfolio else default_portfolio()
    scenario = load_scenario(args.scenario) if args.scenario else None
    clock: Clock = WallClock() if args.speed == 1 else AcceleratedClock(datetime.now(UTC), args.speed)
    runner = SimulatorRunner(portfolio, clock, args.host, args.port, seed=args.seed, scenario=scenario,
                             payload_format=args.payload_format)
    runner.start()
    print(f"simulating {len(portfolio.assets)} assets against {args.host}:{args.port}; Ctrl-C stops")
    wait_for_signal(args.duration)
    runner.stop()
    print(f"published {runner.stats.published} messages")
    return 0


def run_load(args: argparse.Namespace) -> int:
    import json

    from simulators.load import count_timeout_s
    from simulators.load import run_load as generate

    if args.duration is not None:
        duration = args.duration
    else:
        duration = 10.0 if args.messages is None else count_timeout_s(args.messages, args.rate)
    result = generate(args.host, args.port, args.devices, args.rate, duration, qos=args.qos,
                      processes=args.processes, connections=args.connections, window=args.window,
                      site_id=args.site, messages=args.messages)
    print(json.dumps(result.to_json()))
    if args.messages is None:
        return 0
    counted = result.acknowledged if result.acknowledged is not None else result.sent
    return 0 if counted == args.messages else 1


def run_history(args: argparse.Namespace) -> int:
    import json

    from core.domain import AssetKind
    from simulators.history import export_history

    kinds = [AssetKind(kind.strip()) for kind in args.kinds.split(",") if kind.strip()]
    summary = export_history(args.out, args.assets, args.days, seed=args.seed, step_s=args.step, kinds=kinds,
                             progress=True)
    print(json.dumps(summary))
    return 0


def run_ops(args: argparse.Namespace) -> int:
    import json
    import time
    from dataclasses import asdict
    from datetime import UTC, datetime, timedelta

    from core.clock import AcceleratedClock, ManualClock
    from core.settings import load_settings
    from facmon.ops import build_driver, simulate
    from simulators.ops_model import OpsRates

    start = datetime.now(UTC).replace(second=0, microsecond=0)
    rates = OpsRates(requests_per_day=args.requests_per_day)
    settings = load_settings(args.config)
    if args.speed <= 0:
        manual = ManualClock(start)
        driver = build_driver(settings, manual, rates, args.seed, args.days)
        counts = simulate(driver, manual, args.days)
    else:
        clock = AcceleratedClock(start, args.speed)
        driver = build_driver(settings, clock, rates, args.seed, args.days)
        end = start + timedelta(days=args.days)
        while clock.now() < end:
            driver.step()
            time.sleep(max(clock.wall_seconds(300), 0.05))  # a look every 5 simulated minutes
        counts = driver.counts
    driver.db.dispose()
    print(json.dumps(asdict(counts)))
    return 0
