"""facmon's own alarm for a broker or store that stays down: raised once after the grace, cleared when it
answers, an episode left open by a previous run cleared too; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.domain import Alarm
from core.health import BROKER, RECORDS_DATABASE, TELEMETRY_STORE, DependencyState
from rules.dependency_alarms import DependencyAlarms

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
AFTER = timedelta(seconds=30)


def alarms_of(db: Any, events: list[tuple[str, Alarm]]) -> DependencyAlarms:
    return DependencyAlarms(db, "p0-of-2", AFTER, lambda kind, alarm: events.append((kind, alarm)))


def down(name: str, since: datetime = T0) -> DependencyState:
    return DependencyState(name, False, since, "connection refused")


def test_a_store_down_past_the_grace_raises_one_alarm_and_clears_it_when_it_answers(db: Any) -> None:
    events: list[tuple[str, Alarm]] = []
    alarms = alarms_of(db, events)
    alarms.judge([down(TELEMETRY_STORE)], T0 + AFTER / 2)  # a blip: nothing
    assert db.alarms.find_open("store_unreachable", "p0-of-2") is None
    alarms.judge([down(TELEMETRY_STORE)], T0 + AFTER)
    alarms.judge([down(TELEMETRY_STORE)], T0 + 2 * AFTER)  # still down: no second raise, no comment
    alarm = db.alarms.find_open("store_unreachable", "p0-of-2")
    assert alarm is not None
    assert alarm.state.is_active
    assert alarm.site_id == "facmon"
    assert "connection refused" in alarm.message
    assert "spool" in alarm.message
    assert [kind for kind, _ in events] == ["raised"]
    alarms.judge([DependencyState(TELEMETRY_STORE, True, T0 + 3 * AFTER)], T0 + 3 * AFTER)
    assert not db.alarms.get(alarm.id).state.is_active
    assert [kind for kind, _ in events] == ["raised", "changed"]


def test_the_broker_has_its_own_alarm_and_the_records_database_none(db: Any) -> None:
    alarms = alarms_of(db, [])
    alarms.judge([down(BROKER), down(RECORDS_DATABASE)], T0 + AFTER)
    assert db.alarms.find_open("broker_unreachable", "p0-of-2").state.is_active
    assert db.alarms.find_open("store_unreachable", "p0-of-2") is None


def test_an_alarm_left_open_by_a_previous_run_clears_when_the_store_answers(db: Any) -> None:
    alarms_of(db, []).judge([down(TELEMETRY_STORE)], T0 + AFTER)  # then the process was killed
    restarted = alarms_of(db, [])
    restarted.judge([DependencyState(TELEMETRY_STORE, True, T0 + 2 * AFTER)], T0 + 2 * AFTER)
    assert not db.alarms.find_open("store_unreachable", "p0-of-2").state.is_active


def test_an_alarm_that_cannot_be_written_is_tried_again_at_the_next_judgement(db: Any) -> None:
    events: list[tuple[str, Alarm]] = []
    alarms = alarms_of(db, events)
    repository = db.alarms

    class Unwritable:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("records database down")

    db.alarms = Unwritable()
    try:
        alarms.judge([down(TELEMETRY_STORE)], T0 + AFTER)  # logged, not raised
    finally:
        db.alarms = repository
    assert events == []
    alarms.judge([down(TELEMETRY_STORE)], T0 + 2 * AFTER)
    assert db.alarms.find_open("store_unreachable", "p0-of-2").state.is_active
