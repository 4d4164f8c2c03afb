"""The alarm records added for the ISA-18.2 lifecycle (flags, annunciations, maintenance windows, checkpoints) on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import AlarmState, MaintenanceWindow, Severity
from core.errors import NotFound
from storage.records import Database

T0 = datetime(2026, 11, 27, 8, 0, 0, 123456, tzinfo=UTC)


def test_flags_shelf_assignee_and_filters(db: Database) -> None:
    cause, _ = db.alarms.raise_alarm("site_power_cut", "s", "s", Severity.CRITICAL, "cut", T0)
    child, _ = db.alarms.raise_alarm("mains_lost", "p", "s", Severity.HIGH, "mains", T0)
    flagged = db.alarms.set_flags(child.id, T0, "rules", suppressed_by=cause.id, chattering=True,
                                  out_of_service="work order #3 in progress")
    assert (flagged.suppressed_by, flagged.chattering, flagged.out_of_service) == (
        cause.id, True, "work order #3 in progress")
    events = db.alarms.history(child.id)
    db.alarms.set_flags(child.id, T0, "rules", chattering=True)  # no change: no event
    assert len(db.alarms.history(child.id)) == len(events)
    with pytest.raises(ValueError, match="unknown alarm flags"):
        db.alarms.set_flags(child.id, T0, "rules", state="normal")

    until = T0 + timedelta(hours=1)
    assert db.alarms.shelve(cause.id, until, "noisy", T0, "ana").shelved_until == until
    assert db.alarms.assign(cause.id, "bo", T0, "ana").assignee == "bo"
    assert [a.id for a in db.alarms.list(shelved=True)] == [cause.id]
    assert [a.id for a in db.alarms.list(suppressed=True)] == [child.id]
    assert [a.id for a in db.alarms.list(suppressed_by=cause.id)] == [child.id]
    assert [a.id for a in db.alarms.list(state=AlarmState.UNACKNOWLEDGED, shelved=False)] == [child.id]
    assert db.alarms.shelf_expired(until - timedelta(microseconds=1)) == []
    assert [a.id for a in db.alarms.shelf_expired(until)] == [cause.id]
    assert db.alarms.shelve(cause.id, None, "by hand", T0, "ana").shelve_reason == ""
    assert [a.id for a in db.alarms.open_of(site_id="s", rule_ids=["mains_lost"])] == [child.id]
    assert db.alarms.count_chattering(T0, until) == 1


def test_annunciations_are_the_raises_and_reraises_not_comments(db: Database) -> None:
    alarm, _ = db.alarms.raise_alarm("r", "a", "s", Severity.HIGH, "m", T0)
    db.alarms.comment(alarm.id, T0 + timedelta(minutes=1), "ana", "looking")
    db.alarms.set_state(alarm.id, AlarmState.RTN_UNACKNOWLEDGED, T0 + timedelta(minutes=2), "rules")
    db.alarms.set_state(alarm.id, AlarmState.UNACKNOWLEDGED, T0 + timedelta(minutes=3), "rules")
    got = db.alarms.annunciations(T0, T0 + timedelta(hours=1))
    assert got == [(T0, "r", "a", "high"), (T0 + timedelta(minutes=3), "r", "a", "high")]
    assert db.alarms.annunciations(T0 + timedelta(minutes=4), T0 + timedelta(hours=1)) == []


def test_maintenance_windows_crud_and_covering(db: Database) -> None:
    window = db.maintenance.add(MaintenanceWindow(0, "s", None, T0, T0 + timedelta(hours=2), "shutdown", "pl"))
    assert window.id > 0
    assert db.maintenance.get(window.id) == window
    assert db.maintenance.list(at=T0 + timedelta(hours=1)) == [window]
    assert db.maintenance.list(at=T0 + timedelta(hours=2)) == []  # [since, until)
    assert db.maintenance.list(site_id="other") == []
    moved = db.maintenance.update(MaintenanceWindow(window.id, "s", "p", T0, T0 + timedelta(hours=3), "pump", "pl"))
    assert db.maintenance.get(window.id) == moved
    db.maintenance.delete(window.id)
    assert db.maintenance.count() == 0
    with pytest.raises(NotFound):
        db.maintenance.delete(window.id)


def test_checkpoint_save_replaces_and_load(db: Database) -> None:
    assert db.checkpoints.load("rules") is None
    db.checkpoints.save("rules", {"version": 1, "assets": {"p": {"values": {"x": 1.5}}}}, T0)
    db.checkpoints.save("rules", {"version": 1, "assets": {}}, T0 + timedelta(seconds=30))
    assert db.checkpoints.load("rules") == ({"version": 1, "assets": {}}, T0 + timedelta(seconds=30))
