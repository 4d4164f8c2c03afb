"""`facmon rules ...`: check rule files, and backtest them over stored telemetry."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from facmon.commands import Commands


def register(commands: Commands) -> None:
    rules = commands.add_parser("rules", help="rule files").add_subparsers(required=True, metavar="ACTION")
    check = rules.add_parser("check", help="validate rule files and list their rules")
    check.add_argument("files", type=Path, nargs="+")
    check.set_defaults(run=run_check)

    backtest = rules.add_parser("backtest", help="run a rule file over stored telemetry; prints one JSON object")
    backtest.add_argument("file", type=Path)
    backtest.add_argument("--from", dest="since", type=_time, required=True, help="ISO-8601 start (UTC if no zone)")
    backtest.add_argument("--to", dest="until", type=_time, required=True, help="ISO-8601 end, exclusive")
    backtest.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    backtest.add_argument("--over-default-pack", action="store_true",
                          help="merge the file over the default pack instead of running it alone")
    backtest.set_defaults(run=run_backtest)


def _time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def run_check(args: argparse.Namespace) -> int:
    from rules.pack import load_rules

    for path in args.files:
        rules = load_rules(path)
        print(f"{path}: {len(rules)} rules OK")
        for rule in rules:
            kinds = ",".join(sorted(rule.applies_to))
            print(f"  {rule.id:40} {kinds:24} {rule.severity:9} {rule.description}")
    return 0


def run_backtest(args: argparse.Namespace) -> int:
    from core.zones import parse_zone
    from facmon.workspace import command_settings
    from rules.backtest import backtest, stored_readings
    from rules.pack import default_rules, load_rules, merge
    from simulators.portfolio import load_portfolio
    from storage.records import Database
    from storage.telemetry import open_telemetry_store

    rules = load_rules(args.file)
    if args.over_default_pack:
        rules = merge(default_rules(), rules)
    settings = command_settings(args.config)
    db = Database(settings.database.url)
    try:
        assets, sites = db.assets.list(), db.assets.sites()
    finally:
        db.dispose()
    if not assets and settings.portfolio is not None:
        portfolio = load_portfolio(settings.portfolio)
        assets, sites = portfolio.assets, portfolio.sites
    store = open_telemetry_store(settings.telemetry)
    try:
        report = backtest(rules, stored_readings(store, assets, rules, args.since, args.until), assets,
                          sites=sites, default_zone=parse_zone(settings.time_zone))
    finally:
        store.close()
    print(json.dumps({"file": str(args.file), "from": args.since.isoformat(), "to": args.until.isoformat(),
                      "rules": len(rules), "asset_count": len(assets), **report.as_json()}))
    return 0
