"""Emergency plans (应急预案): the plans, drills, the runs being worked and their after-action records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.audit import AuditDep
from api.cursors import decode_cursor, zoned_time
from api.deps import Services, ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, Cursor, Limit, Page, keyset_page, whole
from api.schemas.emergency import (
    AfterActionPublic,
    DrillCreate,
    PlanPublic,
    RunDetail,
    RunPublic,
    StepDone,
)
from core.errors import ServiceUnavailable
from people.access import Permission, Principal
from storage.records.emergency import RunFilter
from workorders.emergency_runs import EmergencyRunner

router = APIRouter(prefix="/emergency", tags=["emergency plans"], dependencies=[require(Permission.READ)])
Operator = Annotated[Principal, require(Permission.ALARMS)]


def _runner(services: Services) -> EmergencyRunner:
    if services.emergency is None:
        raise ServiceUnavailable("emergency plans are not running in this service")
    return services.emergency


@router.get("/plans", response_model=Page[PlanPublic])
def list_plans(services: ServicesDep) -> Page[PlanPublic]:
    """Every emergency plan by name, its steps (role, time limit) and the alarm rules whose orders carry it.
    A small fixed catalogue (from the configuration), so one page holds it all: `next_cursor` is always null."""
    plans = _runner(services).plans
    return whole([PlanPublic.of(plan, plans.rules_of(name)) for name, plan in sorted(plans.plans.items())])


@router.post("/drills", response_model=RunDetail, status_code=status.HTTP_201_CREATED)
def start_drill(services: ServicesDep, body: DrillCreate, principal: Operator, audit: AuditDep) -> RunDetail:
    """Run a plan for a site as a drill: the same steps and limits, without an alarm or a work order."""
    run = RunDetail.with_steps(_runner(services).start_drill(body.site, body.plan, principal.user_id))
    return audit.record("emergency.drill", "emergency_run", run.id, None, run)


@router.get("/runs", response_model=Page[RunPublic])
def list_runs(
    services: ServicesDep,
    site: str | None = None,
    active: Annotated[bool | None, Query(description="true: runs not ended; false: ended ones.")] = None,
    work_order: Annotated[int | None, Query(description="The run of this emergency order.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RunPublic]:
    """Plan runs (real emergencies and drills), newest first (started, then id)."""
    where = RunFilter(site_id=site, active=active, work_order_id=work_order)
    runs, after = services.db.emergency.page(where, limit, decode_cursor(cursor, zoned_time))
    return keyset_page([RunPublic.of(run) for run in runs], services.db.emergency.total(where), after)


@router.get("/runs/{run_id}", response_model=RunDetail)
def get_run(services: ServicesDep, run_id: int) -> RunDetail:
    """One run with its steps: role, due time, who did it when, escalation."""
    return RunDetail.with_steps(services.db.emergency.get(run_id))


@router.post("/runs/{run_id}/steps/{position}/done", response_model=RunDetail)
def check_off_step(services: ServicesDep, run_id: int, position: int, body: StepDone, principal: Operator,
                   audit: AuditDep) -> RunDetail:
    """Check a step off, now, as the signed-in user; 409 if it was done already or the run has ended."""
    before = RunDetail.with_steps(services.db.emergency.get(run_id))
    after = RunDetail.with_steps(_runner(services).check_off(run_id, position, principal.user_id, body.note))
    return audit.record("emergency.step", "emergency_run", run_id, before, after)


@router.post("/runs/{run_id}/end", response_model=RunDetail)
def end_run(services: ServicesDep, run_id: int, principal: Operator, audit: AuditDep) -> RunDetail:
    """End a run (a drill, or an emergency over before its order closes); ending again changes nothing."""
    before = RunDetail.with_steps(services.db.emergency.get(run_id))
    after = RunDetail.with_steps(_runner(services).end(run_id, principal.user_id))
    return audit.record("emergency.end", "emergency_run", run_id, before, after)


@router.get("/runs/{run_id}/after-action", response_model=AfterActionPublic)
def get_after_action(services: ServicesDep, run_id: int) -> AfterActionPublic:
    """The after-action record: timeline, late steps and by how much, time to restore."""
    return AfterActionPublic.of(_runner(services).after_action(run_id))
