"""Inspection rounds (巡检): the templates, the rounds technicians walk, their results and the report."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import ServicesDep
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.params import ZonedTime, check_window
from api.schemas.inspections import (
    InspectionItemPublic,
    InspectionReport,
    InspectionResultCreate,
    InspectionResultPublic,
    InspectionRoundAction,
    InspectionRoundAssign,
    InspectionRoundDetail,
    InspectionRoundPublic,
    InspectionTemplatePublic,
)
from core.errors import ServiceUnavailable
from core.inspections import RoundStatus
from storage.records.inspections import RoundFilter
from workorders.rounds import InspectionRounds

router = APIRouter(prefix="/inspections", tags=["inspections"])
REPORT_SPAN = timedelta(days=30)


def _rounds(services: ServicesDep) -> InspectionRounds:
    if services.inspections is None:
        raise ServiceUnavailable("inspection rounds are not running in this service")
    return services.inspections


Rounds = Annotated[InspectionRounds, Depends(_rounds)]


@router.get("/templates", response_model=list[InspectionTemplatePublic])
def list_templates(rounds: Rounds) -> list[InspectionTemplatePublic]:
    """The inspection templates: per asset kind, a cycle, and nested item sets of checks and measurements."""
    return [InspectionTemplatePublic.of(template) for template in rounds.templates.values()]


@router.get("/rounds", response_model=Page[InspectionRoundPublic])
def list_rounds(
    services: ServicesDep,
    site: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[RoundStatus | None, Query(alias="status")] = None,
    since: Annotated[ZonedTime | None, Query(description="Due at or after this time.")] = None,
    until: Annotated[ZonedTime | None, Query(description="Due before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> Page[InspectionRoundPublic]:
    """Rounds by due time (then id), filtered by site, status and a window of due times."""
    check_window(since, until)
    where = RoundFilter(site_id=site, statuses=[status_] if status_ else (), since=since, until=until)
    rounds, after = services.db.inspections.page(where, limit, decode_cursor(cursor, zoned_time))
    return Page(items=[InspectionRoundPublic.of(r) for r in rounds], total=services.db.inspections.total(where),
                next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))


@router.get("/rounds/{round_id}", response_model=InspectionRoundDetail)
def get_round(services: ServicesDep, rounds: Rounds, round_id: int) -> InspectionRoundDetail:
    """One round with its checklist and the items recorded so far."""
    return _detail(services, rounds, round_id)


@router.post("/rounds/{round_id}/assign", response_model=InspectionRoundDetail)
def assign_round(services: ServicesDep, rounds: Rounds, round_id: int,
                 body: InspectionRoundAssign) -> InspectionRoundDetail:
    """Give a round not yet finished to a technician, or leave it unassigned (null)."""
    rounds.assign(round_id, body.assignee)
    return _detail(services, rounds, round_id)


@router.post("/rounds/{round_id}/start", response_model=InspectionRoundDetail)
def start_round(services: ServicesDep, rounds: Rounds, round_id: int,
                body: InspectionRoundAction) -> InspectionRoundDetail:
    """The technician starts the round; 409 naming the allowed steps if it is not scheduled."""
    rounds.start(round_id, body.actor)
    return _detail(services, rounds, round_id)


@router.post("/rounds/{round_id}/results", response_model=InspectionResultPublic,
             status_code=status.HTTP_201_CREATED)
def record_result(rounds: Rounds, round_id: int, body: InspectionResultCreate) -> InspectionResultPublic:
    """Record one item with who and when: `passed` for a check, `value` for a measurement (outside its limits
    it fails). A failed item opens a work order (source `inspection`), once, and links it here."""
    result = rounds.record(round_id, body.item, body.actor, asset_id=body.asset_id, passed=body.passed,
                           value=body.value, note=body.note)
    return InspectionResultPublic.of(result)


@router.post("/rounds/{round_id}/complete", response_model=InspectionRoundDetail)
def complete_round(services: ServicesDep, rounds: Rounds, round_id: int,
                   body: InspectionRoundAction) -> InspectionRoundDetail:
    """Complete the round; 422 naming the items not recorded yet."""
    rounds.complete(round_id, body.actor)
    return _detail(services, rounds, round_id)


@router.get("/report", response_model=InspectionReport)
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
