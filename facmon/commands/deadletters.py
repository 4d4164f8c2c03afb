"""`facmon deadletters list|reprocess`: inspect rejected device messages, and reprocess them after a fix."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facmon.commands import Commands


def register(commands: Commands) -> None:
    letters = commands.add_parser("deadletters", help="rejected device messages").add_subparsers(
        required=True, metavar="ACTION")
    listing = letters.add_parser("list", help="list dead letters, newest first (one JSON object per line)")
    listing.add_argument("--reason", default=None, help="only this reject code, e.g. unknown_asset")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    listing.set_defaults(run=run_list)

    again = letters.add_parser("reprocess", help="decode dead letters again, store what is accepted now, delete "
                               "those letters; prints one JSON object")
    again.add_argument("--reason", default=None, help="only this reject code")
    again.add_argument("--id", dest="ids", type=int, action="append", default=None, help="only this letter (repeat)")
    again.add_argument("--limit", type=int, default=1000)
    again.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    again.set_defaults(run=run_reprocess)


def run_list(args: argparse.Namespace) -> int:
    from facmon.workspace import command_settings
    from storage.records import Database

    db = Database(command_settings(args.config).database.url)
    try:
        for letter in db.dead_letters.list(args.reason, args.limit):
            print(json.dumps({"id": letter.id, "received_at": letter.received_at.isoformat(), "topic": letter.topic,
                              "reason": letter.reason, "detail": letter.detail,
                              "payload": letter.payload.decode("utf-8", errors="replace")}))
    finally:
        db.dispose()
    return 0


def run_reprocess(args: argparse.Namespace) -> int:
    from collector.registry import AssetRegistry
    from collector.reprocess import build_decoder, reprocess, select_letters
    from core.clock import WallClock
    from facmon.workspace import command_settings
    from storage.records import Database
    from storage.telemetry import open_telemetry_store

    settings = command_settings(args.config)
    db = Database(settings.database.url)
    store = open_telemetry_store(settings.telemetry)
    try:
        decoder = build_decoder(AssetRegistry(db.assets.list), settings.collector, WallClock(), reprocessing=True)
        chosen = select_letters(db.dead_letters, args.reason, args.ids, args.limit)
        result = reprocess(chosen, decoder, store, db.dead_letters)
    finally:
        store.close()
        db.dispose()
    print(json.dumps(result.as_dict()))
    return 0
