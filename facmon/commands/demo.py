"""`facmon demo`."""

from __future__ import annotations

import argparse
from pathlib import Path

from facmon.commands import Commands


def register(commands: Commands) -> None:
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
    demo.add_argument("--no-faults", action="store_true",
                      help="schedule no faults: only sensor noise, so no alarm should be raised")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from facmon.demo import DEFAULT_SPEED, DemoOptions, run_demo

    run_demo(DemoOptions(speed=args.speed or DEFAULT_SPEED, duration_s=args.duration, port=args.port,
                         data_dir=args.data_dir, summary_json=args.summary_json, seed=args.seed,
                         faults=not args.no_faults))
    return 0
