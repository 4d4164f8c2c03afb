"""Notices (公告) of planned work to a site's residents, and the open per-site feeds they subscribe to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import AwareDatetime

from api.audit import AuditDep
from api.cursors import decode_cursor, zoned_time
from api.deps import ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, Cursor, Limit, Page, keyset_page
from api.schemas.complaints import NoticeCreate, NoticeFromOrder, NoticePublic, NoticeUpdate
from core.errors import ServiceUnavailable
from people.access import Permission, Principal
from workorders.notice_board import NoticeBoard
from workorders.notice_feeds import ATOM_MEDIA_TYPE, ICS_MEDIA_TYPE, atom_feed, ics_calendar
from workorders.notice_records import NoticeFilter
from workorders.notices import NoticeStatus, Window

router = APIRouter(tags=["notices"], dependencies=[require(Permission.READ)])
# Open, no token: residents' feed readers and calendar apps subscribe to these. Published notices only.
feeds = APIRouter(prefix="/feeds", tags=["feeds"])


def _board(services: ServicesDep) -> NoticeBoard:
    if services.notices is None:
        raise ServiceUnavailable("the notice board is not served here")
    return services.notices


BoardDep = Annotated[NoticeBoard, Depends(_board)]
Desk = Annotated[Principal, require(Permission.ORDERS)]


@router.post("/notices", response_model=NoticePublic, status_code=status.HTTP_201_CREATED)
def draft_notice(principal: Desk, board: BoardDep, body: NoticeCreate, audit: AuditDep) -> NoticePublic:
    """Draft a notice for a site's residents; it goes out when published."""
    notice = NoticePublic.of(board.draft(body.site_id, body.title, body.body, Window(body.starts_at, body.ends_at),
                                         principal.user_id))
    return audit.record("notice.draft", "notice", notice.id, None, notice)


@router.post("/workorders/{work_order_id}/notice", response_model=NoticePublic,
             status_code=status.HTTP_201_CREATED)
def draft_notice_from_order(principal: Desk, board: BoardDep, work_order_id: int, body: NoticeFromOrder,
                            audit: AuditDep) -> NoticePublic:
    """Draft a notice from a planned work order, worded by its asset's kind (water off, elevator out of
    service, lighting work) with the window; edit it, then publish it."""
    notice = NoticePublic.of(board.draft_from_order(work_order_id, Window(body.starts_at, body.ends_at),
                                                    principal.user_id))
    return audit.record("notice.draft", "notice", notice.id, None, notice)


@router.get("/notices", response_model=Page[NoticePublic])
def list_notices(
    board: BoardDep,
    site: str | None = None,
    status_: Annotated[NoticeStatus | None, Query(alias="status")] = None,
    at: Annotated[AwareDatetime | None, Query(description="Only notices whose window holds this time.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[NoticePublic]:
    """Notices, soonest window first (then id), filtered by site, status and a time within the window."""
    where = NoticeFilter(site_id=site, status=status_, at=at)
    notices, after = board.records.page(where, limit, decode_cursor(cursor, zoned_time))
    return keyset_page([NoticePublic.of(n) for n in notices], board.records.total(where), after)


@router.get("/notices/{notice_id}", response_model=NoticePublic)
def get_notice(board: BoardDep, notice_id: int) -> NoticePublic:
    return NoticePublic.of(board.get(notice_id))


@router.patch("/notices/{notice_id}", response_model=NoticePublic, dependencies=[require(Permission.ORDERS)])
def edit_notice(board: BoardDep, notice_id: int, body: NoticeUpdate, audit: AuditDep) -> NoticePublic:
    """Change a draft (409 once it is published or withdrawn)."""
    before = NoticePublic.of(board.get(notice_id))
    after = NoticePublic.of(board.edit(notice_id, title=body.title, body=body.body, starts_at=body.starts_at,
                                       ends_at=body.ends_at))
    return audit.record("notice.edit", "notice", notice_id, before, after)


@router.post("/notices/{notice_id}/publish", response_model=NoticePublic, dependencies=[require(Permission.ORDERS)])
def publish_notice(board: BoardDep, notice_id: int, audit: AuditDep) -> NoticePublic:
    """Publish a draft: from now on the site's feeds show it."""
    before = NoticePublic.of(board.get(notice_id))
    return audit.record("notice.publish", "notice", notice_id, before, NoticePublic.of(board.publish(notice_id)))


@router.post("/notices/{notice_id}/withdraw", response_model=NoticePublic, dependencies=[require(Permission.ORDERS)])
def withdraw_notice(board: BoardDep, notice_id: int, audit: AuditDep) -> NoticePublic:
    """Withdraw a draft or a published notice (the feeds drop it)."""
    before = NoticePublic.of(board.get(notice_id))
    return audit.record("notice.withdraw", "notice", notice_id, before, NoticePublic.of(board.withdraw(notice_id)))


@feeds.get("/sites/{site_id}/notices.atom", response_class=Response,
           responses={200: {"content": {"application/atom+xml": {}}}})
def notices_atom(services: ServicesDep, board: BoardDep, request: Request, site_id: str) -> Response:
    """The site's published notices as an Atom feed (open: no token)."""
    site, notices = board.feed(site_id)
    return Response(atom_feed(site, notices, str(request.url), services.clock.now()), media_type=ATOM_MEDIA_TYPE)


@feeds.get("/sites/{site_id}/notices.ics", response_class=Response,
           responses={200: {"content": {"text/calendar": {}}}})
def notices_ics(board: BoardDep, site_id: str) -> Response:
    """The site's published notices as an iCalendar feed for calendar apps (open: no token)."""
    site, notices = board.feed(site_id)
    return Response(ics_calendar(site, notices), media_type=ICS_MEDIA_TYPE)
