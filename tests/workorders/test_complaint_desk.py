"""The complaint desk over its repository, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.clock import ManualClock
from core.domain import RequestChannel, Site, WorkOrderPriority, WorkOrderSource, WorkOrderStatus
from core.errors import Conflict, InvalidRequest, NotFound, TransitionError
from core.events import Event, EventBus
from storage.records import Database
from workorders.book import WorkOrderBook
from workorders.complaint_desk import ComplaintDesk
from workorders.complaints import ComplaintCategory, ComplaintStatus

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S = ComplaintStatus


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def desk(db: Database, clock: ManualClock, events: list[Event]) -> ComplaintDesk:
    for site in (Site("north", "North Tower"), Site("south", "South Court")):
        db.assets.upsert_site(site)
    bus = EventBus()
    bus.subscribe(events.append, "complaint.")
    return ComplaintDesk(db, WorkOrderBook(db, bus, clock), bus, clock)


def register(desk: ComplaintDesk, site_id: str = "north") -> int:
    return desk.register(site_id, RequestChannel.PHONE, ComplaintCategory.NOISE, "Ms Li, 12B",
                         "pump room hums all night", "desk-ann", phone="13800000000").id


def test_registered_complaint_is_due_for_a_first_response_in_24_hours(desk: ComplaintDesk,
                                                                        events: list[Event]) -> None:
    complaint = desk.get(register(desk))
    assert (complaint.status, complaint.received_at, complaint.respond_due_at) == (S.RECEIVED, T0,
                                                                                   T0 + timedelta(hours=24))
    assert (complaint.channel, complaint.category, complaint.phone) == (RequestChannel.PHONE,
                                                                        ComplaintCategory.NOISE, "13800000000")
    assert [(e.topic, e.data["status"]) for e in events] == [("complaint.registered", "received")]


def test_complaint_at_an_unknown_site_is_refused(desk: ComplaintDesk) -> None:
    with pytest.raises(InvalidRequest, match="unknown site 'west'"):
        register(desk, "west")


def test_the_whole_loop_records_who_when_and_why(desk: ComplaintDesk, clock: ManualClock) -> None:
    complaint_id = register(desk)
    clock.advance(timedelta(hours=2))
    desk.transition(complaint_id, S.INVESTIGATING, "supervisor-wu")
    clock.advance(timedelta(hours=5))
    desk.transition(complaint_id, S.ANSWERED, "supervisor-wu", note="pump mounts replaced; night mode set")
    clock.advance(timedelta(days=2))
    desk.transition(complaint_id, S.FOLLOWED_UP, "desk-ann", note="quiet now", satisfaction=4)
    closed = desk.transition(complaint_id, S.CLOSED, "desk-ann")
    assert closed.responded_at == T0 + timedelta(hours=2)
    assert (closed.answer, closed.satisfaction, closed.follow_up_comment) == (
        "pump mounts replaced; night mode set", 4, "quiet now")
    assert (closed.closed_at, closed.version) == (T0 + timedelta(days=2, hours=7), 5)
    assert [(e.from_status, e.to_status, e.actor, e.at - T0) for e in desk.history(complaint_id)] == [
        (None, S.RECEIVED, "desk-ann", timedelta(0)),
        (S.RECEIVED, S.INVESTIGATING, "supervisor-wu", timedelta(hours=2)),
        (S.INVESTIGATING, S.ANSWERED, "supervisor-wu", timedelta(hours=7)),
        (S.ANSWERED, S.FOLLOWED_UP, "desk-ann", timedelta(days=2, hours=7)),
        (S.FOLLOWED_UP, S.CLOSED, "desk-ann", timedelta(days=2, hours=7)),
    ]


def test_forbidden_step_names_the_allowed_ones_and_changes_nothing(desk: ComplaintDesk) -> None:
    complaint_id = register(desk)
    with pytest.raises(TransitionError, match="allowed: investigating, withdrawn"):
        desk.transition(complaint_id, S.CLOSED, "desk-ann")
    assert desk.get(complaint_id).version == 1
    assert len(desk.history(complaint_id)) == 1


def test_answer_without_text_is_refused(desk: ComplaintDesk) -> None:
    complaint_id = register(desk)
    desk.transition(complaint_id, S.INVESTIGATING, "supervisor-wu")
    with pytest.raises(InvalidRequest, match="the answer given to the complainant"):
        desk.transition(complaint_id, S.ANSWERED, "supervisor-wu")


def test_a_stale_version_is_a_conflict(desk: ComplaintDesk) -> None:
    complaint_id = register(desk)
    desk.transition(complaint_id, S.INVESTIGATING, "supervisor-wu", expected_version=1)
    with pytest.raises(Conflict, match="version 2"):
        desk.transition(complaint_id, S.WITHDRAWN, "desk-ann", note="resolved by phone", expected_version=1)


def listed(desk: ComplaintDesk, **filters: Any) -> list[int]:
    return [complaint.id for complaint in desk.records.page(desk.where(**filters), 500)[0]]


def test_list_filters_by_site_status_and_overdue_first_response(desk: ComplaintDesk, clock: ManualClock) -> None:
    late = register(desk)
    answered_in_time = register(desk)
    desk.transition(answered_in_time, S.INVESTIGATING, "supervisor-wu")
    south = register(desk, "south")
    clock.advance(timedelta(hours=12))
    fresh = register(desk)
    assert listed(desk) == [fresh, south, answered_in_time, late]  # newest first
    assert listed(desk, site_id="south") == [south]
    assert listed(desk, status=S.INVESTIGATING) == [answered_in_time]
    clock.advance(timedelta(hours=12))
    assert listed(desk, overdue=True) == []  # due exactly now: not yet late
    clock.advance(timedelta(seconds=1))
    assert listed(desk, overdue=True) == [south, late]
    assert listed(desk, site_id="north", overdue=True) == [late]
    assert desk.records.total(desk.where(overdue=True)) == 2


def test_complaint_opens_a_linked_work_order(desk: ComplaintDesk, db: Database) -> None:
    complaint_id = register(desk)
    complaint, order = desk.open_work_order(complaint_id, "Check pump room noise", "supervisor-wu",
                                            priority=WorkOrderPriority.URGENT)
    assert complaint.work_order_ids == (order.id,)
    stored = db.work_orders.get(order.id)
    assert (stored.source, stored.source_ref, stored.status) == (WorkOrderSource.COMPLAINT,
                                                                 f"complaint:{complaint_id}", WorkOrderStatus.REQUESTED)
    assert (stored.requester, stored.caller_phone, stored.channel) == ("Ms Li, 12B", "13800000000",
                                                                       RequestChannel.PHONE)
    assert (stored.site_id, stored.description) == ("north", "pump room hums all night")
    last = desk.history(complaint_id)[-1]
    assert (last.from_status, last.to_status, last.note) == (S.RECEIVED, S.RECEIVED, f"opened work order {order.id}")
    assert desk.get(complaint_id).status is S.RECEIVED  # opening an order is no answer to the complainant


def test_complaint_links_an_existing_order_of_its_site_once(desk: ComplaintDesk) -> None:
    first = register(desk)
    _, order = desk.open_work_order(first, "Check pump room noise", "supervisor-wu")
    second = register(desk)
    desk.link_work_order(second, order.id, "desk-ann")
    again = desk.link_work_order(second, order.id, "desk-ann")
    assert again.work_order_ids == (order.id,)
    assert len(desk.history(second)) == 2


def test_linking_an_order_of_another_site_or_unknown_is_refused(desk: ComplaintDesk) -> None:
    south = register(desk, "south")
    _, order = desk.open_work_order(south, "Check it", "supervisor-wu")
    with pytest.raises(InvalidRequest, match="at site 'south'"):
        desk.link_work_order(register(desk), order.id, "desk-ann")
    with pytest.raises(NotFound):
        desk.link_work_order(south, 999, "desk-ann")


def test_a_closed_complaint_opens_no_order(desk: ComplaintDesk) -> None:
    complaint_id = register(desk)
    desk.transition(complaint_id, S.WITHDRAWN, "desk-ann", note="neighbour's party, not the pump")
    with pytest.raises(InvalidRequest, match="withdrawn"):
        desk.open_work_order(complaint_id, "Check it", "supervisor-wu")


def test_unknown_complaint_is_not_found(desk: ComplaintDesk) -> None:
    with pytest.raises(NotFound, match="complaint 42 not found"):
        desk.history(42)
