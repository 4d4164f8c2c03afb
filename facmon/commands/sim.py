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
    sim_run.set_defaults(run=run_sim)


def run_sim(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from core.clock import AcceleratedClock, Clock, WallClock
    from simulators.portfolio import default_portfolio, load_portfolio
    from simulators.runner import SimulatorRunner
    from simulators.scenario import load_scenario

    portfolio = load_portfolio(args.portfolio) if args.portfolio else default_portfolio()
    scenario = load_scenario(args.scenario) if args.scenario else None
    clock: Clock = WallClock() if args.speed == 1 else AcceleratedClock(datetime.now(UTC), args.speed)
    runner = SimulatorRunner(portfolio, clock, args.host, args.port, seed=args.seed, scenario=scenario)
    runner.start()
    print(f"simulating {len(portfolio.assets)} assets against {args.host}:{args.port}; Ctrl-C stops")
    wait_for_signal(args.duration)
    runner.stop()
    print(f"published {runner.stats.published} messages")
    return 0
