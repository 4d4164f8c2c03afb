"""Notices as pure logic: the lifecycle, the wording of a draft made from a planned order, the feeds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

import icalendar
import pytest

from core.domain import AssetKind, Site, WorkOrder, WorkOrderKind, WorkOrderPriority, WorkOrderSource, WorkOrderStatus
from core.errors import InvalidRequest, TransitionError
from workorders.notice_feeds import atom_feed, ics_calendar, notice_uuid
from workorders.notices import Notice, NoticeStatus, Window, allowed, check_transition, draft_text, format_window

ATOM = "{http://www.w3.org/2005/Atom}"
CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WINDOW = Window(datetime(2026, 3, 3, 1, 0, tzinfo=UTC), datetime(2026, 3, 3, 4, 0, tzinfo=UTC))
NORTH = Site("north", "North Tower")
N = NoticeStatus


def planned_order(asset_id: str | None = "north-pump-1") -> WorkOrder:
    return WorkOrder(7, WorkOrderKind.PREVENTIVE, WorkOrderPriority.PLANNED, WorkOrderStatus.REQUESTED,
                     "Replace seal, tenant in 12B complained (call 138...)", asset_id, "north", T0,
                     T0 + timedelta(days=14), source=WorkOrderSource.PLANNED, source_ref="plan:4")


def notice(notice_id: int, status: NoticeStatus = N.PUBLISHED, site_id: str = "north", title: str = "Water off",
           body: str = "The water supply will be off.") -> Notice:
    return Notice(notice_id, site_id, title, body, WINDOW.starts_at, WINDOW.ends_at, status, 7, "desk-ann", T0,
                  T0 + timedelta(hours=notice_id) if status is not N.DRAFT else None)


@pytest.mark.parametrize(("current", "requested"), sorted(itertools.product(N, N)))
def test_notice_goes_only_from_draft_to_published_or_withdrawn_and_published_to_withdrawn(
        current: NoticeStatus, requested: NoticeStatus) -> None:
    if (current, requested) in {(N.DRAFT, N.PUBLISHED), (N.DRAFT, N.WITHDRAWN), (N.PUBLISHED, N.WITHDRAWN)}:
        check_transition(current, requested)
        assert requested in allowed(current)
    else:
        with pytest.raises(TransitionError):
            check_transition(current, requested)


def test_window_must_end_after_it_starts_and_be_aware() -> None:
    with pytest.raises(InvalidRequest, match="end after it starts"):
        Window(WINDOW.ends_at, WINDOW.starts_at)
    with pytest.raises(InvalidRequest, match="timezone-aware"):
        Window(datetime(2026, 3, 3, 9, 0), WINDOW.ends_at)  # noqa: DTZ001 - the naive time is the point


def test_draft_from_a_planned_pump_order_says_water_off_with_the_window() -> None:
    title, body = draft_text(planned_order(), WINDOW, AssetKind.PUMP, "North booster pump 1", CST)
    assert title == "Water off: Tue 3 Mar 2026 09:00-12:00 (UTC+08:00)"
    assert body.startswith("The water supply will be off while North booster pump 1 is maintained.")
    assert "When: Tue 3 Mar 2026 09:00-12:00 (UTC+08:00)." in body
    assert "Reference: work order 7." in body


@pytest.mark.parametrize(("kind", "headline", "sentence"), [
    (AssetKind.ELEVATOR, "Elevator out of service", "Lift A will be out of service for maintenance."),
    (AssetKind.LIGHTING, "Lighting work", "Lighting work on Lift A: some lights may be off."),
    (None, "Planned maintenance", "Planned maintenance work at Lift A."),
])
def test_draft_wording_follows_the_asset_kind(kind: AssetKind | None, headline: str, sentence: str) -> None:
    title, body = draft_text(planned_order(), WINDOW, kind, "Lift A")
    assert title == f"{headline}: Tue 3 Mar 2026 01:00-04:00 (UTC)"
    assert body.startswith(sentence)


def test_draft_copies_nothing_of_the_order_text() -> None:
    title, body = draft_text(planned_order(), WINDOW, AssetKind.PUMP, "North booster pump 1")
    assert "12B" not in title + body
    assert "138" not in title + body


def test_a_window_over_midnight_names_both_days() -> None:
    overnight = Window(datetime(2026, 3, 3, 14, 0, tzinfo=UTC), datetime(2026, 3, 3, 22, 0, tzinfo=UTC))
    assert format_window(overnight, CST) == "Tue 3 Mar 2026 22:00 to Wed 4 Mar 2026 06:00 (UTC+08:00)"


def test_atom_feed_parses_and_holds_only_published_notices() -> None:
    notices = [notice(1), notice(2, N.DRAFT, title="Draft: not yet"), notice(3, N.WITHDRAWN, title="Called off"),
               notice(4, title="Elevator out of service & <lobby>")]
    root = ET.fromstring(atom_feed(NORTH, notices, "http://desk/feeds/sites/north/notices.atom", T0))
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Water off", "Elevator out of service & <lobby>"]
    assert [e.findtext(f"{ATOM}id") for e in entries] == [notice_uuid(notice(1)).urn, notice_uuid(notice(4)).urn]
    assert root.findtext(f"{ATOM}updated") == "2026-03-02T12:00:00Z"  # the newest publication
    first = entries[0]
    assert first.findtext(f"{ATOM}content") == "The water supply will be off."
    assert first.findtext(f"{ATOM}summary") == "From 2026-03-03T01:00:00Z to 2026-03-03T04:00:00Z."
    assert root.find(f"{ATOM}link").attrib["rel"] == "self"  # type: ignore[union-attr]


def test_atom_feed_without_notices_is_valid_and_dated_now() -> None:
    root = ET.fromstring(atom_feed(NORTH, [], "http://desk/x.atom", T0))
    assert root.findall(f"{ATOM}entry") == []
    assert root.findtext(f"{ATOM}updated") == "2026-03-02T08:00:00Z"
    assert root.findtext(f"{ATOM}title") == "North Tower: notices of planned work"


def test_ics_parses_with_one_event_per_published_notice_over_its_window() -> None:
    notices = [notice(1, body="Water off; bring a bucket, please"), notice(2, N.DRAFT)]
    calendar = icalendar.Calendar.from_ical(ics_calendar(NORTH, notices))
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == WINDOW.starts_at
    assert event.decoded("dtend") == WINDOW.ends_at
    assert str(event["summary"]) == "Water off"
    assert str(event["description"]) == "Water off; bring a bucket, please"
    assert str(event["uid"]) == f"{notice_uuid(notice(1))}@facmon"
    assert str(calendar["x-wr-calname"]) == "North Tower: planned work"


def test_ics_lines_end_in_crlf_and_are_folded() -> None:
    text = ics_calendar(NORTH, [notice(1, body="x" * 300)])
    assert b"\r\n" in text
    assert all(len(line) <= 75 for line in text.split(b"\r\n"))
