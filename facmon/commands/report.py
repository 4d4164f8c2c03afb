"""`facmon report monthly`: the month's figures of one site or every site, as CSV and a printable HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from facmon.commands import Commands


def register(commands: Commands) -> None:
    report = commands.add_parser("report", help="reports").add_subparsers(required=True, metavar="REPORT")
    monthly = report.add_parser("monthly", help="the monthly figures: writes <DIR>/figures-<site>-<month>.csv "
                                "and .html, and prints their paths")
    monthly.add_argument("--site", required=True, help='a site id, or "all" for every site')
    monthly.add_argument("--month", required=True, help="YYYY-MM (UTC)")
    monthly.add_argument("--out", type=Path, default=Path("."), help="directory to write to (default: here)")
    monthly.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    monthly.set_defaults(run=run_monthly)


def run_monthly(args: argparse.Namespace) -> int:
    from facmon.workspace import command_settings
    from storage.records import Database
    from storage.telemetry import open_telemetry_store
    from workorders.figures import monthly_figures, reported_run_hours
    from workorders.kpi import Month
    from workorders.report import to_csv, to_html
    from workorders.slafile import load_policy

    month = Month.parse(args.month)
    settings = command_settings(args.config)
    policy = load_policy(settings.sla.policy_file)
    db = Database(settings.database.url)
    store = open_telemetry_store(settings.telemetry)
    try:
        sites = None if args.site == "all" else [args.site]
        assets = [a.id for a in db.assets.list() if sites is None or a.site_id in sites]
        figures = monthly_figures(db.engine, month, sites, reported_run_hours(store, assets, month), policy,
                                  settings.time_zone)
    finally:
        store.close()
        db.dispose()
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"figures-{args.site}-{month}"
    csv_path, html_path = stem.with_suffix(".csv"), stem.with_suffix(".html")
    csv_path.write_text(to_csv(figures), encoding="utf-8")
    html_path.write_text(to_html(figures, str(month)), encoding="utf-8")
    print(csv_path)
    print(html_path)
    return 0
