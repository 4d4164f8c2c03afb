"""The work-order book on a real SQLite records database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.domain import Severity, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.errors import NotFound, TransitionError
from core.events import Event, EventBus
from storage.records import Database
from workorders.book import WorkOrderBook, work_order_json

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def book(db: Database, clock: ManualClock, events: list[Event]) -> WorkOrderBook:
    bus = EventBus()
    bus.subscribe(events.append, "workorder.")
    return WorkOrderBook(db, bus, clock)


def test_open_sets_due_time_from_priority_and_publishes(book: WorkOrderBook, events: list[Event]) -> None:
    wo, created = book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "burst pipe", "s1", "p1",
                            "flooding in basement")
    assert created
    assert (wo.status, wo.opened_at, wo.due_at) == (WorkOrderStatus.OPEN, T0, T0 + timedelta(minutes=30))
    assert [(e.topic, e.data) for e in events] == [("workorder.opened", work_order_json(wo))]
    json.dumps(events[0].data)  # JSON-safe


def test_open_is_idempotent_per_alarm(book: WorkOrderBook, db: Database, clock: ManualClock,
                                      events: list[Event]) -> None:
    alarm, _ = db.alarms.raise_alarm("pump_burst_pipe", "p1", "s1", Severity.CRITICAL, "burst", T0)
    first, created = book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "burst", "s1", "p1",
                               alarm_id=alarm.id)
    clock.advance(timedelta(minutes=3))
    again, created_again = book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "burst", "s1", "p1",
                                     alarm_id=alarm.id)
    assert (created, created_again) == (True, False)
    assert again == first
    assert again.opened_at == T0
    assert len(events) == 1
    assert db.alarms.get(alarm.id).work_order_id == first.id


def test_transitions_are_recorded_and_published(book: WorkOrderBook, db: Database, clock: ManualClock,
                                                events: list[Event]) -> None:
    wo, _ = book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.URGENT, "vibration", "s1", "p1")
    clock.advance(timedelta(minutes=10))
    book.transition(wo.id, WorkOrderStatus.ASSIGNED, "planner", assignee="tech7")
    clock.advance(timedelta(minutes=50))
    book.transition(wo.id, WorkOrderStatus.IN_PROGRESS, "tech7", "on site")
    clock.advance(timedelta(hours=1))
    book.transition(wo.id, WorkOrderStatus.COMPLETED, "tech7", cause="worn bearing", remedy="replaced bearing")
    clock.advance(timedelta(hours=1))
    closed = book.transition(wo.id, WorkOrderStatus.CLOSED, "planner")

    assert (closed.status, closed.assignee, closed.cause, closed.remedy, closed.closed_at) == (
        WorkOrderStatus.CLOSED, "tech7", "worn bearing", "replaced bearing", T0 + timedelta(hours=2, minutes=60))
    history = db.work_orders.history(wo.id)
    assert [(e.from_status, e.to_status, e.actor, e.at - T0) for e in history] == [
        (None, WorkOrderStatus.OPEN, "system", timedelta(0)),
        (WorkOrderStatus.OPEN, WorkOrderStatus.ASSIGNED, "planner", timedelta(minutes=10)),
        (WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS, "tech7", timedelta(hours=1)),
        (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED, "tech7", timedelta(hours=2)),
        (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED, "planner", timedelta(hours=3)),
    ]
    assert [e.topic for e in events] == ["workorder.opened"] + ["workorder.changed"] * 4
    assert [e.data["status"] for e in events] == ["open", "assigned", "in_progress", "completed", "closed"]
    assert events[-1].data["closed_at"] == "2026-11-27T11:00:00+00:00"


def test_forbidden_transition_changes_nothing(book: WorkOrderBook, db: Database, events: list[Event]) -> None:
    wo, _ = book.open(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "noise", "s1")
    book.transition(wo.id, WorkOrderStatus.CANCELLED, "frontdesk", "duplicate")
    with pytest.raises(TransitionError):
        book.transition(wo.id, WorkOrderStatus.IN_PROGRESS, "tech7")
    assert db.work_orders.get(wo.id).status is WorkOrderStatus.CANCELLED
    assert len(db.work_orders.history(wo.id)) == 2
    assert [e.topic for e in events] == ["workorder.opened", "workorder.changed"]
    with pytest.raises(NotFound):
        book.transition(999, WorkOrderStatus.ASSIGNED, "x")


def test_work_order_json_uses_iso_times_and_enum_values(book: WorkOrderBook) -> None:
    wo, _ = book.open(WorkOrderKind.INSPECTION, WorkOrderPriority.PLANNED, "yearly", "s1", "e1")
    data = work_order_json(wo)
    assert data == {
        "id": wo.id, "kind": "inspection", "priority": "planned", "status": "open", "title": "yearly",
        "asset_id": "e1", "site_id": "s1", "opened_at": "2026-11-27T08:00:00+00:00",
        "due_at": "2026-12-11T08:00:00+00:00", "description": "", "assignee": None, "alarm_id": None,
        "closed_at": None, "cause": None, "remedy": None,
    }
    assert all(type(value) in (str, int, type(None)) for value in data.values())
