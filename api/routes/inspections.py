"""Inspection rounds (巡检): the templates, the rounds technicians walk, their results and the report."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.audit import AuditDep
from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import ServicesDep
from api.identity import require
from api.ownership import ROUND_READERS, check_round, list_owner, readable_round
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page, whole
from api.params import ZonedTime, check_window
from api.schemas.inspections import (
    InspectionItemPublic,
    InspectionReport,
    InspectionResultCreate,
    InspectionResultPublic,
    InspectionRoundAssign,
    InspectionRoundDetail,
    InspectionRoundPublic,
    InspectionTemplatePublic,
)
from core.errors import ServiceUnavailable
from core.inspections import RoundStatus
from people.access import Permission, Principal
from storage.records.inspections import RoundFilter
from workorders.rounds import InspectionRounds

router = APIRouter(prefix="/inspections", tags=["inspections"])
REPORT_SPAN = timedelta(days=30)


def _rounds(services: ServicesDep) -> InspectionRounds:
    if services.inspections is None:
        raise ServiceUnavailable("inspection rounds are not running in this service")
    return services.inspections


Rounds = Annotated[InspectionRounds, Depends(_rounds)]
Reader = Annotated[Principal, require(*ROUND_READERS)]
Walker = Annotated[Principal, require(Permission.ORDERS, Permission.ORDERS_OWN)]


@router.get("/templates", response_model=Page[InspectionTemplatePublic], dependencies=[require(*ROUND_READERS)])
def list_templates(rounds: Rounds) -> Page[InspectionTemplatePublic]:
    """The inspection templates: per asset kind, a cycle, and nested item sets of checks and measurements. A
    small fixed catalogue (from the configuration), so one page holds it all: `next_cursor` is always null."""
    return whole([InspectionTemplatePublic.of(template) for template in rounds.templates.values()])


@router.get("/rounds", response_model=Page[InspectionRoundPublic])
def list_rounds(
    services: ServicesDep,
    principal: Reader,
    site: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[RoundStatus | None, Query(alias="status")] = None,
    since: Annotated[ZonedTime | None, Query(description="Due at or after this time.")] = None,
    until: Annotated[ZonedTime | None, Query(description="Due before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> Page[InspectionRoundPublic]:
    """Rounds by due time (then id), filtered by site, status and a window of due times; a technician
    sees their own."""
    check_window(since, until)
    where = RoundFilter(site_id=site, statuses=[status_] if status_ else (), since=since, until=until,
                        assignee=list_owner(principal))
    rounds, after = services.db.inspections.page(where, limit, decode_cursor(cursor, zoned_time))
    return Page(items=[InspectionRoundPublic.of(r) for r in rounds], total=services.db.inspections.total(where),
                next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))


@router.get("/rounds/{round_id}", response_model=InspectionRoundDetail)
def get_round(services: ServicesDep, rounds: Rounds, round_id: int, principal: Reader) -> InspectionRoundDetail:
    """One round with its checklist and the items recorded so far."""
    readable_round(principal, services.db.inspections.get(round_id))
    return _detail(services, rounds, round_id)


@router.post("/rounds/{round_id}/assign", response_model=InspectionRoundDetail,
             dependencies=[require(Permission.ORDERS)])
def assign_round(services: ServicesDep, rounds: Rounds, round_id: int, body: InspectionRoundAssign,
                 audit: AuditDep) -> InspectionRoundDetail:
    """Give a round not yet finished to a technician, or leave it unassigned (null)."""
    before = _detail(services, rounds, round_id)
    rounds.assign(round_id, body.assignee)
    return audit.record("inspection.assign", "inspection_round", round_id, before,
                        _detail(services, rounds, round_id))


@router.post("/rounds/{round_id}/start", response_model=InspectionRoundDetail)
def start_round(services: ServicesDep, principal: Walker, rounds: Rounds, round_id: int,
                audit: AuditDep) -> InspectionRoundDetail:
    """The technician starts the round; 409 naming the allowed steps if it is not scheduled."""
    check_round(principal, services.db.inspections.get(round_id))
    before = _detail(services, rounds, round_id)
    rounds.start(round_id, principal.user_id)
    return audit.record("inspection.start", "inspection_round", round_id, before, _detail(services, rounds, round_id))


@router.post("/rounds/{round_id}/results", response_model=InspectionResultPublic,
             status_code=status.HTTP_201_CREATED)
def record_result(services: ServicesDep, principal: Walker, rounds: Rounds, round_id: int,
                  body: InspectionResultCreate, audit: AuditDep) -> InspectionResultPublic:
    """Record one item with who and when: `passed` for a check, `value` for a measurement (outside its limits
    it fails). A failed item opens a work order (source `inspection`), once, and links it here."""
    check_round(principal, services.db.inspections.get(round_id))
    result = rounds.record(round_id, body.item, principal.user_id, asset_id=body.asset_id, passed=body.passed,
                           value=body.value, note=body.note)
    return audit.record("inspection.result", "inspection_round", round_id, None, InspectionResultPublic.of(result))


@router.post("/rounds/{round_id}/complete", response_model=InspectionRoundDetail)
def complete_round(services: ServicesDep, principal: Walker, rounds: Rounds, round_id: int,
                   audit: AuditDep) -> InspectionRoundDetail:
    """Complete the round; 422 naming the items not recorded yet."""
    check_round(principal, services.db.inspections.get(round_id))
    before = _detail(services, rounds, round_id)
    rounds.complete(round_id, principal.user_id)
    return audit.record("inspection.complete", "inspection_round", round_id, before,
                        _detail(services, rounds, round_id))


@router.get("/report", response_model=InspectionReport, dependencies=[require(Permission.READ)])
def report(services: ServicesDep, rounds: Rounds, since: Annotated[ZonedTime | None, Query()] = None,
           until: Annotated[ZonedTime | None, Query()] = None) -> InspectionReport:
    """Rounds due in [since, until) that were completed on time, late (after due) or missed (not by due plus
    the template's grace); by default the 30 days up to now."""
    until = until or services.clock.now()
    since = since or until - REPORT_SPAN
    check_window(since, until)
    return InspectionReport.of(rounds.report(since, until))


def _detail(services: ServicesDep, rounds: InspectionRounds, round_id: int) -> InspectionRoundDetail:
    round_ = services.db.inspections.get(round_id)
    results = services.db.inspections.results(round_id)
    return InspectionRoundDetail(**InspectionRoundPublic.of(round_).model_dump(),
                                 items=[InspectionItemPublic.of(item) for item in rounds.items(round_)],
                                 results=[InspectionResultPublic.of(result) for result in results])
