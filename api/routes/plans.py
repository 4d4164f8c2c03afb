"""The maintenance plan: re-plan, read the tasks with their reasons, review them, export them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from api.audit import AuditDep
from api.cursors import decode_cursor, encode_cursor
from api.deps import ServicesDep
from api.identity import require
from api.params import Day
from api.schemas.plans import (
    PlanCreate,
    PlanPublic,
    PlanRunPublic,
    PlanTaskPage,
    PlanTaskPublic,
    TaskAccept,
    TaskMove,
    TaskReject,
)
from core.errors import NotFound, ServiceUnavailable
from core.plans import PlanTaskStatus
from people.access import Permission, Principal
from predictor.plan_exports import CSV_MEDIA_TYPE, ICS_MEDIA_TYPE
from predictor.planner_service import PlanningService
from storage.records.plans import TaskFilter

router = APIRouter(tags=["plan"], dependencies=[require(Permission.READ)])
Planner = Annotated[Principal, require(Permission.PLAN)]


def _planning(services: ServicesDep) -> PlanningService:
    if services.planning is None:
        raise ServiceUnavailable("the maintenance planner is not served here")
    return services.planning


PlanningDep = Annotated[PlanningService, Depends(_planning)]


@router.post("/plans", response_model=PlanRunPublic, status_code=status.HTTP_201_CREATED)
def replan(principal: Planner, planning: PlanningDep, body: PlanCreate, audit: AuditDep) -> PlanRunPublic:
    """Re-plan now from the latest forecasts: new tasks get planned work orders, proposals that changed are
    moved (their orders follow), proposals no longer needed are dropped; accepted, moved and rejected tasks
    stay as decided. Running it twice on the same facts changes nothing."""
    run = PlanRunPublic.of(planning.replan(principal.user_id, body.horizon_days))
    return audit.record("plan.replan", "plan", run.plan.id, None, run)


@router.get("/plans/latest", response_model=PlanPublic)
def latest_plan(planning: PlanningDep) -> PlanPublic:
    """The newest plan: its horizon, solver status, expected cost and figures (404 before the first)."""
    plan = planning.latest()
    if plan is None:
        raise NotFound("no plan has been made yet")
    return PlanPublic.of(plan)


@router.get("/plan-tasks", response_model=PlanTaskPage)
def list_plan_tasks(
    services: ServicesDep,
    planning: PlanningDep,  # noqa: ARG001 - 503 when no planner is served here
    status_: Annotated[list[PlanTaskStatus] | None, Query(alias="status", description="One or more.")] = None,
    site: str | None = None,
    asset: str | None = None,
    technician: str | None = None,
    since: Annotated[Day | None, Query(description="Planned on or after this day.")] = None,
    until: Annotated[Day | None, Query(description="Planned on or before this day.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> PlanTaskPage:
    """Plan tasks by planned day (then id: stable across pages), each with its explanation, and the total."""
    where = TaskFilter(statuses=status_ or (), site_id=site, asset_id=asset, technician_id=technician,
                       since=since, until=until)
    tasks, after = services.db.plans.page(where, limit, decode_cursor(cursor, date.fromisoformat))
    return PlanTaskPage(items=[PlanTaskPublic.of(t) for t in tasks], total=services.db.plans.total(where),
                        next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))


@router.get("/plan-tasks/{task_id}", response_model=PlanTaskPublic)
def get_plan_task(planning: PlanningDep, task_id: int) -> PlanTaskPublic:
    return PlanTaskPublic.of(planning.get(task_id))


@router.post("/plan-tasks/{task_id}/accept", response_model=PlanTaskPublic)
def accept_plan_task(principal: Planner, planning: PlanningDep, task_id: int, body: TaskAccept,
                     audit: AuditDep) -> PlanTaskPublic:
    """Accept a proposal: re-planning keeps its day and technician. 409 if it is no longer proposed."""
    before = PlanTaskPublic.of(planning.get(task_id))
    after = PlanTaskPublic.of(planning.accept(task_id, principal.user_id, body.expected_status))
    return audit.record("plan_task.accept", "plan_task", task_id, before, after)


@router.post("/plan-tasks/{task_id}/move", response_model=PlanTaskPublic)
def move_plan_task(principal: Planner, planning: PlanningDep, task_id: int, body: TaskMove,
                   audit: AuditDep) -> PlanTaskPublic:
    """Move a task to another day (and technician), with a reason; its work order's due date follows."""
    before = PlanTaskPublic.of(planning.get(task_id))
    after = PlanTaskPublic.of(planning.move(task_id, body.planned_date, body.reason, principal.user_id,
                                            body.technician_id, body.expected_status))
    return audit.record("plan_task.move", "plan_task", task_id, before, after)


@router.post("/plan-tasks/{task_id}/reject", response_model=PlanTaskPublic)
def reject_plan_task(principal: Planner, planning: PlanningDep, task_id: int, body: TaskReject,
                     audit: AuditDep) -> PlanTaskPublic:
    """Reject a task, with a reason: its work order is cancelled and it is not proposed again."""
    before = PlanTaskPublic.of(planning.get(task_id))
    after = PlanTaskPublic.of(planning.reject(task_id, body.reason, principal.user_id, body.expected_status))
    return audit.record("plan_task.reject", "plan_task", task_id, before, after)


@router.get("/plan/technicians/{user_id}.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}})
def technician_calendar(planning: PlanningDep, user_id: str) -> Response:
    """A technician's open tasks as an iCalendar (one all-day event per task; a moved task keeps its UID)."""
    return Response(planning.technician_calendar(user_id), media_type=ICS_MEDIA_TYPE)


@router.get("/plan/sites/{site_id}.ics", response_class=Response, responses={200: {"content": {"text/calendar": {}}}})
def site_calendar(planning: PlanningDep, site_id: str) -> Response:
    """A site's open tasks as an iCalendar."""
    return Response(planning.site_calendar(site_id), media_type=ICS_MEDIA_TYPE)


@router.get("/plan.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def plan_csv(
    planning: PlanningDep,
    site: str | None = None,
    technician: str | None = None,
) -> Response:
    """The open tasks as CSV, one row per task with its explanation and figures."""
    where = TaskFilter(statuses=(PlanTaskStatus.PROPOSED, PlanTaskStatus.ACCEPTED, PlanTaskStatus.MOVED),
                       site_id=site, technician_id=technician)
    return Response(planning.csv(where), media_type=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="plan.csv"'})


