"""Emergency runs and steps in the records database, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.domain import WorkOrderKind, WorkOrderPriority
from core.errors import Conflict, NotFound
from storage.records import Database
from tests.records import BACKENDS, fresh_database

T0 = datetime(2026, 7, 14, 21, 30, tzinfo=UTC)
STEPS = [("Check the elevators", "operator", T0 + timedelta(minutes=5)),
         ("Start the standby supply", "technician", T0 + timedelta(minutes=30))]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(request, tmp_path)
    yield database
    database.dispose()


def open_order(db: Database) -> int:
    order, _ = db.work_orders.create(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "Power cut", "north",
                                     None, T0, T0 + timedelta(minutes=30))
    return order.id


def test_a_run_is_stored_with_its_steps_in_plan_order(db: Database) -> None:
    order_id = open_order(db)
    run, created = db.emergency.start("site_power_cut", "north", T0, "system", STEPS, work_order_id=order_id)
    assert created
    assert db.emergency.get(run.id) == run
    assert [(s.position, s.title, s.role, s.due_at) for s in run.steps] == [
        (1, "Check the elevators", "operator", T0 + timedelta(minutes=5)),
        (2, "Start the standby supply", "technician", T0 + timedelta(minutes=30))]
    assert (run.work_order_id, run.drill, run.started_at, run.ended_at) == (order_id, False, T0, None)


def test_a_second_run_for_the_same_order_returns_the_first(db: Database) -> None:
    order_id = open_order(db)
    first, _ = db.emergency.start("site_power_cut", "north", T0, "system", STEPS, work_order_id=order_id)
    again, created = db.emergency.start("site_power_cut", "north", T0 + timedelta(seconds=1), "system", STEPS,
                                        work_order_id=order_id)
    assert (created, again) == (False, first)
    assert len(db.emergency.list()) == 1


def test_drills_need_no_order_and_may_run_side_by_side(db: Database) -> None:
    for _ in range(2):
        db.emergency.start("entrapment", "north", T0, "supervisor", STEPS, drill=True)
    assert [run.drill for run in db.emergency.list(site_id="north")] == [True, True]
    assert db.emergency.list(site_id="south") == []


def test_a_step_is_checked_off_once_with_who_when_and_note(db: Database) -> None:
    run, _ = db.emergency.start("site_power_cut", "north", T0, "system", STEPS)
    done_at = T0 + timedelta(minutes=3)
    run = db.emergency.check_off(run.id, 1, done_at, "op-li", "lifts A and B empty")
    assert (run.steps[0].done_at, run.steps[0].done_by, run.steps[0].note) == (done_at, "op-li", "lifts A and B empty")
    with pytest.raises(Conflict, match="was done by op-li"):
        db.emergency.check_off(run.id, 1, done_at, "op-wang")
    with pytest.raises(NotFound, match="no step 9"):
        db.emergency.check_off(run.id, 9, done_at, "op-wang")


def test_late_lists_undone_unescalated_steps_of_open_runs_and_escalation_is_stamped_once(db: Database) -> None:
    run, _ = db.emergency.start("site_power_cut", "north", T0, "system", STEPS)
    assert db.emergency.late(T0 + timedelta(minutes=5)) == []  # due at 5 min: not late at 5 min
    at = T0 + timedelta(minutes=6)
    assert [(r.id, s.position) for r, s in db.emergency.late(at)] == [(run.id, 1)]
    assert db.emergency.mark_escalated(run.id, 1, at) is True
    assert db.emergency.mark_escalated(run.id, 1, at + timedelta(minutes=1)) is False
    assert db.emergency.get(run.id).steps[0].escalated_at == at
    assert db.emergency.late(T0 + timedelta(minutes=20)) == []


def test_an_ended_run_has_no_late_steps_and_keeps_its_first_end(db: Database) -> None:
    run, _ = db.emergency.start("site_power_cut", "north", T0, "system", STEPS)
    ended, first = db.emergency.end(run.id, T0 + timedelta(minutes=2))
    again, first_again = db.emergency.end(run.id, T0 + timedelta(minutes=9))
    assert (first, first_again) == (True, False)
    assert ended.ended_at == again.ended_at == T0 + timedelta(minutes=2)
    assert db.emergency.late(T0 + timedelta(hours=1)) == []
    assert db.emergency.list(active=True) == []
    with pytest.raises(Conflict, match="ended"):
        db.emergency.check_off(run.id, 2, T0 + timedelta(minutes=3), "tech-7")


def test_runs_are_found_by_work_order(db: Database) -> None:
    order_id = open_order(db)
    run, _ = db.emergency.start("site_power_cut", "north", T0, "system", STEPS, work_order_id=order_id)
    assert db.emergency.for_work_order(order_id) == run
    assert db.emergency.list(work_order_id=order_id) == [run]
    assert db.emergency.for_work_order(order_id + 1) is None
