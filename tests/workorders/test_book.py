"""The work-order book on real databases: the loop, what each step needs, optimistic locking."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import ManualClock
from core.domain import (
    Asset,
    AssetKind,
    PartUsed,
    RequestChannel,
    Severity,
    Site,
    WaitingFor,
    WorkOrderAction,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderSource,
    WorkOrderStatus,
)
from core.errors import Conflict, InvalidRequest, NotFound, TransitionError
from core.events import Event, EventBus
from storage.records import Database
from tests.records import BACKENDS, fresh_database
from tests.storage.test_records import in_threads
from workorders.book import Step, WorkOrderBook, work_order_json
from workorders.lifecycle import can_transition

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
S = WorkOrderStatus


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(request, tmp_path)
    database.assets.upsert_site(Site("s1", "North"))
    database.assets.upsert_asset(Asset("p1", "s1", AssetKind.PUMP, "Pump 1"))
    database.assets.upsert_asset(Asset("e1", "s1", AssetKind.ELEVATOR, "Lift A"))
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    database.upgrade()
    database.assets.upsert_site(Site("s1", "North"))
    database.assets.upsert_asset(Asset("p1", "s1", AssetKind.PUMP, "Pump 1"))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def events() -> list[Event]:
    return []


def make_book(db: Database, clock: ManualClock, events: list[Event]) -> WorkOrderBook:
    bus = EventBus()
    bus.subscribe(events.append, "workorder.")
    return WorkOrderBook(db, bus, clock)


@pytest.fixture
def book(db: Database, clock: ManualClock, events: list[Event]) -> WorkOrderBook:
    return make_book(db, clock, events)


def full_step(to: S, actor: str = "tech7", **overrides: Any) -> Step:
    """A step to ``to`` carrying everything any step may need."""
    fields: dict[str, Any] = {"note": "why", "assignee": "tech7", "waiting_for": WaitingFor.PARTS,
                              "failure_code": "bearing", "cause": "worn bearing", "remedy": "bearing replaced",
                              "labour_hours": 1.5, "satisfaction": 5}
    fields.update(overrides)
    return Step(to, actor, **fields)


def open_pump_order(book: WorkOrderBook, **fields: Any) -> Any:
    order, _ = book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.URGENT, "vibration", "s1", "p1", **fields)
    return order


# --- opening --------------------------------------------------------------------------------------------

def test_open_is_requested_due_by_the_priority_and_published(book: WorkOrderBook, events: list[Event]) -> None:
    wo, created = book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "burst pipe", "s1", "p1",
                            "flooding in basement")
    assert created
    assert (wo.status, wo.opened_at, wo.due_at, wo.version) == (S.REQUESTED, T0, T0 + timedelta(minutes=30), 1)
    assert (wo.source, wo.source_ref) == (WorkOrderSource.DESK, None)
    assert [(e.topic, e.data) for e in events] == [("workorder.opened", work_order_json(wo))]
    json.dumps(events[0].data)  # JSON-safe


def test_a_phone_request_keeps_who_called_from_where(book: WorkOrderBook, db: Database) -> None:
    wo, _ = book.open(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "no water", "s1", actor="desk-anna",
                      source=WorkOrderSource.REQUEST, channel=RequestChannel.PHONE, requester="Mr Li",
                      caller_phone="+86 138 0000 0000", address="block 2, flat 1203")
    stored = db.work_orders.get(wo.id)
    assert (stored.source, stored.channel, stored.requester, stored.caller_phone, stored.address) == (
        WorkOrderSource.REQUEST, RequestChannel.PHONE, "Mr Li", "+86 138 0000 0000", "block 2, flat 1203")
    assert db.work_orders.history(wo.id)[0].actor == "desk-anna"


def test_open_is_idempotent_per_alarm_and_links_back(book: WorkOrderBook, db: Database, clock: ManualClock,
                                                     events: list[Event]) -> None:
    alarm, _ = db.alarms.raise_alarm("pump_burst_pipe", "p1", "s1", Severity.CRITICAL, "burst", T0)
    first, created = book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "burst", "s1", "p1",
                               alarm_id=alarm.id)
    clock.advance(timedelta(minutes=3))
    again, created_again = book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "burst", "s1", "p1",
                                     alarm_id=alarm.id)
    assert (created, created_again) == (True, False)
    assert again == first
    assert (first.source, first.source_ref, first.alarm_id) == (WorkOrderSource.ALARM, f"alarm:{alarm.id}", alarm.id)
    assert len(events) == 1
    assert db.alarms.get(alarm.id).work_order_id == first.id


# --- the loop -------------------------------------------------------------------------------------------

def test_the_whole_loop_records_who_when_why_and_stamps_milestones(book: WorkOrderBook, db: Database,
                                                                   clock: ManualClock,
                                                                   events: list[Event]) -> None:
    wo = open_pump_order(book)
    plan = [
        (Step(S.DISPATCHED, "desk", assignee="tech7"), "desk"),
        (Step(S.ACCEPTED, "tech7"), "tech7"),
        (Step(S.ON_SITE, "tech7"), "tech7"),
        (Step(S.IN_PROGRESS, "tech7"), "tech7"),
        (Step(S.WAITING, "tech7", note="seal on order", waiting_for=WaitingFor.PARTS), "tech7"),
        (Step(S.IN_PROGRESS, "tech7"), "tech7"),
        (Step(S.COMPLETED, "tech7", note="ran 30 min", failure_code="seal_leak", cause="worn seal",
              remedy="seal replaced", parts=(PartUsed("mechanical seal 32 mm", 1),), labour_hours=2.5), "tech7"),
        (Step(S.VERIFIED, "supervisor"), "supervisor"),
        (Step(S.FOLLOWED_UP, "desk", note="quick and tidy", satisfaction=4), "desk"),
        (Step(S.CLOSED, "desk"), "desk"),
    ]
    for step, _ in plan:
        clock.advance(timedelta(minutes=10))
        book.transition(wo.id, step)
    done = db.work_orders.get(wo.id)
    at = [T0 + timedelta(minutes=10 * i) for i in range(len(plan) + 1)]
    assert (done.status, done.assignee, done.version) == (S.CLOSED, "tech7", 1 + len(plan))
    assert (done.dispatched_at, done.accepted_at, done.on_site_at) == (at[1], at[2], at[3])
    assert (done.completed_at, done.restored_at, done.verified_at, done.followed_up_at, done.closed_at) == (
        at[7], at[7], at[8], at[9], at[10])
    assert (done.failure_code, done.cause, done.remedy, done.labour_hours, done.completion_notes) == (
        "seal_leak", "worn seal", "seal replaced", 2.5, "ran 30 min")
    assert done.parts == (PartUsed("mechanical seal 32 mm", 1.0),)
    assert (done.satisfaction, done.follow_up_comment, done.waiting_for) == (4, "quick and tidy", None)
    history = db.work_orders.history(wo.id)
    assert [(e.from_status, e.to_status, e.actor, e.at) for e in history[1:]] == [
        (before.to_status, step.to_status, actor, at[i + 1])
        for i, ((step, actor), before) in enumerate(zip(plan, history, strict=False))]
    assert history[5].note == "seal on order"
    assert [e.data["status"] for e in events] == ["requested"] + [step.to_status.value for step, _ in plan]
    assert events[-1].data["allowed"] == []


def test_a_requested_order_taken_directly_is_assigned_to_who_took_it(book: WorkOrderBook) -> None:
    wo = open_pump_order(book)
    taken = book.transition(wo.id, Step(S.ACCEPTED, "tech9"))
    assert (taken.assignee, taken.accepted_at, taken.dispatched_at) == ("tech9", T0, None)


def test_a_declined_order_goes_back_to_requested_without_assignee(book: WorkOrderBook) -> None:
    wo = open_pump_order(book)
    book.transition(wo.id, Step(S.DISPATCHED, "desk", assignee="tech7"))
    back = book.transition(wo.id, Step(S.REQUESTED, "tech7", note="off sick"))
    assert (back.status, back.assignee) == (S.REQUESTED, None)


def walk_to(book: WorkOrderBook, work_order_id: int, *path: S) -> None:
    for to in path:
        book.transition(work_order_id, full_step(to))


@pytest.mark.parametrize(("path", "step", "lacks"), [
    ((), Step(S.DISPATCHED, "desk"), "assignee"),
    ((S.ACCEPTED, S.ON_SITE), Step(S.WAITING, "tech7"), "waiting_for"),
    ((S.ACCEPTED, S.ON_SITE), full_step(S.COMPLETED, failure_code=None), "the failure code"),
    ((S.ACCEPTED, S.ON_SITE), full_step(S.COMPLETED, cause=""), "the cause"),
    ((S.ACCEPTED, S.ON_SITE), full_step(S.COMPLETED, remedy=None), "the remedy"),
    ((S.ACCEPTED, S.ON_SITE), full_step(S.COMPLETED, labour_hours=None), "the labour hours"),
    ((S.ACCEPTED, S.ON_SITE, S.COMPLETED, S.VERIFIED), full_step(S.FOLLOWED_UP, satisfaction=None), "1 to 5"),
    ((S.ACCEPTED, S.ON_SITE, S.COMPLETED, S.VERIFIED), full_step(S.FOLLOWED_UP, satisfaction=0), "1 to 5"),
    ((S.ACCEPTED, S.ON_SITE, S.COMPLETED, S.VERIFIED), full_step(S.FOLLOWED_UP, satisfaction=6), "1 to 5"),
    ((), Step(S.CANCELLED, "desk", note="  "), "a reason"),
    ((S.ACCEPTED, S.ON_SITE, S.COMPLETED), Step(S.IN_PROGRESS, "supervisor"), "a reason"),
])
def test_a_step_lacking_what_it_needs_is_refused_and_changes_nothing(
        sqlite_db: Database, clock: ManualClock, path: tuple[S, ...], step: Step, lacks: str) -> None:
    book = make_book(sqlite_db, clock, [])
    wo = open_pump_order(book)
    walk_to(book, wo.id, *path)
    before = sqlite_db.work_orders.get(wo.id)
    with pytest.raises(InvalidRequest, match=lacks):
        book.transition(wo.id, step)
    assert sqlite_db.work_orders.get(wo.id) == before


def test_a_failure_code_of_another_asset_kind_is_refused_naming_the_right_ones(sqlite_db: Database,
                                                                               clock: ManualClock) -> None:
    book = make_book(sqlite_db, clock, [])
    wo = open_pump_order(book)
    walk_to(book, wo.id, S.ACCEPTED, S.ON_SITE)
    with pytest.raises(InvalidRequest, match="'door_operator' is not one of pump's: bearing, seal_leak"):
        book.transition(wo.id, full_step(S.COMPLETED, failure_code="door_operator"))
    assert sqlite_db.work_orders.get(wo.id).status is S.ON_SITE
    assert book.transition(wo.id, full_step(S.COMPLETED, failure_code="impeller")).failure_code == "impeller"


def test_a_site_level_order_takes_the_site_codes(sqlite_db: Database, clock: ManualClock) -> None:
    book = make_book(sqlite_db, clock, [])
    wo, _ = book.open(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "lobby door", "s1")
    walk_to(book, wo.id, S.ACCEPTED, S.ON_SITE)
    with pytest.raises(InvalidRequest, match="site's"):
        book.transition(wo.id, full_step(S.COMPLETED, failure_code="bearing"))
    assert book.transition(wo.id, full_step(S.COMPLETED, failure_code="building_fabric")).status is S.COMPLETED


def test_a_forbidden_step_changes_nothing_and_publishes_nothing(book: WorkOrderBook, db: Database,
                                                               events: list[Event]) -> None:
    wo = open_pump_order(book)
    book.transition(wo.id, Step(S.CANCELLED, "desk", note="duplicate"))
    with pytest.raises(TransitionError, match="allowed: none"):
        book.transition(wo.id, full_step(S.IN_PROGRESS))
    cancelled = db.work_orders.get(wo.id)
    assert (cancelled.status, cancelled.closed_at, cancelled.version) == (S.CANCELLED, T0, 2)
    assert len(db.work_orders.history(wo.id)) == 2
    assert [e.topic for e in events] == ["workorder.opened", "workorder.changed"]
    with pytest.raises(NotFound):
        book.transition(999, full_step(S.DISPATCHED))


def test_a_stale_version_is_a_conflict(book: WorkOrderBook, db: Database) -> None:
    wo = open_pump_order(book)
    book.transition(wo.id, Step(S.DISPATCHED, "desk", assignee="tech7", expected_version=1))
    with pytest.raises(Conflict, match="version 2"):
        book.transition(wo.id, Step(S.ACCEPTED, "tech7", expected_version=1))
    assert book.transition(wo.id, Step(S.ACCEPTED, "tech7", expected_version=2)).version == 3


def test_two_technicians_accepting_at_once_one_wins_the_other_gets_conflict(book: WorkOrderBook,
                                                                             db: Database) -> None:
    wo = open_pump_order(book)
    book.transition(wo.id, Step(S.DISPATCHED, "desk", assignee="tech7"))

    def accept(actor: str) -> str:
        try:
            book.transition(wo.id, Step(S.ACCEPTED, actor, expected_version=2))
        except Conflict:
            return "conflict"
        return "won"

    names = iter(["tech7", "tech8"])
    lock = threading.Lock()

    def next_accept() -> str:
        with lock:
            actor = next(names)
        return accept(actor)

    assert sorted(in_threads(2, next_accept)) == ["conflict", "won"]
    accepted = db.work_orders.get(wo.id)
    assert (accepted.status, accepted.version) == (S.ACCEPTED, 3)
    assert [e.to_status for e in db.work_orders.history(wo.id)].count(S.ACCEPTED) == 1


def test_restored_and_comments_are_recorded_without_changing_status(book: WorkOrderBook, db: Database,
                                                                    clock: ManualClock) -> None:
    wo = open_pump_order(book)
    with pytest.raises(InvalidRequest, match="restored only on site"):
        book.mark_restored(wo.id, "tech7")
    walk_to(book, wo.id, S.ACCEPTED, S.ON_SITE)
    clock.advance(timedelta(minutes=5))
    restored = book.mark_restored(wo.id, "tech7", "water back on")
    book.comment(wo.id, "desk", "resident informed")
    assert (restored.status, restored.restored_at) == (S.ON_SITE, T0 + timedelta(minutes=5))
    done = book.transition(wo.id, full_step(S.COMPLETED))
    assert done.restored_at == T0 + timedelta(minutes=5)  # the completion keeps the earlier restore
    actions = [(e.action, e.from_status, e.to_status, e.note) for e in db.work_orders.history(wo.id)[3:]]
    assert actions == [(WorkOrderAction.RESTORE, S.ON_SITE, S.ON_SITE, "water back on"),
                       (WorkOrderAction.COMMENT, S.ON_SITE, S.ON_SITE, "resident informed"),
                       (WorkOrderAction.TRANSITION, S.ON_SITE, S.COMPLETED, "why")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list(S)), min_size=1, max_size=25))
def test_random_walks_history_replays_to_the_status(sqlite_db: Database, clock: ManualClock,
                                                    walk: list[S]) -> None:
    book = make_book(sqlite_db, clock, [])
    wo = open_pump_order(book)
    status = S.REQUESTED
    for to in walk:
        if can_transition(status, to):
            status = book.transition(wo.id, full_step(to)).status
        elif to is status:  # the status it already has: a no-op for the same person, refused for another
            version = sqlite_db.work_orders.get(wo.id).version
            with contextlib.suppress(TransitionError):
                assert book.transition(wo.id, full_step(to)).version == version  # nothing recorded
        else:
            with pytest.raises(TransitionError):
                book.transition(wo.id, full_step(to))
    history = sqlite_db.work_orders.history(wo.id)
    replayed: S | None = None
    for event in history:
        assert event.from_status == replayed
        replayed = event.to_status
    final = sqlite_db.work_orders.get(wo.id)
    assert replayed == final.status == status
    assert final.version == len(history)
    assert (final.closed_at is not None) == final.status.is_terminal


def test_work_order_json_is_json_safe_with_allowed_steps(book: WorkOrderBook) -> None:
    wo = open_pump_order(book, source=WorkOrderSource.REQUEST, channel=RequestChannel.WEB,
                         related_assets=("p1", "p2"))
    data = work_order_json(wo)
    assert (data["status"], data["source"], data["channel"], data["opened_at"]) == (
        "requested", "request", "web", "2026-11-27T08:00:00+00:00")
    assert data["allowed"] == ["dispatched", "accepted", "cancelled"]
    assert (data["related_assets"], data["parts"]) == (["p1", "p2"], [])
    assert json.loads(json.dumps(data)) == data
