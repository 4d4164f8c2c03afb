"""The notice board over its repository, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Site, WorkOrderKind, WorkOrderPriority, WorkOrderSource, WorkOrderStatus
from core.errors import Conflict, InvalidRequest, NotFound, TransitionError
from core.events import EventBus
from storage.records import Database
from workorders.notice_board import FEED_HISTORY, NoticeBoard
from workorders.notices import NoticeStatus, Window

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WINDOW = Window(datetime(2026, 3, 3, 1, 0, tzinfo=UTC), datetime(2026, 3, 3, 4, 0, tzinfo=UTC))
N = NoticeStatus


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def board(db: Database, clock: ManualClock) -> NoticeBoard:
    for site in (Site("north", "North Tower"), Site("south", "South Court")):
        db.assets.upsert_site(site)
    db.assets.upsert_asset(Asset("north-pump-1", "north", AssetKind.PUMP, "North booster pump 1"))
    db.assets.upsert_asset(Asset("north-lift-a", "north", AssetKind.ELEVATOR, "North lift A"))
    return NoticeBoard(db, EventBus(), clock)


def planned_order(db: Database, asset_id: str | None = "north-pump-1") -> int:
    order, _ = db.work_orders.create(WorkOrderKind.PREVENTIVE, WorkOrderPriority.PLANNED, "Pump overhaul", "north",
                                     asset_id, T0, T0 + timedelta(days=14), source=WorkOrderSource.PLANNED,
                                     source_ref="plan:4")
    return order.id


def test_draft_from_a_planned_pump_order_says_water_off_with_the_window(board: NoticeBoard,
                                                                         db: Database) -> None:
    order_id = planned_order(db)
    notice = board.draft_from_order(order_id, WINDOW, "desk-ann")
    assert (notice.status, notice.site_id, notice.work_order_id) == (N.DRAFT, "north", order_id)
    assert (notice.starts_at, notice.ends_at, notice.created_by, notice.created_at) == (
        WINDOW.starts_at, WINDOW.ends_at, "desk-ann", T0)
    assert notice.title == "Water off: Tue 3 Mar 2026 01:00-04:00 (UTC)"
    assert "The water supply will be off while North booster pump 1 is maintained." in notice.body
    assert board.get(notice.id) == notice


def test_draft_from_a_site_level_order_names_the_site(board: NoticeBoard, db: Database) -> None:
    notice = board.draft_from_order(planned_order(db, None), WINDOW, "desk-ann")
    assert notice.title.startswith("Planned maintenance:")
    assert "North Tower" in notice.body


def test_no_notice_from_a_closed_order(board: NoticeBoard, db: Database) -> None:
    order_id = planned_order(db)
    db.work_orders.change(order_id, WorkOrderStatus.REQUESTED, T0, "boss", to_status=WorkOrderStatus.CANCELLED,
                          note="postponed")
    with pytest.raises(InvalidRequest, match="cancelled"):
        board.draft_from_order(order_id, WINDOW, "desk-ann")


def test_draft_is_editable_then_published_and_no_longer_editable(board: NoticeBoard, clock: ManualClock) -> None:
    notice = board.draft("north", "Water off", "Pump work.", WINDOW, "desk-ann")
    later = Window(WINDOW.starts_at + timedelta(hours=1), WINDOW.ends_at + timedelta(hours=1))
    edited = board.edit(notice.id, body="Pump work; taps dry.", ends_at=later.ends_at)
    assert (edited.title, edited.body, edited.starts_at, edited.ends_at) == (
        "Water off", "Pump work; taps dry.", WINDOW.starts_at, later.ends_at)
    clock.advance(timedelta(minutes=5))
    published = board.publish(notice.id)
    assert (published.status, published.published_at) == (N.PUBLISHED, T0 + timedelta(minutes=5))
    with pytest.raises(Conflict, match="published: only a draft can be edited"):
        board.edit(notice.id, title="Water off (changed)")
    assert board.get(notice.id).title == "Water off"


def test_an_edit_that_would_end_the_window_before_it_starts_is_refused(board: NoticeBoard) -> None:
    notice = board.draft("north", "Water off", "Pump work.", WINDOW, "desk-ann")
    with pytest.raises(InvalidRequest, match="end after it starts"):
        board.edit(notice.id, ends_at=WINDOW.starts_at - timedelta(hours=1))


def test_withdrawn_notice_stays_withdrawn(board: NoticeBoard) -> None:
    notice = board.draft("north", "Water off", "Pump work.", WINDOW, "desk-ann")
    board.publish(notice.id)
    assert board.withdraw(notice.id).status is N.WITHDRAWN
    with pytest.raises(TransitionError, match="allowed: none"):
        board.publish(notice.id)


def test_notice_for_an_unknown_site_is_refused_and_unknown_notice_not_found(board: NoticeBoard) -> None:
    with pytest.raises(InvalidRequest, match="unknown site 'west'"):
        board.draft("west", "Water off", "Pump work.", WINDOW, "desk-ann")
    with pytest.raises(NotFound, match="notice 9 not found"):
        board.publish(9)


def test_list_filters_by_site_status_and_a_time_in_the_window(board: NoticeBoard) -> None:
    tomorrow = board.draft("north", "Water off", "Pump work.", WINDOW, "desk-ann")
    next_week = board.draft("north", "Lift out", "Lift work.",
                            Window(WINDOW.starts_at + timedelta(days=7), WINDOW.ends_at + timedelta(days=7)), "x")
    south = board.draft("south", "Lights", "Lighting work.", WINDOW, "desk-ann")
    board.publish(next_week.id)
    assert [n.id for n in board.list()] == [tomorrow.id, south.id, next_week.id]  # soonest window first
    assert [n.id for n in board.list(site_id="north")] == [tomorrow.id, next_week.id]
    assert [n.id for n in board.list(status=N.PUBLISHED)] == [next_week.id]
    assert [n.id for n in board.list(at=WINDOW.starts_at + timedelta(hours=1))] == [tomorrow.id, south.id]
    assert board.list(at=WINDOW.ends_at) == []  # the window is [starts_at, ends_at)


def test_feed_holds_the_published_notices_of_its_site_not_long_ended(board: NoticeBoard,
                                                                       clock: ManualClock) -> None:
    shown = board.draft("north", "Water off", "Pump work.", WINDOW, "desk-ann")
    board.publish(shown.id)
    board.draft("north", "Draft", "Not yet.", WINDOW, "desk-ann")
    board.publish(board.draft("south", "Lights", "Lighting work.", WINDOW, "desk-ann").id)
    site, notices = board.feed("north")
    assert (site.name, [n.id for n in notices]) == ("North Tower", [shown.id])
    clock.advance(WINDOW.ends_at + FEED_HISTORY - clock.now())
    assert board.feed("north")[1] == []
    with pytest.raises(NotFound, match="site 'west' not found"):
        board.feed("west")
