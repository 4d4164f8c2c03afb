"""The API benchmark's database: two years of a 200-site portfolio's alarms and work orders.

Sites, assets and work orders are those of ``facmon bench workorders`` (its generator, so both benchmarks
see the same kind of book); alarms are drawn here: rules of the default pack fitting each asset's kind,
spread over two years ending now, the last two days' episodes still open in part. Their history (raised,
acknowledged, cleared) and the orders' milestones are derived in SQL. Rows go in through SQLAlchemy Core,
so SQLite and PostgreSQL are loaded by the same code.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from facmon.bench.workorders import _EVENTS_SQL, ASSET_KINDS, _asset, _order, _site
from storage.records import Database
from storage.records.models import AlarmRow, AssetRow, SiteRow, WorkOrderRow

DAYS = 730
CHUNK = 5_000
# The default pack's rules by asset kind (rules/pack), and two that fit any asset.
RULES = {
    "pump": (("pump_vibration_g1_rigid.high_warning", "low"), ("pump_bearing_temp.high_warning", "medium"),
             ("pump_dry_running", "critical"), ("pump_cavitation", "medium"), ("pump_burst_pipe", "critical")),
    "elevator": (("elevator_door_fault", "medium"), ("elevator_motor_overcurrent", "high"),
                 ("elevator_leveling_error", "medium"), ("elevator_entrapment", "critical")),
    "lighting": (("lighting_circuit_failure", "medium"), ("lighting_driver_overtemp", "medium"),
                 ("lighting_off_at_night", "medium")),
}
ANY_KIND = (("device_offline", "medium"), ("mains_lost", "high"))
OPEN_DAYS = 2  # episodes younger than this may still be open

_ORDER_COLUMNS = ("kind", "priority", "status", "title", "description", "site_id", "asset_id", "opened_at",
                  "due_at", "assignee", "source", "recurrences", "version", "related_assets", "parts",
                  "failure_code", "cause", "remedy", "labour_hours", "completion_notes", "satisfaction",
                  "follow_up_comment", "restored_at", "dispatched_at", "accepted_at", "on_site_at",
                  "completed_at", "verified_at", "followed_up_at", "closed_at")
_JSON_COLUMNS = {"related_assets", "parts"}

# Each alarm's history: raised; acknowledged (when it was); back to normal (when it cleared).
_ALARM_EVENTS_SQL = """
INSERT INTO alarm_events (alarm_id, at, actor, from_state, to_state, note)
SELECT id, started_at, 'system', NULL, 'unacknowledged', message FROM alarms
UNION ALL SELECT id, acknowledged_at, acknowledged_by, 'unacknowledged', 'acknowledged', ''
    FROM alarms WHERE acknowledged_at IS NOT NULL
UNION ALL SELECT id, cleared_at, 'system', CASE WHEN acknowledged_at IS NULL THEN 'unacknowledged'
    ELSE 'acknowledged' END, state, 'back to normal' FROM alarms WHERE cleared_at IS NOT NULL
"""


def seed(url: str, alarms: int, orders: int, sites: int, seed_value: int, now: datetime) -> dict[str, Any]:
    """Migrate the empty database at ``url`` and load it; returns counts and the time it took."""
    started = time.perf_counter()
    database = Database(url)
    database.upgrade()
    rng = random.Random(seed_value)
    try:
        with database.engine.begin() as connection:
            connection.execute(insert(SiteRow), [{"id": _site(s), "name": f"Site {s}", "address": f"{s} Main Street"}
                                                  for s in range(sites)])
            connection.execute(insert(AssetRow), [
                {"id": _asset(s, i), "site_id": _site(s), "kind": kind, "name": f"{kind} {i}",
                 "report_interval_s": 60.0, "attributes": {}}
                for s in range(sites) for i, kind in enumerate(ASSET_KINDS)])
            for rows in _chunks(_orders(rng, orders, sites, now)):
                connection.execute(insert(WorkOrderRow), rows)
            for rows in _chunks(_alarms(rng, alarms, sites, now)):
                connection.execute(insert(AlarmRow), rows)
            json_cast = "::json" if connection.dialect.name == "postgresql" else ""
            connection.execute(text(_EVENTS_SQL.replace("::json", json_cast)))
            connection.execute(text(_ALARM_EVENTS_SQL))
        with database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    finally:
        database.dispose()
    return {"alarms": alarms, "orders": orders, "sites": sites, "seed_s": round(time.perf_counter() - started, 1)}


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _orders(rng: random.Random, count: int, sites: int, now: datetime) -> Iterator[dict[str, Any]]:
    for _ in range(count):
        row = dict(zip(_ORDER_COLUMNS, _order(rng, sites, now), strict=True))
        for column in _JSON_COLUMNS:
            row[column] = []
        yield row


def _alarms(rng: random.Random, count: int, sites: int, now: datetime) -> Iterator[dict[str, Any]]:
    first = now - timedelta(days=DAYS)
    for _ in range(count):
        site = rng.randrange(sites)
        index = rng.randrange(len(ASSET_KINDS))
        rule, severity = rng.choice(RULES[ASSET_KINDS[index]] + ANY_KIND)
        # Microseconds make the episode key (rule, asset, start) unique without a lookup.
        started = first + timedelta(microseconds=rng.randrange(DAYS * 86_400_000_000))
        is_open = now - started < timedelta(days=OPEN_DAYS) and rng.random() < 0.7
        acknowledged = not is_open or rng.random() < 0.5
        acknowledged_at = started + timedelta(minutes=rng.uniform(0.5, 30)) if acknowledged else None
        cleared_at = None if is_open else started + timedelta(minutes=rng.uniform(1, 360))
        if acknowledged_at is not None and cleared_at is not None and acknowledged_at > cleared_at:
            acknowledged_at = cleared_at
        state = ("acknowledged" if acknowledged else "unacknowledged") if is_open else "normal"
        yield {"rule_id": rule, "asset_id": _asset(site, index), "site_id": _site(site), "severity": severity,
               "state": state, "message": f"{rule} on {_asset(site, index)}", "started_at": started,
               "cleared_at": cleared_at, "acknowledged_at": acknowledged_at,
               "acknowledged_by": f"operator-{rng.randrange(12)}" if acknowledged else None, "occurrences": 1,
               "shelve_reason": "", "out_of_service": "", "chattering": False}


def utc_now() -> datetime:
    return datetime.now(UTC)
