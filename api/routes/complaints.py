"""Complaints (投诉): registered by the desk, investigated, answered, followed up, linked to work orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.audit import AuditDep
from api.cursors import decode_cursor, zoned_time
from api.deps import ServicesDep
from api.identity import require
from api.ownership import COMPLAINT_READERS, check_complaint_step, list_owner, readable_complaint
from api.pages import DEFAULT_LIMIT, Cursor, Limit, Page, keyset_page
from api.schemas.complaints import (
    ComplaintCreate,
    ComplaintDetail,
    ComplaintPublic,
    ComplaintTransition,
    ComplaintWorkOrder,
)
from core.errors import ServiceUnavailable
from people.access import Permission, Principal
from workorders.complaint_desk import ComplaintDesk
from workorders.complaints import ComplaintStatus

router = APIRouter(prefix="/complaints", tags=["complaints"])


def _desk(services: ServicesDep) -> ComplaintDesk:
    if services.complaints is None:
        raise ServiceUnavailable("the complaint desk is not served here")
    return services.complaints


DeskDep = Annotated[ComplaintDesk, Depends(_desk)]
Reader = Annotated[Principal, require(*COMPLAINT_READERS)]
Desk = Annotated[Principal, require(Permission.ORDERS)]


@router.post("", response_model=ComplaintDetail, status_code=status.HTTP_201_CREATED)
def register_complaint(services: ServicesDep, principal: Desk, desk: DeskDep, body: ComplaintCreate,
                       audit: AuditDep) -> ComplaintDetail:
    """Register a complaint; its first response is due within 24 hours, around the clock."""
    complaint = desk.register(body.site_id, body.channel, body.category, body.complainant, body.description,
                              principal.user_id, phone=body.phone)
    return audit.record("complaint.register", "complaint", complaint.id, None,
                        _detail(services, desk, complaint.id))


@router.get("", response_model=Page[ComplaintPublic])
def list_complaints(
    services: ServicesDep,
    desk: DeskDep,
    principal: Reader,
    site: str | None = None,
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    overdue: Annotated[bool, Query(description="Only those still awaiting a first response past its due time.")]
    = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[ComplaintPublic]:
    """Complaints, newest first (received, then id), filtered by site, status, or overdue first response; a
    resident sees those they filed."""
    now = services.clock.now()
    where = desk.where(site_id=site, status=status_, overdue=overdue, reporter_id=list_owner(principal))
    complaints, after = desk.records.page(where, limit, decode_cursor(cursor, zoned_time))
    return keyset_page([ComplaintPublic.of(c, now) for c in complaints], desk.records.total(where), after)


@router.get("/{complaint_id}", response_model=ComplaintDetail)
def get_complaint(services: ServicesDep, desk: DeskDep, complaint_id: int, principal: Reader) -> ComplaintDetail:
    """One complaint with its history: every step with who, when and why."""
    readable_complaint(principal, desk.get(complaint_id))
    return _detail(services, desk, complaint_id)


@router.post("/{complaint_id}/transitions", response_model=ComplaintDetail)
def transition_complaint(
    services: ServicesDep, principal: Annotated[Principal, require(Permission.ORDERS, Permission.REQUESTS_OWN)],
    desk: DeskDep, complaint_id: int, body: ComplaintTransition, audit: AuditDep,
) -> ComplaintDetail:
    """Move a complaint on: investigate, answer (the note is the answer), follow up (satisfaction 1-5),
    close, or withdraw (with a reason). 409 names the allowed steps, or says the complaint changed. A
    resident may rate (follow up) or withdraw their own complaint; 403 for anything else."""
    check_complaint_step(principal, desk.get(complaint_id), body.to_status)
    before = _detail(services, desk, complaint_id)
    desk.transition(complaint_id, body.to_status, principal.user_id, note=body.note,
                    satisfaction=body.satisfaction, expected_version=body.expected_version)
    return audit.record(f"complaint.{body.to_status.value}", "complaint", complaint_id, before,
                        _detail(services, desk, complaint_id))


@router.post("/{complaint_id}/work-orders", response_model=ComplaintDetail)
def complaint_work_order(services: ServicesDep, principal: Desk, desk: DeskDep, complaint_id: int,
                         body: ComplaintWorkOrder, audit: AuditDep) -> ComplaintDetail:
    """Link an existing work order of the same site, or open one (source "complaint", the complainant as
    requester); the complaint's ``work_order_ids`` then holds it."""
    before = _detail(services, desk, complaint_id)
    if body.work_order_id is not None:
        desk.link_work_order(complaint_id, body.work_order_id, principal.user_id)
    else:
        assert body.title is not None  # ComplaintWorkOrder asks for one of the two
        desk.open_work_order(complaint_id, body.title, principal.user_id, kind=body.kind,
                             priority=body.priority, asset_id=body.asset_id, description=body.description)
    return audit.record("complaint.work_order", "complaint", complaint_id, before,
                        _detail(services, desk, complaint_id))


def _detail(services: ServicesDep, desk: ComplaintDesk, complaint_id: int) -> ComplaintDetail:
    return ComplaintDetail.with_history(desk.get(complaint_id), desk.history(complaint_id), services.clock.now())
