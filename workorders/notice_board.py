"""The notice board: drafts notices (by hand or from a planned work order), edits drafts, publishes.

The I/O shell around ``workorders.notices`` (pure): it reads the clock and the asset register, checks
the step and writes through ``NoticeRepository``. Published notices are what the open per-site feeds
(``workorders.notice_feeds``) show.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime, timedelta, tzinfo

from core.clock import Clock
from core.domain import Site
from core.errors import Conflict, InvalidRequest, NotFound
from core.events import EventBus
from storage.records import Database
from workorders.notice_records import NoticeFilter, NoticeRepository
from workorders.notices import Notice, NoticeStatus, Window, check_transition, draft_text

CHANGED = "notice.changed"
# A feed keeps notices whose window ended less than this long ago: residents look back a little,
# calendars keep the past anyway, and a feed must not grow for ever.
FEED_HISTORY = timedelta(days=30)
FEED_LIMIT = 200


class NoticeBoard:
    def __init__(self, db: Database, bus: EventBus, clock: Clock, *, tz: tzinfo = UTC) -> None:
        self._db = db
        self._bus = bus
        self._clock = clock
        self._tz = tz  # the residents' time zone, for the wording of drafts
        self.records = NoticeRepository.of(db)

    def _site(self, site_id: str) -> Site | None:
        return next((site for site in self._db.assets.sites() if site.id == site_id), None)

    def _known_site(self, site_id: str) -> Site:
        site = self._site(site_id)
        if site is None:
            raise InvalidRequest(f"unknown site {site_id!r}")
        return site

    def draft(self, site_id: str, title: str, body: str, window: Window, actor: str) -> Notice:
        """A new draft notice for ``site_id``."""
        self._known_site(site_id)
        notice = self.records.create(site_id, title, body, window, actor, self._clock.now())
        self._tell(notice)
        return notice

    def draft_from_order(self, work_order_id: int, window: Window, actor: str) -> Notice:
        """A draft about a work order's effect on residents during ``window``, worded by its asset's kind."""
        order = self._db.work_orders.get(work_order_id)
        if order.status.is_terminal:
            raise InvalidRequest(f"work order {order.id} is {order.status.value}: no work left to announce")
        asset = None if order.asset_id is None else self._db.assets.find(order.asset_id)
        place = asset.name if asset is not None else self._known_site(order.site_id).name
        title, body = draft_text(order, window, None if asset is None else asset.kind, place, self._tz)
        notice = self.records.create(order.site_id, title, body, window, actor, self._clock.now(),
                                     work_order_id=order.id)
        self._tell(notice)
        return notice

    def edit(self, notice_id: int, title: str | None = None, body: str | None = None,
             starts_at: datetime | None = None, ends_at: datetime | None = None) -> Notice:
        """Change a draft; what is not given stays (Conflict once it is published or withdrawn:
        residents may have read it)."""
        current = self.records.get(notice_id)
        if current.status is not NoticeStatus.DRAFT:
            raise Conflict(f"notice {notice_id} is {current.status.value}: only a draft can be edited")
        window = Window(starts_at or current.starts_at, ends_at or current.ends_at)
        notice = self.records.change(notice_id, NoticeStatus.DRAFT, title=title or current.title,
                                     body=current.body if body is None else body,
                                     starts_at=window.starts_at, ends_at=window.ends_at)
        self._tell(notice)
        return notice

    def publish(self, notice_id: int) -> Notice:
        return self._move(notice_id, NoticeStatus.PUBLISHED)

    def withdraw(self, notice_id: int) -> Notice:
        return self._move(notice_id, NoticeStatus.WITHDRAWN)

    def _move(self, notice_id: int, to: NoticeStatus) -> Notice:
        current = self.records.get(notice_id)
        check_transition(current.status, to)
        fields: dict[str, object] = {"status": to}
        if to is NoticeStatus.PUBLISHED:
            fields["published_at"] = self._clock.now()
        notice = self.records.change(notice_id, current.status, **fields)
        self._tell(notice)
        return notice

    def get(self, notice_id: int) -> Notice:
        return self.records.get(notice_id)

    def list(self, site_id: str | None = None, status: NoticeStatus | None = None,
             at: datetime | None = None, limit: int = 200) -> builtins.list[Notice]:
        """Soonest first, narrowed by site, status and a time the window holds."""
        return self.records.list(NoticeFilter(site_id=site_id, status=status, at=at), limit)

    def feed(self, site_id: str) -> tuple[Site, builtins.list[Notice]]:
        """The site and its published notices whose window has not long ended (the residents' feed);
        NotFound for an unknown site, so that a mistyped feed address does not look like a quiet one."""
        site = self._site(site_id)
        if site is None:
            raise NotFound(f"site {site_id!r} not found")
        where = NoticeFilter(site_id=site_id, status=NoticeStatus.PUBLISHED,
                             ends_after=self._clock.now() - FEED_HISTORY)
        return site, self.records.list(where, FEED_LIMIT)

    def _tell(self, notice: Notice) -> None:
        self._bus.publish(CHANGED, {"id": notice.id, "site_id": notice.site_id, "status": notice.status.value})
