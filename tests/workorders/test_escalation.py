"""The SLA watch on SQLite and on a real PostgreSQL: escalations at 80 % and at breach, once each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.domain import WorkOrderAction, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.events import Event, EventBus
from storage.records import Database
from storage.records.models import UserRow
from tests.records import BACKENDS, fresh_database
from workorders.book import Step, WorkOrderBook
from workorders.escalation import ESCALATED, SlaWatch
from workorders.slafile import default_policy

T0 = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
MIN = timedelta(minutes=1)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(request, tmp_path)
    with database.engine.begin() as connection:  # a technician and the supervisor escalations go to
        connection.execute(UserRow.__table__.insert().values(id="tech1", name="Li", roles=[], active=True,
                                                             supervisor_id="boss", created_at=T0))
    yield database
    database.dispose()


class Desk:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = ManualClock(T0)
        self.bus = EventBus()
        self.escalated: list[Event] = []
        self.bus.subscribe(self.escalated.append, ESCALATED)
        policy = default_policy()
        self.book = WorkOrderBook(db, self.bus, self.clock, deadline=policy.first_due)
        self.watch = SlaWatch(db=db, bus=self.bus, policy=policy, clock=self.clock)

    def burst_pipe(self) -> int:
        order, _ = self.book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "burst pipe", "north")
        self.book.transition(order.id, Step(WorkOrderStatus.DISPATCHED, "desk", assignee="tech1"))
        return order.id

    def levels(self) -> list[tuple[int, str, str, str]]:
        return [(e.work_order_id, e.target, e.level, e.notified) for e in self.db.sla.escalations()]


def test_escalates_at_80_percent_and_at_breach_exactly_once_each(db: Database) -> None:
    desk = Desk(db)
    wo = desk.burst_pipe()
    version = db.work_orders.get(wo).version
    assert desk.watch.check(T0 + 20 * MIN) == 0  # arrive: 20 of 30 minutes
    assert [desk.watch.check(T0 + 25 * MIN) for _ in range(3)] == [1, 0, 0]
    assert [desk.watch.check(T0 + 31 * MIN) for _ in range(3)] == [1, 0, 0]
    assert desk.levels() == [(wo, "arrive", "at_risk", "boss"), (wo, "arrive", "breached", "boss")]
    assert [(e.data["target"], e.data["level"], e.data["supervisor"], e.data["due_at"]) for e in desk.escalated] == [
        ("arrive", "at_risk", "boss", (T0 + 30 * MIN).isoformat()),
        ("arrive", "breached", "boss", (T0 + 30 * MIN).isoformat())]
    history = [e for e in db.work_orders.history(wo) if e.action is WorkOrderAction.ESCALATION]
    assert [(e.actor, e.data["level"]) for e in history] == [("sla", "at_risk"), ("sla", "breached")]
    assert db.work_orders.get(wo).version == version  # written with the escalation: nobody's read went stale


def test_a_check_that_first_runs_after_the_deadline_records_only_the_breach(db: Database) -> None:
    desk = Desk(db)
    wo = desk.burst_pipe()
    desk.watch.check(T0 + 40 * MIN)
    assert desk.levels() == [(wo, "arrive", "breached", "boss")]


def test_checks_at_the_same_time_tell_the_supervisor_once(db: Database) -> None:
    desks = [Desk(db), Desk(db)]
    desks[0].burst_pipe()
    barrier = threading.Barrier(2)

    def check(desk: Desk) -> None:
        barrier.wait()
        desk.watch.check(T0 + 26 * MIN)

    threads = [threading.Thread(target=check, args=(desk,)) for desk in desks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(desks[0].levels()) == 1
    assert len(desks[0].escalated) + len(desks[1].escalated) == 1


def test_due_at_follows_the_next_pending_deadline_without_a_new_version(db: Database) -> None:
    desk = Desk(db)
    wo = desk.burst_pipe()
    assert db.work_orders.get(wo).due_at == T0 + 30 * MIN  # the book's first deadline: on site
    desk.clock.advance(10 * MIN)
    desk.book.transition(wo, Step(WorkOrderStatus.ACCEPTED, "tech1"))
    desk.clock.advance(10 * MIN)
    on_site = desk.book.transition(wo, Step(WorkOrderStatus.ON_SITE, "tech1"))
    desk.watch.check(T0 + 21 * MIN)
    after = db.work_orders.get(wo)
    assert (after.due_at, after.version) == (T0 + timedelta(hours=4), on_site.version)  # restore
    assert desk.levels() == []


def test_orders_done_or_cancelled_are_not_watched(db: Database) -> None:
    desk = Desk(db)
    wo = desk.burst_pipe()
    desk.book.transition(wo, Step(WorkOrderStatus.CANCELLED, "desk", note="duplicate call"))
    assert desk.watch.check(T0 + timedelta(hours=5)) == 0
    assert desk.levels() == []
