"""`facmon predictor train`: retrain the learned RUL model of each asset kind from fleet history.

Hooked into ``facmon predictor`` by ``register_train(actions)``, with ``actions`` the predictor command's
sub-parsers (``facmon/commands/predictor.py``).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.domain import AssetKind
from facmon.commands import Commands


def register_train(actions: Commands) -> None:
    train = actions.add_parser("train", help="train the RUL model per kind from stored history; prints JSON")
    train.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    train.add_argument("--kind", dest="kinds", action="append", choices=[k.value for k in AssetKind],
                       help="only this kind (repeatable; default: every kind)")
    train.add_argument("--days", type=float, default=None,
                       help="history to train on, in days before --until (default: predictor.train_history_days)")
    train.add_argument("--until", type=_time, default=None, help="ISO-8601 end of the window (default: now)")
    train.set_defaults(run=run_train)


def _time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def run_train(args: argparse.Namespace) -> int:
    from facmon.workspace import command_settings
    from predictor.training import train_all
    from storage.records import Database
    from storage.telemetry import open_telemetry_store

    settings = command_settings(args.config)
    days = args.days if args.days is not None else settings.predictor.train_history_days
    kinds = [AssetKind(k) for k in args.kinds] if args.kinds else list(AssetKind)
    db = Database(settings.database.url)
    store = open_telemetry_store(settings.telemetry)
    try:
        report = train_all(db, store, args.until or datetime.now(UTC), timedelta(days=days), kinds)
    finally:
        store.close()
        db.dispose()
    print(json.dumps(report))
    return 0
