"""Technicians, their shifts, and dispatch: who may take an order, who is proposed, and sending them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime

from api.audit import AuditDep
from api.cursors import decode_cursor, zoned_time
from api.deps import ServicesDep
from api.errors import unprocessable
from api.identity import require
from api.pages import DEFAULT_LIMIT, Cursor, Limit, Page, keyset_page
from api.schemas import WorkOrderPublic
from api.schemas.people import (
    DispatchRequest,
    ProposalPublic,
    ShiftCreate,
    ShiftPublic,
    TechnicianPublic,
    TechnicianPut,
)
from core.errors import NotFound, ServiceUnavailable
from people.access import Permission, Principal
from workorders.dispatcher import DispatchService

router = APIRouter(tags=["technicians and dispatch"], dependencies=[require(Permission.READ)])
MAX_SHIFT_WINDOW = timedelta(days=92)


def get_dispatch(services: ServicesDep) -> DispatchService:
    if services.dispatch is None:
        raise ServiceUnavailable("dispatch is not configured in this service")
    return services.dispatch


DispatchDep = Annotated[DispatchService, Depends(get_dispatch)]


@router.get("/technicians", response_model=Page[TechnicianPublic])
def list_technicians(dispatch: DispatchDep,
                     active_only: Annotated[bool, Query(description="Leave out inactive users.")] = False,
                     limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[TechnicianPublic]:
    """The technicians with their skills, certificates (and expiry), sites and zone, by id."""
    people = dispatch.people
    after = decode_cursor(cursor, str)
    techs, last = people.technicians.page(active_only, limit, None if after is None else after[0])
    return keyset_page([TechnicianPublic.of(people.users.get(tech.user_id), tech) for tech in techs],
                       people.technicians.total(active_only), None if last is None else (last, 0))


@router.get("/technicians/{user_id}", response_model=TechnicianPublic)
def get_technician(dispatch: DispatchDep, user_id: str) -> TechnicianPublic:
    """One technician."""
    tech = dispatch.people.technicians.find(user_id)
    if tech is None:
        raise NotFound(f"technician {user_id!r} not found")
    return TechnicianPublic.of(dispatch.people.users.get(user_id), tech)


@router.put("/technicians/{user_id}", response_model=TechnicianPublic, dependencies=[require(Permission.ADMIN)])
def put_technician(services: ServicesDep, dispatch: DispatchDep, user_id: str, body: TechnicianPut,
                   audit: AuditDep) -> TechnicianPublic:
    """Create or replace a technician: the user (who always has the 'technician' role) and the skills,
    certificates, sites and zone. Orders already held are not re-checked; the next step on them is."""
    people = dispatch.people
    held = people.technicians.find(user_id)
    before = None if held is None else TechnicianPublic.of(people.users.get(user_id), held)
    user = services.identity().update_user(body.user(user_id))  # roles may change: tokens re-read
    after = TechnicianPublic.of(user, people.technicians.upsert(body.technician(user_id)))
    return audit.record("technician.put", "user", user_id, before, after)


@router.get("/shifts", response_model=Page[ShiftPublic])
def list_shifts(dispatch: DispatchDep, since: AwareDatetime, until: AwareDatetime,
                user: Annotated[str | None, Query(description="Only this technician's shifts.")] = None,
                limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ShiftPublic]:
    """Shifts and on-call duties overlapping [since, until], by start time then id (at most 92 days)."""
    if until < since:
        raise unprocessable("until must not be before since")
    if until - since > MAX_SHIFT_WINDOW:
        raise unprocessable("ask for at most 92 days of shifts at once")
    shifts = dispatch.people.shifts
    found, after = shifts.page(since, until, user, limit, decode_cursor(cursor, zoned_time))
    return keyset_page([ShiftPublic.of(shift) for shift in found], shifts.total(since, until, user), after)


@router.post("/shifts", response_model=ShiftPublic, status_code=status.HTTP_201_CREATED,
             dependencies=[require(Permission.ORDERS)])
def create_shift(dispatch: DispatchDep, body: ShiftCreate, audit: AuditDep) -> ShiftPublic:
    """Add one shift, or an on-call duty, for a technician."""
    if dispatch.people.technicians.find(body.user_id) is None:
        raise unprocessable(f"{body.user_id!r} is not a technician")
    shift = ShiftPublic.of(dispatch.people.shifts.add(body.shift()))
    return audit.record("shift.create", "shift", shift.id, None, shift)


@router.get("/workorders/{work_order_id}/candidates", response_model=ProposalPublic)
def work_order_candidates(dispatch: DispatchDep, work_order_id: int) -> ProposalPublic:
    """Who to send, best first, with the reasons (qualified, on shift or on call, near the site, open
    orders held), and who is not qualified and why."""
    return ProposalPublic.of(dispatch.propose(work_order_id))


@router.post("/workorders/{work_order_id}/dispatch", response_model=WorkOrderPublic)
def dispatch_work_order(services: ServicesDep, principal: Annotated[Principal, require(Permission.ORDERS)],
                        dispatch: DispatchDep, work_order_id: int, body: DispatchRequest,
                        audit: AuditDep) -> WorkOrderPublic:
    """Dispatch a requested order: to the named technician (the supervisor's override), or, with no
    technician, to the best available candidate. 422 names the missing skill or the expired certificate;
    409 if the order moved on meanwhile."""
    before = WorkOrderPublic.of(services.db.work_orders.get(work_order_id))
    order = dispatch.dispatch(work_order_id, principal.user_id, body.technician, body.note, body.expected_version)
    return audit.record("workorder.dispatch", "work_order", work_order_id, before, WorkOrderPublic.of(order))
