"""The emergency runner on the real work-order book and records database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.domain import (
    Severity,
    Site,
    WorkOrder,
    WorkOrderAction,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from core.errors import Conflict, InvalidRequest
from core.events import Event, EventBus
from storage.records import Database
from tests.records import BACKENDS, fresh_database
from workorders.book import OPENED, Step, WorkOrderBook, work_order_json
from workorders.emergency import default_plans
from workorders.emergency_runs import STEP_LATE, EmergencyRunner

T0 = datetime(2026, 7, 14, 21, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)
_S = WorkOrderStatus


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(request, tmp_path)
    database.assets.upsert_site(Site("north", "North Tower"))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def events(bus: EventBus) -> list[Event]:
    seen: list[Event] = []
    bus.subscribe(seen.append, "emergency.")
    return seen


@pytest.fixture
def book(db: Database, bus: EventBus, clock: ManualClock) -> WorkOrderBook:
    return WorkOrderBook(db, bus, clock)


@pytest.fixture
def runner(db: Database, book: WorkOrderBook, bus: EventBus, clock: ManualClock) -> EmergencyRunner:
    runner = EmergencyRunner(default_plans(), db, book, bus, clock)
    bus.subscribe(runner.on_event, "workorder.")
    return runner


def alarm_order(db: Database, book: WorkOrderBook, rule: str = "site_power_cut",
                kind: WorkOrderKind = WorkOrderKind.EMERGENCY) -> WorkOrder:
    alarm, _ = db.alarms.raise_alarm(rule, "north", "north", Severity.CRITICAL, "Power cut at site north", T0 - MIN)
    order, _ = book.open(kind, WorkOrderPriority.EMERGENCY, "Power cut at site north", "north", alarm_id=alarm.id)
    return order


def test_a_power_cut_order_starts_the_power_cut_plan_once_even_if_told_twice(
        db: Database, book: WorkOrderBook, bus: EventBus, runner: EmergencyRunner, events: list[Event]) -> None:
    order = alarm_order(db, book)
    bus.publish(OPENED, work_order_json(order))  # the same event again (a replay, a second subscriber ...)
    runs = db.emergency.list()
    assert len(runs) == 1
    run = runs[0]
    assert (run.plan, run.work_order_id, run.site_id, run.drill, run.started_at) == (
        "site_power_cut", order.id, "north", False, T0)
    plan = default_plans().plans["site_power_cut"]
    assert [(s.title, s.role, s.due_at) for s in run.steps] == [
        (p.title, p.role.value, T0 + p.within) for p in plan.steps]
    assert [e.topic for e in events] == ["emergency.started"]


@pytest.mark.usefixtures("runner")
@pytest.mark.parametrize(("rule", "kind"), [("pump_cavitation", WorkOrderKind.EMERGENCY),
                                            ("site_power_cut", WorkOrderKind.CORRECTIVE)])
def test_orders_of_unmapped_rules_or_not_emergencies_carry_no_plan(
        db: Database, book: WorkOrderBook, rule: str, kind: WorkOrderKind) -> None:
    alarm_order(db, book, rule, kind)
    book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "Flood reported by phone", "north")
    assert db.emergency.list() == []


def test_checking_off_a_step_records_who_when_and_note(
        db: Database, book: WorkOrderBook, runner: EmergencyRunner, clock: ManualClock, events: list[Event]) -> None:
    order = alarm_order(db, book)
    run = db.emergency.for_work_order(order.id)
    assert run is not None
    clock.advance(4 * MIN)
    run = runner.check_off(run.id, 1, "op-li", "lifts A and B empty")
    assert (run.steps[0].done_by, run.steps[0].done_at, run.steps[0].note) == ("op-li", T0 + 4 * MIN,
                                                                                "lifts A and B empty")
    assert all(s.done_at is None for s in run.steps[1:])
    assert events[-1].data["position"] == 1
    with pytest.raises(Conflict):
        runner.check_off(run.id, 1, "op-wang")


def test_a_step_past_its_limit_escalates_exactly_once(
        db: Database, book: WorkOrderBook, runner: EmergencyRunner, clock: ManualClock, events: list[Event]) -> None:
    order = alarm_order(db, book)
    clock.advance(5 * MIN)
    assert runner.escalate_late() == 0  # due at 5 minutes: on time until then
    clock.advance(MIN)
    assert runner.escalate_late() == 1
    clock.advance(MIN)
    assert runner.escalate_late() == 0  # still late, already escalated
    late = [e for e in events if e.topic == STEP_LATE]
    assert [(e.data["work_order_id"], e.data["position"], e.data["role"]) for e in late] == [(order.id, 1, "operator")]
    escalations = [e for e in db.work_orders.history(order.id) if e.action is WorkOrderAction.ESCALATION]
    assert [(e.at, e.actor, e.data["emergency_step"]) for e in escalations] == [(T0 + 6 * MIN, "system", 1)]
    assert "step 1 late (1 min)" in escalations[0].note


def test_a_drill_runs_the_same_plan_without_an_alarm_or_order(
        db: Database, runner: EmergencyRunner, clock: ManualClock, events: list[Event]) -> None:
    run = runner.start_drill("north", "entrapment", "sup-zhao")
    plan = default_plans().plans["entrapment"]
    assert (run.drill, run.work_order_id, run.started_by) == (True, None, "sup-zhao")
    assert [s.title for s in run.steps] == [s.title for s in plan.steps]
    assert db.work_orders.count() == 0
    clock.advance(3 * MIN)
    assert runner.escalate_late() == 1  # the 2-minute intercom step: drills escalate too (on the bus only)
    assert events[-1].data["drill"] is True
    with pytest.raises(InvalidRequest, match="no emergency plan 'flood'"):
        runner.start_drill("north", "flood", "sup-zhao")
    with pytest.raises(InvalidRequest, match="unknown site 'west'"):
        runner.start_drill("west", "entrapment", "sup-zhao")


def test_closing_the_order_ends_the_run_and_the_after_action_has_late_steps_and_time_to_restore(
        db: Database, book: WorkOrderBook, runner: EmergencyRunner, clock: ManualClock) -> None:
    order = alarm_order(db, book)
    run = db.emergency.for_work_order(order.id)
    assert run is not None
    clock.advance(3 * MIN)
    runner.check_off(run.id, 1, "op-li")
    book.transition(order.id, Step(_S.DISPATCHED, "desk", assignee="tech-7"))
    clock.advance(9 * MIN)
    runner.check_off(run.id, 2, "desk")  # due at 10 min, done at 12
    book.transition(order.id, Step(_S.ACCEPTED, "tech-7"))
    clock.advance(18 * MIN)
    book.transition(order.id, Step(_S.ON_SITE, "tech-7"))
    clock.advance(20 * MIN)
    book.mark_restored(order.id, "tech-7", "mains back")  # 50 min after the alarm
    clock.advance(10 * MIN)
    book.transition(order.id, Step(_S.COMPLETED, "tech-7", failure_code="power_supply", cause="utility fault",
                                   remedy="none needed", labour_hours=1.0))
    assert db.emergency.get(run.id).ended_at is None
    book.transition(order.id, Step(_S.VERIFIED, "sup-zhao"))
    book.transition(order.id, Step(_S.CLOSED, "sup-zhao"))
    ended = db.emergency.get(run.id)
    assert ended.ended_at == T0 + 60 * MIN
    record = runner.after_action(run.id)
    assert record.time_to_restore == 51 * MIN
    assert [(s.position, s.late_by) for s in record.late_steps] == [
        (2, 2 * MIN), (3, 30 * MIN), (4, 30 * MIN), (5, 15 * MIN)]  # step 6 (4 h) was not due by the end
    whats = [e.what for e in record.timeline]
    assert whats[:3] == ["alarm raised", "order opened", "plan started"]
    assert whats[-2:] == ["closed", "plan ended"]
    assert {"step 1 done", "step 2 done", "restored", "completed"} <= set(whats)


def test_ending_a_run_by_hand_keeps_the_first_end(runner: EmergencyRunner, clock: ManualClock) -> None:
    run = runner.start_drill("north", "site_power_cut", "sup-zhao")
    clock.advance(7 * MIN)
    assert runner.end(run.id, "sup-zhao").ended_at == T0 + 7 * MIN
    clock.advance(MIN)
    assert runner.end(run.id, "sup-zhao").ended_at == T0 + 7 * MIN
