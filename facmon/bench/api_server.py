"""The API benchmark's server process: the real app on a seeded database, served by uvicorn.

Run as ``python -m facmon.bench.api_server URL PORT [shared]``; ``shared``: the bus on the database's shared
event stream (``events.channel = "postgresql"``), as each of several API replicas. It reads commands on
stdin: ``raise`` feeds the rules service a burst-pipe signature on the next pump (so an alarm is raised the
way the product raises one, and its work order opened) and prints
``raised <alarm id> <unix time of the alarm.raised event>``.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import uvicorn

from api.app import create_app
from api.deps import Services
from core.clock import WallClock
from core.domain import AssetKind, Reading
from core.events import Event, EventBus
from facmon.bench.workorders import ASSET_KINDS, _asset, _site
from people.model import Role, User
from rules.pack import default_rules
from rules.service import RulesService
from storage.records import Database
from storage.records.event_channel import attach_event_channel
from storage.sqlite_telemetry import SqliteTelemetryStore
from workorders.book import WorkOrderBook

PUMPS = [index for index, kind in enumerate(ASSET_KINDS) if kind == "pump"]


def main(url: str, port: int, shared: bool) -> None:
    clock = WallClock()
    bus = EventBus()
    db = Database(url)
    if shared:
        attach_event_channel(bus, db)
    book = WorkOrderBook(db, bus, clock)
    rules = RulesService(default_rules(), db, book, bus, clock)
    raised_at: dict[int, float] = {}

    def on_raised(event: Event) -> None:  # subscribed first: runs before any stream is woken
        raised_at[event.data["id"]] = time.time()

    bus.subscribe(on_raised, "alarm.raised")
    with tempfile.TemporaryDirectory() as scratch:
        store = SqliteTelemetryStore(Path(scratch) / "telemetry.db")
        services = Services(db=db, store=store, book=book, rules=rules, bus=bus, clock=clock)
        print(f"token {_bench_token(services)}", flush=True)  # noqa: T201 - the bench's first line to read
        threading.Thread(target=_commands, args=(rules, db, clock, raised_at), daemon=True).start()
        uvicorn.run(create_app(services), host="127.0.0.1", port=port, log_level="warning",
                    timeout_graceful_shutdown=1, backlog=4096)


def _bench_token(services: Services) -> str:
    """A viewer's API token, so the clients sign in like an integration would (a fresh user per run)."""
    accounts = services.identity()
    user_id = f"bench-{secrets.token_hex(4)}"
    accounts.add_user(User(user_id, "Benchmark client", frozenset({Role.VIEWER})))
    token, _ = accounts.issue_token(user_id, "facmon bench api")
    return token


def _commands(rules: RulesService, db: Database, clock: WallClock, raised_at: dict[int, float]) -> None:
    for number, line in enumerate(sys.stdin):
        if line.strip() != "raise":
            continue
        site, pump = divmod(number, len(PUMPS))
        asset = _asset(site, PUMPS[pump])
        start = clock.now() - timedelta(minutes=6)
        for minute in range(6):  # the burst-pipe signature: flow up, pressure down, for five minutes
            rules.process([Reading(_site(site), AssetKind.PUMP, asset, start + timedelta(minutes=minute),
                                   {"running": True, "flow_m3h": 72.0, "discharge_bar": 0.9, "suction_bar": 1.2,
                                    "vibration_mm_s": 1.4, "bearing_temp_c": 48.0, "mains_ok": True})])
        alarm = db.alarms.find_open("pump_burst_pipe", asset)
        alarm_id = 0 if alarm is None else alarm.id
        print(f"raised {alarm_id} {raised_at.get(alarm_id, 0.0):.6f}", flush=True)  # noqa: T201 - read by the bench


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:] == ["shared"])
