"""`facmon devices provision`: broker accounts and ACL for every registered asset (docs/devices.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facmon.commands import Commands


def register(commands: Commands) -> None:
    devices = commands.add_parser("devices", help="devices on the broker").add_subparsers(
        required=True, metavar="ACTION")
    provision = devices.add_parser(
        "provision", help="write Mosquitto's password file (or certificates), ACL and listener config from the "
        "asset registry, so each device may publish only under its own topics; prints one JSON object",
        description="Re-run after adding or removing assets: existing devices keep their passwords and "
        "certificates. Then reload Mosquitto (SIGHUP).")
    provision.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")
    provision.add_argument("--auth", choices=["password", "certificate"], default=None,
                           help="password file, or client certificates (mutual TLS); default: devices.auth")
    provision.add_argument("--out", type=Path, default=None, help="directory to write; default: devices.directory")
    provision.add_argument("--sparkplug", action="store_true", default=None,
                           help="also one Sparkplug B edge node account per site (<site>-gateway)")
    provision.set_defaults(run=run_provision)


def run_provision(args: argparse.Namespace) -> int:
    from collector.devices.provision import provision
    from core.clock import WallClock
    from facmon.workspace import command_settings
    from storage.records import Database

    settings = command_settings(args.config)
    chosen = {key: value for key, value in (("auth", args.auth), ("directory", args.out),
                                            ("sparkplug_gateways", args.sparkplug)) if value is not None}
    devices = settings.devices.model_copy(update=chosen)
    db = Database(settings.database.url)
    try:
        assets = db.assets.list()
    finally:
        db.dispose()
    result = provision(assets, devices, settings.mqtt, WallClock().now())
    print(json.dumps(result.as_dict()))
    return 0
