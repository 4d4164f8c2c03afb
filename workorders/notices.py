"""Notices (公告) of planned work to a site's residents, as pure logic: the lifecycle and the wording.

draft → published, draft → withdrawn, published → withdrawn; only a draft may be edited. A draft made
from a planned work order says what residents will notice, by the kind of asset worked on (water off
for a pump, an elevator out of service, lighting work), and when. The I/O shell is
``workorders.notice_board``, the storage ``workorders.notice_records``, the feeds ``workorders.notice_feeds``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from core.domain import AssetKind, WorkOrder
from core.errors import InvalidRequest, TransitionError


class NoticeStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Window:
    """When the work affects residents: [starts_at, ends_at), timezone-aware."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise InvalidRequest("a notice's window needs timezone-aware times")
        if self.ends_at <= self.starts_at:
            raise InvalidRequest(f"a notice's window must end after it starts "
                                 f"({self.starts_at.isoformat()} .. {self.ends_at.isoformat()})")


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    site_id: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    status: NoticeStatus
    work_order_id: int | None
    created_by: str
    created_at: datetime
    published_at: datetime | None = None


_N = NoticeStatus

ALLOWED: dict[NoticeStatus, frozenset[NoticeStatus]] = {
    _N.DRAFT: frozenset({_N.PUBLISHED, _N.WITHDRAWN}),
    _N.PUBLISHED: frozenset({_N.WITHDRAWN}),  # the work was called off or moved: a new notice says when
    _N.WITHDRAWN: frozenset(),
}


def allowed(current: NoticeStatus) -> tuple[NoticeStatus, ...]:
    """Where a notice in ``current`` may go, in lifecycle order."""
    order = list(NoticeStatus)
    return tuple(sorted(ALLOWED[current], key=order.index))


def check_transition(current: NoticeStatus, requested: NoticeStatus) -> None:
    if requested not in ALLOWED[current]:
        raise TransitionError("notice", current.value, requested.value,
                              tuple(status.value for status in allowed(current)))


# What residents will notice, by the kind of asset worked on: (headline, sentence about ``place``).
WORDING: dict[AssetKind | None, tuple[str, str]] = {
    AssetKind.PUMP: ("Water off", "The water supply will be off while {place} is maintained."),
    AssetKind.ELEVATOR: ("Elevator out of service", "{place} will be out of service for maintenance."),
    AssetKind.LIGHTING: ("Lighting work", "Lighting work on {place}: some lights may be off."),
    None: ("Planned maintenance", "Planned maintenance work at {place}."),
}


def format_window(window: Window, tz: tzinfo = UTC) -> str:
    """The window as residents read it, in ``tz``: "Tue 3 Mar 2026 09:00-12:00 (UTC+08:00)"."""
    start, end = window.starts_at.astimezone(tz), window.ends_at.astimezone(tz)
    offset = start.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    day = f"{start:%a} {start.day} {start:%b %Y}"
    if end.date() == start.date():
        return f"{day} {start:%H:%M}-{end:%H:%M} ({zone})"
    return f"{day} {start:%H:%M} to {end:%a} {end.day} {end:%b %Y} {end:%H:%M} ({zone})"


def draft_text(order: WorkOrder, window: Window, kind: AssetKind | None, place: str,
               tz: tzinfo = UTC) -> tuple[str, str]:
    """The title and body of a notice about ``order``'s work on ``place`` (an asset or site name) during
    ``window``. Nothing of the order's own text is copied: a notice is public, an order may not be."""
    headline, sentence = WORDING[kind]
    when = format_window(window, tz)
    title = f"{headline}: {when}"
    body = (f"{sentence.format(place=place)}\n"
            f"When: {when}.\n"
            f"Reference: work order {order.id}.\n"
            "We are sorry for the inconvenience; the service desk answers your questions.")
    return title, body
