"""The `facmon` command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from core.clock import AcceleratedClock, WallClock
from core.errors import FacmonError
from core.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result: int = args.run(args)
        return result
    except FacmonError as error:
        print(f"facmon: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facmon", description="Facility monitoring and preventive maintenance.")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the whole system on embedded defaults with simulated devices",
                               description="Starts an embedded MQTT broker, simulated elevators, pumps and "
                               "lighting, the collector, rules, predictor and the console, on SQLite files.")
    demo.add_argument("--speed", type=float, default=None, help="simulated seconds per real second "
                      "(default: a week in about ten minutes)")
    demo.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S real seconds")
    demo.add_argument("--port", type=int, default=8080, help="HTTP port of the console and API (default 8080)")
    demo.add_argument("--data-dir", type=Path, default=Path("facmon-data"), help="where the SQLite files go")
    demo.add_argument("--summary-json", type=Path, default=None, metavar="F", help="also write the summary here")
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated portfolio")
    demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="run the service against a real broker and stores")
    serve.add_argument("--config", type=Path, default=None, help="TOML settings file (see docs/configuration.md)")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(required=True, metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="apply the schema migrations")
    upgrade.add_argument("--config", type=Path, default=None)
    upgrade.set_defaults(run=_db_upgrade)

    rules = commands.add_parser("rules", help="rule files").add_subparsers(required=True, metavar="ACTION")
    check = rules.add_parser("check", help="validate rule files and list their rules")
    check.add_argument("files", type=Path, nargs="+")
    check.set_defaults(run=_rules_check)

    sim = commands.add_parser("sim", help="simulated devices").add_subparsers(required=True, metavar="ACTION")
    sim_run = sim.add_parser("run", help="publish a simulated portfolio to an MQTT broker")
    sim_run.add_argument("--host", default="127.0.0.1")
    sim_run.add_argument("--port", type=int, default=1883)
    sim_run.add_argument("--portfolio", type=Path, default=None, help="portfolio YAML (default: built-in)")
    sim_run.add_argument("--scenario", type=Path, default=None, help="fault scenario YAML")
    sim_run.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    sim_run.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S real seconds")
    sim_run.add_argument("--seed", type=int, default=0)
    sim_run.set_defaults(run=_sim_run)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from facmon.demo import DEFAULT_SPEED, DemoOptions, run_demo

    run_demo(DemoOptions(speed=args.speed or DEFAULT_SPEED, duration_s=args.duration, port=args.port,
                         data_dir=args.data_dir, summary_json=args.summary_json, seed=args.seed))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from facmon.runtime import build_runtime
    from simulators.portfolio import load_portfolio

    settings = load_settings(args.config)
    runtime = build_runtime(settings, WallClock())
    if settings.portfolio is not None:
        portfolio = load_portfolio(settings.portfolio)
        runtime.register(portfolio.sites, portfolio.assets)
    runtime.start()
    print(f"facmon serving on http://{settings.api.host}:{settings.api.port}/ ; Ctrl-C or SIGTERM stops")
    _wait_for_signal()
    runtime.stop()
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.records import Database

    settings = load_settings(args.config)
    db = Database(settings.database.url)
    db.upgrade()
    db.dispose()
    print(f"database at {settings.database.url.split('@')[-1]} is up to date")
    return 0


def _rules_check(args: argparse.Namespace) -> int:
    from rules.pack import load_rules

    for path in args.files:
        rules = load_rules(path)
        print(f"{path}: {len(rules)} rules OK")
        for rule in rules:
            print(f"  {rule.id:32} {rule.applies_to:9} {rule.severity:9} {rule.description}")
    return 0


def _sim_run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from simulators.portfolio import default_portfolio, load_portfolio
    from simulators.runner import SimulatorRunner
    from simulators.scenario import load_scenario

    portfolio = load_portfolio(args.portfolio) if args.portfolio else default_portfolio()
    scenario = load_scenario(args.scenario) if args.scenario else None
    clock = WallClock() if args.speed == 1 else AcceleratedClock(datetime.now(UTC), args.speed)
    runner = SimulatorRunner(portfolio, clock, args.host, args.port, seed=args.seed, scenario=scenario)
    runner.start()
    print(f"simulating {len(portfolio.assets)} assets against {args.host}:{args.port}; Ctrl-C stops")
    _wait_for_signal(args.duration)
    runner.stop()
    print(f"published {runner.stats.published} messages")
    return 0


def _wait_for_signal(timeout_s: float | None = None) -> None:
    """Block until SIGINT/SIGTERM (or ``timeout_s``)."""
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    stop.wait(timeout_s)


if __name__ == "__main__":
    sys.exit(main())
