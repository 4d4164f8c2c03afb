"""Repository calls that meet a unique key inside a unit of work (SQLite, then PostgreSQL): the duplicate is
answered from a savepoint and the unit's other writes still commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.domain import Severity, WorkOrderKind, WorkOrderPriority

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def test_a_replayed_raise_inside_a_unit_returns_the_episode_and_the_unit_commits(db: Any) -> None:
    first, created = db.alarms.raise_alarm("r", "a1", "s1", Severity.HIGH, "one", T0)
    assert created
    with db.unit_of_work():
        again, created = db.alarms.raise_alarm("r", "a1", "s1", Severity.HIGH, "replayed", T0)
        db.alarms.comment(first.id, T0, "rules", "after the duplicate")  # the unit is still usable
    assert (again.id, created) == (first.id, False)
    assert db.alarms.count() == 1
    assert [event.note for event in db.alarms.history(first.id)] == ["one", "after the duplicate"]


def test_a_second_order_for_an_alarm_inside_a_unit_returns_the_first_and_the_unit_commits(db: Any) -> None:
    alarm, _ = db.alarms.raise_alarm("r", "a1", "s1", Severity.HIGH, "one", T0)
    due = T0 + timedelta(hours=4)
    with db.unit_of_work():
        order, created = db.work_orders.create(WorkOrderKind.CORRECTIVE, WorkOrderPriority.URGENT, "fix", "s1",
                                               "a1", T0, due, alarm_id=alarm.id)
        again, created_again = db.work_orders.create(WorkOrderKind.CORRECTIVE, WorkOrderPriority.URGENT, "fix",
                                                     "s1", "a1", T0, due, alarm_id=alarm.id)
        db.alarms.comment(alarm.id, T0, "rules", "ordered")
    assert created
    assert (again.id, created_again) == (order.id, False)
    assert db.work_orders.count() == 1
    assert db.alarms.get(alarm.id).work_order_id == order.id
    assert db.alarms.history(alarm.id)[-1].note == "ordered"
