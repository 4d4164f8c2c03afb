"""Plans and plan tasks in the records database, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain import Site, WorkOrderKind, WorkOrderPriority, WorkOrderSource
from core.errors import Conflict, NotFound
from core.plans import Plan, PlanTask, PlanTaskStatus, SolveStatus
from storage.records import Database
from storage.records.plans import TaskFilter

AT = datetime(2026, 3, 2, 8, tzinfo=UTC)
DAY = date(2026, 3, 2)
_S = PlanTaskStatus


def plan(db: Database) -> int:
    stored = db.plans.add(Plan(None, AT, "planner", DAY, DAY + timedelta(days=89), SolveStatus.OPTIMAL, 1234.5,
                               {"tasks": 3.0}))
    assert stored.id is not None
    return stored.id


def task(asset: str, due_in: int, *, planned_in: int | None = None, tech: str | None = "wang",
         rule: str = "pump.quarterly", site: str = "s1") -> PlanTask:
    due = DAY + timedelta(days=due_in)
    return PlanTask(rule, asset, site, due, DAY + timedelta(days=due_in if planned_in is None else planned_in),
                    tech, "Quarterly pump service", 2.0, 120.0, 40.0, ("quarterly pump service due",))


def test_a_plan_is_stored_and_the_newest_is_the_latest(db: Database) -> None:
    assert db.plans.latest() is None
    first = plan(db)
    second = plan(db)
    latest = db.plans.latest()
    assert latest is not None
    assert latest.id == second != first
    assert latest.stats == {"tasks": 3.0}
    assert latest.status is SolveStatus.OPTIMAL


def test_upserting_the_same_keys_updates_the_tasks_and_never_adds_twins(db: Database) -> None:
    first = db.plans.upsert_tasks(plan(db), [task("p1", 5), task("p2", 9)])
    assert [t.status for t in first] == [_S.PROPOSED, _S.PROPOSED]
    again = db.plans.upsert_tasks(plan(db), [task("p1", 5, planned_in=3, tech="li"), task("p2", 9)])
    assert [t.id for t in again] == [t.id for t in first]
    assert (again[0].planned_date, again[0].technician_id) == (DAY + timedelta(days=3), "li")
    assert db.plans.total(TaskFilter()) == 2


def test_a_replan_leaves_the_tasks_people_decided_on_as_they_are(db: Database) -> None:
    accepted, rejected, dropped = db.plans.upsert_tasks(plan(db), [task("p1", 5), task("p2", 9), task("p3", 2)])
    assert accepted.id
    assert rejected.id
    assert dropped.id
    db.plans.change(accepted.id, [_S.PROPOSED], status=_S.ACCEPTED, decided_by="zhao", decided_at=AT)
    db.plans.change(rejected.id, [_S.PROPOSED], status=_S.REJECTED, move_reason="not needed", decided_by="zhao")
    db.plans.change(dropped.id, [_S.PROPOSED], status=_S.DROPPED)
    replanned = db.plans.upsert_tasks(plan(db), [task(a, d, planned_in=1, tech="li") for a, d in
                                                 (("p1", 5), ("p2", 9), ("p3", 2))])
    assert [(t.status, t.technician_id) for t in replanned] == [
        (_S.ACCEPTED, "wang"), (_S.REJECTED, "wang"), (_S.PROPOSED, "li")]
    assert replanned[0].decided_by == "zhao"
    assert replanned[1].move_reason == "not needed"


def test_a_review_step_is_a_compare_and_set(db: Database) -> None:
    (stored,) = db.plans.upsert_tasks(plan(db), [task("p1", 5)])
    assert stored.id is not None
    db.plans.change(stored.id, [_S.PROPOSED], status=_S.ACCEPTED, decided_by="zhao")
    with pytest.raises(Conflict, match="'accepted'"):
        db.plans.change(stored.id, [_S.PROPOSED], status=_S.REJECTED, decided_by="qian")
    assert db.plans.get(stored.id).decided_by == "zhao"
    with pytest.raises(NotFound):
        db.plans.change(999_999, [_S.PROPOSED], status=_S.ACCEPTED)
    with pytest.raises(NotFound):
        db.plans.get(999_999)


def test_tasks_are_filtered_and_paged_by_planned_day_with_a_total(db: Database) -> None:
    tasks = [task(f"p{i}", i % 7, tech="wang" if i % 2 else "li", site="s1" if i < 10 else "s2") for i in range(15)]
    db.plans.upsert_tasks(plan(db), tasks)
    where = TaskFilter(site_id="s1", technician_id="wang")
    seen, cursor = [], None
    while True:
        page, cursor = db.plans.page(where, limit=2, after=cursor)
        seen.extend(page)
        if cursor is None:
            break
    assert [t.asset_id for t in seen] == ["p7", "p1", "p9", "p3", "p5"]  # by day: 7 % 7 = 0, 1, 9 % 7 = 2, 3, 5
    assert db.plans.total(where) == 5
    window = TaskFilter(since=DAY + timedelta(days=2), until=DAY + timedelta(days=3), statuses=[_S.PROPOSED])
    assert {t.planned_date for t in db.plans.tasks(window)} == {DAY + timedelta(days=2), DAY + timedelta(days=3)}


def test_a_work_order_is_linked_once_and_found_again_by_its_reference(db: Database) -> None:
    db.assets.upsert_site(Site("s1", "Site one"))
    (stored,) = db.plans.upsert_tasks(plan(db), [task("p1", 5)])
    assert stored.id is not None
    order, _ = db.work_orders.create(WorkOrderKind.PREVENTIVE, WorkOrderPriority.PLANNED, "Quarterly", "s1", None,
                                     AT, AT + timedelta(days=5), source=WorkOrderSource.PLANNED,
                                     source_ref=f"plan-task:{stored.id}")
    assert db.plans.open_order_for(f"plan-task:{stored.id}") == order.id
    assert db.plans.link_work_order(stored.id, order.id, replaces=None)
    assert not db.plans.link_work_order(stored.id, order.id, replaces=None)  # someone linked one first
    assert db.plans.get(stored.id).work_order_id == order.id
    assert db.plans.open_order_for("plan-task:0") is None


def test_many_tasks_are_upserted_in_chunks(db: Database) -> None:
    tasks = [replace(task(f"a{i}", i % 90), rule_id=f"r{i % 3}") for i in range(1200)]
    stored = db.plans.upsert_tasks(plan(db), tasks)
    assert len({t.id for t in stored}) == 1200
    assert len(db.plans.upsert_tasks(plan(db), tasks)) == 1200
    assert db.plans.total(TaskFilter()) == 1200
