"""The dispatch service and the book's dispatch check, on a real SQLite records database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Site, WorkOrder, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.errors import InvalidRequest
from core.events import EventBus
from people.model import Role, Shift, Skill, Technician, User
from people.records import PeopleRecords
from storage.records import Database
from workorders.book import Step, WorkOrderBook
from workorders.dispatcher import DispatchService

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
_S = WorkOrderStatus


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    database.upgrade()
    database.assets.upsert_site(Site("north", "North Tower"))
    database.assets.upsert_asset(Asset("lift-a", "north", AssetKind.ELEVATOR, "Lift A"))
    database.assets.upsert_asset(Asset("pump-1", "north", AssetKind.PUMP, "Pump 1"))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def people(db: Database) -> PeopleRecords:
    records = PeopleRecords(db)
    staff = [("tom", {Skill.ELEVATOR}, {"elevator": date(2026, 11, 30)}), ("old", {Skill.ELEVATOR},
             {"elevator": date(2026, 11, 26)}), ("pia", {Skill.PLUMBER}, {}), ("pat", {Skill.PLUMBER}, {})]
    for user_id, skills, certificates in staff:
        records.users.upsert(User(user_id, user_id.title(), frozenset({Role.TECHNICIAN})), T0)
        records.technicians.upsert(Technician(user_id, frozenset(skills), certificates, frozenset({"north"})))
        records.shifts.add(Shift(user_id, T0 - timedelta(hours=2), T0 + timedelta(hours=6)))
    records.users.upsert(User("sue", "Sue", frozenset({Role.SUPERVISOR})), T0)
    return records


@pytest.fixture
def book(db: Database, clock: ManualClock) -> WorkOrderBook:
    return WorkOrderBook(db, EventBus(), clock)


@pytest.fixture
def service(db: Database, people: PeopleRecords, book: WorkOrderBook, clock: ManualClock) -> DispatchService:
    dispatch = DispatchService(db, people, book, clock)
    book.add_check(dispatch.check)
    return dispatch


def lift_order(book: WorkOrderBook, priority: WorkOrderPriority = WorkOrderPriority.URGENT) -> WorkOrder:
    return book.open(WorkOrderKind.CORRECTIVE, priority, "Door fault", "north", "lift-a")[0]


def pump_order(book: WorkOrderBook) -> WorkOrder:
    return book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, "Noisy pump", "north", "pump-1")[0]


@pytest.mark.parametrize(("technician", "reason"), [
    ("pia", "pia lacks the 'elevator' skill"),
    ("old", "old's 'elevator' certificate expired on 2026-11-26"),
    ("sue", "sue is not a technician"),
    ("nobody", "nobody is not a technician"),
])
def test_book_refuses_dispatch_to_someone_not_qualified(service: DispatchService, book: WorkOrderBook,
                                                        db: Database, technician: str, reason: str) -> None:
    order = lift_order(book)
    with pytest.raises(InvalidRequest, match=reason):
        book.transition(order.id, Step(_S.DISPATCHED, "sue", assignee=technician))
    assert db.work_orders.get(order.id).status is _S.REQUESTED


def test_book_refuses_a_requested_order_taken_by_someone_not_qualified(service: DispatchService,
                                                                       book: WorkOrderBook) -> None:
    order = lift_order(book)
    with pytest.raises(InvalidRequest, match="pia lacks the 'elevator' skill"):
        book.transition(order.id, Step(_S.ACCEPTED, "pia"))
    assert book.transition(order.id, Step(_S.ACCEPTED, "tom")).assignee == "tom"


def test_acceptance_after_the_certificate_expired_is_refused(service: DispatchService, book: WorkOrderBook,
                                                             clock: ManualClock) -> None:
    order = lift_order(book)
    book.transition(order.id, Step(_S.DISPATCHED, "sue", assignee="tom"))
    clock.advance(timedelta(days=4))  # the certificate was valid through 30 November
    with pytest.raises(InvalidRequest, match="expired on 2026-11-30"):
        book.transition(order.id, Step(_S.ACCEPTED, "tom"))


def test_book_refuses_an_inactive_technician(service: DispatchService, people: PeopleRecords,
                                             book: WorkOrderBook) -> None:
    people.users.upsert(User("tom", "Tom", frozenset({Role.TECHNICIAN}), active=False), T0)
    with pytest.raises(InvalidRequest, match="tom is not active"):
        book.transition(lift_order(book).id, Step(_S.DISPATCHED, "sue", assignee="tom"))


def test_auto_dispatch_sends_the_best_candidate_and_records_why(service: DispatchService, book: WorkOrderBook,
                                                               db: Database) -> None:
    order = lift_order(book)
    dispatched = service.dispatch(order.id, "sue")
    assert (dispatched.status, dispatched.assignee) == (_S.DISPATCHED, "tom")
    event = db.work_orders.history(order.id)[-1]
    assert event.data == {"auto": True, "reasons": ["qualified: elevator (elevator lift-a), elevator certificate "
                                                    "valid until 2026-11-30", "on shift", "covers north",
                                                    "0 open orders"]}


def test_proposal_counts_open_work_and_the_supervisor_may_override(service: DispatchService,
                                                                   book: WorkOrderBook) -> None:
    first = pump_order(book)
    assert service.dispatch(first.id, "sue").assignee == "pat"  # equal in all else: by name
    proposal = service.propose(pump_order(book).id)
    assert [(c.user_id, c.open_orders) for c in proposal.candidates] == [("pia", 0), ("pat", 1)]
    assert {user for user, _ in proposal.unqualified} == {"tom", "old"}
    assert service.dispatch(proposal.order.id, "sue", technician="pat").assignee == "pat"


def test_auto_dispatch_refuses_when_nobody_qualified_is_on_shift(service: DispatchService, book: WorkOrderBook,
                                                                 clock: ManualClock) -> None:
    order = lift_order(book)
    clock.advance(timedelta(hours=8))  # every shift has ended
    with pytest.raises(InvalidRequest, match="no technician with the 'elevator' skill is on shift now"):
        service.dispatch(order.id, "sue")
    assert service.propose(order.id).candidates[0].user_id == "tom"  # still listed, off duty


def test_emergency_outside_the_shifts_goes_to_the_one_on_call(service: DispatchService, book: WorkOrderBook,
                                                              people: PeopleRecords, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=8))
    people.shifts.add(Shift("pia", clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=12), on_call=True))
    burst = book.open(WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, "Burst pipe", "north", "pump-1")[0]
    assert service.dispatch(burst.id, "system").assignee == "pia"


def test_escalations_page_the_sites_technicians_on_duty_then_the_supervisors(service: DispatchService,
                                                                             people: PeopleRecords) -> None:
    people.users.upsert(User("tom", "Tom", frozenset({Role.TECHNICIAN}), phone="+86 1", supervisor_id="sue"), T0)
    people.users.upsert(User("ann", "Ann", frozenset({Role.TECHNICIAN})), T0)
    people.technicians.upsert(Technician("ann", frozenset({Skill.PLUMBER}), {}, frozenset({"south"})))
    people.shifts.add(Shift("ann", T0 - timedelta(hours=1), T0 + timedelta(hours=1)))  # on shift, other site
    first = service.recipients("north", 1, T0)
    assert [r["id"] for r in first] == ["old", "pat", "pia", "tom"]  # not ann: she works at another site
    assert first[-1] == {"id": "tom", "name": "Tom", "phone": "+86 1"}
    assert service.recipients("north", 2, T0) == [{"id": "sue", "name": "Sue", "phone": None}]
    assert service.recipients("north", 1, T0 + timedelta(hours=7)) == []  # every shift is over
