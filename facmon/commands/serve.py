"""`facmon serve` and `facmon db upgrade`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.clock import WallClock
from core.settings import load_settings
from facmon.commands import Commands, wait_for_signal

LOST_PARTITION = 3  # exit status when another instance took this one's partition over (restart to stand by)


def register(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the service against a real broker and stores")
    serve.add_argument("--config", type=Path, default=None, help="TOML settings file (see docs/configuration.md)")
    serve.set_defaults(run=run_serve)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(required=True, metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="apply the schema migrations")
    upgrade.add_argument("--config", type=Path, default=None, help="TOML settings file")
    upgrade.set_defaults(run=run_db_upgrade)


def run_serve(args: argparse.Namespace) -> int:
    from facmon.runtime import build_runtime
    from simulators.portfolio import load_portfolio

    settings = load_settings(args.config)
    runtime = build_runtime(settings, WallClock())
    if settings.portfolio is not None:
        portfolio = load_portfolio(settings.portfolio)
        runtime.register(portfolio.sites, portfolio.assets)
    runtime.start()
    print(f"facmon serving on http://{settings.api.host}:{settings.api.port}/ ({', '.join(settings.serve.roles)}"
          f"; partition {settings.partition.name}); Ctrl-C or SIGTERM stops")
    wait_for_signal()
    runtime.stop()
    if runtime.lost is not None:
        print(f"facmon: gave up {runtime.lost}; exiting to stand by again", file=sys.stderr)
        return LOST_PARTITION
    return 0


def run_db_upgrade(args: argparse.Namespace) -> int:
    from storage.records import Database

    settings = load_settings(args.config)
    db = Database(settings.database.url)
    db.upgrade()
    db.dispose()
    print(f"database at {settings.database.url.split('@')[-1]} is up to date")
    return 0
