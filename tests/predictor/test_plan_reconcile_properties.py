"""Re-planning under any sequence of solver answers (hypothesis), on the real records (SQLite):

- every open task has exactly one open planned work order, and no other planned order is open;
- that order is due at the end of the task's planned day, with its technician;
- re-planning again with the same answer changes nothing (no order opened, moved or dropped);
- a rejected key never comes back.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Site, WorkOrderSource
from core.events import EventBus
from core.plans import PlanTask, PlanTaskStatus, SolveStatus
from people.records import PeopleRecords
from predictor.plan_inputs import PlannerSetup, ProblemBuilder
from predictor.planner_service import OPEN, PlanningService
from predictor.planning.problem import Problem, Solution
from storage.records import Database
from storage.records.plans import TaskFilter
from storage.records.work_orders import WorkOrderFilter
from workorders.book import WorkOrderBook

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
ASSETS = ("p1", "p2", "p3")
DUE_DAYS = (5, 20, 40)
SETUP = PlannerSetup.load()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated records file with a site and three pumps, copied for each example."""
    path = tmp_path_factory.mktemp("plans") / "records.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.assets.upsert_site(Site("north", "North Tower"))
    for asset in ASSETS:
        db.assets.upsert_asset(Asset(asset, "north", AssetKind.PUMP, asset))
    db.dispose()
    return path


@dataclass
class Answer:
    tasks: list[PlanTask]

    def __call__(self, problem: Problem, time_limit_s: float) -> Solution:
        return Solution(SolveStatus.OPTIMAL, list(self.tasks), 0.0)


# One solver answer: for some (asset, due) keys, a planned day on or before the due date and a technician.
_choice = st.tuples(st.sampled_from(ASSETS), st.sampled_from(DUE_DAYS), st.integers(0, 5), st.sampled_from("ab"))
_answer = st.lists(_choice, max_size=6, unique_by=lambda c: (c[0], c[1]))
# Between two re-plans a planner may reject one open task (by its position), or not.
_step = st.tuples(_answer, st.none() | st.integers(0, 10))


def _tasks(choices: list[tuple[str, int, int, str]]) -> list[PlanTask]:
    return [PlanTask("pump.service", asset, "north", TODAY + timedelta(days=due),
                     TODAY + timedelta(days=due - early), f"tech-{tech}", "Pump service", 2.0, 180.0, 10.0,
                     ("service due",)) for asset, due, early, tech in choices]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_step, min_size=1, max_size=4))
def test_any_sequence_of_plans_keeps_one_open_order_per_open_task(
        template: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[list, int | None]]) -> None:
    path = tmp_path_factory.mktemp("example") / "records.db"
    shutil.copyfile(template, path)
    db = Database(f"sqlite:///{path}")
    clock = ManualClock(T0)
    answer = Answer([])
    service = PlanningService(db, WorkOrderBook(db, EventBus(), clock), clock,
                              ProblemBuilder(db, PeopleRecords(db), SETUP), answer)
    rejected: set[tuple[str, str, date]] = set()
    try:
        for choices, reject in steps:
            answer.tasks = _tasks(choices)
            service.replan()
            again = service.replan()
            assert (again.opened, again.moved, again.dropped) == (0, 0, 0)
            _check_orders(db, again.tasks)
            assert not rejected & {t.key for t in again.tasks}
            if reject is not None and again.tasks:
                victim = again.tasks[reject % len(again.tasks)]
                service.reject(victim.id or 0, "not wanted", "zhao")
                rejected.add(victim.key)
        assert {t.key for t in db.plans.tasks(TaskFilter(statuses=[PlanTaskStatus.REJECTED]))} == rejected
    finally:
        db.dispose()


def _check_orders(db: Database, tasks: list[PlanTask]) -> None:
    assert all(t.status in OPEN for t in tasks)
    open_orders, _ = db.work_orders.page(WorkOrderFilter(source=WorkOrderSource.PLANNED, open_only=True), 500)
    by_id = {o.id: o for o in open_orders}
    assert sorted(by_id) == sorted(t.work_order_id for t in tasks if t.work_order_id is not None)
    for task in tasks:
        order = by_id[task.work_order_id or 0]
        assert order.source_ref == f"plan-task:{task.id}"
        assert order.due_at == datetime.combine(task.planned_date + timedelta(days=1), datetime.min.time(), UTC)
        assert order.assignee == task.technician_id
