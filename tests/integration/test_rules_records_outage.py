"""PostgreSQL stopped while an alarm is due (issue 13 §2, "nothing lost"): the rules cannot record the raise,
go back to their last checkpoint, and once PostgreSQL is started again the readings after it are evaluated
again: the alarm is recorded once, at the time it was due. Real PostgreSQL (its own server, stopped and
started by the test); readings reach the rules through the spool as from MQTT."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Site
from facmon.runtime import Runtime, build_runtime
from facmon.services import Postgres, discard_service, make_service_dir
from tests.runtimes import local_runtime_settings
from tests.services import Mosquitto

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
RULES = """
rules:
  - id: vib_high
    applies_to: pump
    when: "vibration_mm_s > 7.1"
    for: 2m
    severity: high
    message: "vibration {vibration_mm_s}"
"""


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL of this test (the session's stays up for the others)."""
    server = Postgres(make_service_dir("postgres"))
    server.start()
    yield server
    discard_service(server)


@pytest.fixture
def runtime(postgres: Postgres, mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Runtime]:
    postgres.create_database("facmon")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES)
    settings = local_runtime_settings(mosquitto, tmp_path, "outage", database={"url": postgres.url_for("facmon")},
                                      rules={"use_default_pack": False, "files": [rules_file]})
    built = build_runtime(settings, ManualClock(T0 + timedelta(hours=1)))
    built.register([Site("s1", "Tower")], [Asset("p1", "s1", AssetKind.PUMP, "Booster pump")])
    built.rules.engine.register(built.db.assets.list(), built.db.assets.sites())
    built.ingest.checkpoint_rules_with(built.rules, every_s=0.2)
    built.ingest.start()  # the spool and its consumers, without MQTT: readings are handed in below
    yield built
    built.ingest.stop()
    built.db.dispose()


def feed(runtime: Runtime, minutes: range, vibration: float) -> None:
    messages = []
    for minute in minutes:
        payload = {"ts": (T0 + timedelta(minutes=minute)).isoformat(), "metrics": {"vibration_mm_s": vibration}}
        messages.append(("facmon/v1/s1/pump/p1/telemetry", json.dumps(payload).encode(), 0, 0))
    runtime.ingest.receive_many(messages)


def test_an_alarm_due_while_postgresql_is_down_is_recorded_once_when_it_returns(
        runtime: Runtime, postgres: Postgres) -> None:
    stats = runtime.ingest.stats
    feed(runtime, range(0, 5), 2.0)
    wait_for(lambda: stats.processed >= 5, "the normal readings evaluated")
    time.sleep(0.5)  # a checkpoint covers them
    postgres.stop()
    feed(runtime, range(5, 12), 9.0)  # over the limit from minute 5: the alarm is due at minute 7
    wait_for(lambda: runtime.rules.stats()["unrecorded"] >= 1, "the raise fails on the stopped database")
    time.sleep(1.0)
    postgres.start()
    wait_for(lambda: runtime.db.alarms.find_open("vib_high", "p1") is not None, "the alarm recorded")
    assert runtime.rules.stats()["rewinds"] >= 1  # it came from going back to the checkpoint
    wait_for(lambda: stats.processed >= 12 and runtime.ingest.spool.backlog("rules") == 0, "the replay done")
    alarms = runtime.db.alarms.list(limit=10)
    assert [(alarm.rule_id, alarm.asset_id, alarm.started_at) for alarm in alarms] == [
        ("vib_high", "p1", T0 + timedelta(minutes=7))]
    assert stats.rules_rewinds >= 1
