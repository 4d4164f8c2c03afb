"""Simulated operations on a manual clock over real SQLite: the whole loop, the rules kept, the figures filled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.domain import WorkOrderStatus as S
from core.inspections import RoundStatus
from core.settings import load_settings
from facmon.ops import OpsDriver, build_driver, simulate
from storage.records.inspections import RoundFilter
from storage.records.work_orders import WorkOrderFilter
from workorders.dispatch import shortfall
from workorders.figures import monthly_figures
from workorders.kpi import Month

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday, 08:00 in Shanghai: the day shift begins
DAYS = 4


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> OpsDriver:
    path: Path = tmp_path_factory.mktemp("ops") / "ops.sqlite3"
    clock = ManualClock(START)
    driver = build_driver(load_settings(database={"url": f"sqlite:///{path}"}), clock, seed=3, days=DAYS)
    simulate(driver, clock, DAYS)
    return driver


def test_simulated_days_take_orders_through_every_stage_of_the_loop(played: OpsDriver) -> None:
    orders, _ = played.db.work_orders.page(WorkOrderFilter(), limit=1000)
    reached = {event.to_status for order in orders for event in played.db.work_orders.history(order.id)}
    assert set(S) <= reached
    assert played.counts.requests > 0
    assert played.counts.complaints > 0
    assert played.counts.follow_ups > 0


def test_every_closed_order_has_its_completion_record_and_a_follow_up_if_it_had_a_requester(
        played: OpsDriver) -> None:
    closed, _ = played.db.work_orders.page(WorkOrderFilter(status=S.CLOSED), limit=1000)
    assert len(closed) >= 10
    for order in closed:
        assert order.failure_code
        assert order.cause
        assert order.remedy
        assert order.labour_hours
        assert order.completed_at is not None
        assert order.verified_at is not None
        if order.requester is not None:
            assert order.followed_up_at is not None
            assert order.satisfaction is not None


def test_no_order_is_ever_assigned_to_an_unqualified_technician(played: OpsDriver) -> None:
    orders, _ = played.db.work_orders.page(WorkOrderFilter(), limit=1000)
    technicians = {tech.user_id: tech for tech in played.dispatch.people.technicians.list()}
    assigned = [order for order in orders if order.assignee is not None and order.dispatched_at is not None]
    assert len(assigned) >= 10
    for order in assigned:
        assert order.assignee in technicians
        assert order.dispatched_at is not None
        assert shortfall(technicians[order.assignee], played.dispatch.job(order).need, order.dispatched_at) is None


def test_inspection_rounds_are_completed_and_emergency_plans_worked(played: OpsDriver) -> None:
    done = played.db.inspections.list(RoundFilter(statuses=[RoundStatus.DONE]))
    assert len(done) == played.counts.rounds_completed > 0
    assert played.counts.plans_worked > 0
    runs = played.db.emergency.list(active=None)
    assert any(all(step.done_at is not None for step in run.steps) for run in runs)


def test_the_monthly_figures_of_the_played_days_are_not_empty(played: OpsDriver) -> None:
    rows = [row for row in monthly_figures(played.db.engine, Month(2026, 3)) if row.kind == "all"]
    assert any(row.mttr_hours for row in rows)
    assert any(ratio.part > 0 for row in rows for ratio in row.sla.values())
    assert all(1 <= row.satisfaction <= 5 for row in rows if row.satisfaction is not None)
    assert any(row.satisfaction is not None for row in rows)
