"""Request and response bodies of the emergency-plan routes (plans, drills, runs, after-action records)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from storage.records.emergency import EmergencyRun, EmergencyStep
from workorders.after_action import AfterAction
from workorders.emergency import Plan, Role


class PlanStepPublic(BaseModel):
    title: str
    role: Role
    within_min: float = Field(description="Due this many minutes after the plan starts.")


class PlanPublic(BaseModel):
    name: str
    title: str
    rules: list[str] = Field(description="Rule ids whose emergency orders carry this plan.")
    steps: list[PlanStepPublic]

    @classmethod
    def of(cls, plan: Plan, rules: list[str]) -> PlanPublic:
        return cls(name=plan.name, title=plan.title, rules=rules,
                   steps=[PlanStepPublic(title=s.title, role=s.role, within_min=s.within.total_seconds() / 60)
                          for s in plan.steps])


class DrillCreate(BaseModel):
    site: str = Field(min_length=1, max_length=64)
    plan: str = Field(min_length=1, max_length=64)


class StepDone(BaseModel):
    note: str = Field("", max_length=2000)


class RunStepPublic(BaseModel):
    position: int
    title: str
    role: str
    due_at: datetime
    done_at: datetime | None
    done_by: str | None
    note: str
    escalated_at: datetime | None = Field(description="When the step was escalated for being late.")

    @classmethod
    def of(cls, step: EmergencyStep) -> RunStepPublic:
        return cls(position=step.position, title=step.title, role=step.role, due_at=step.due_at,
                   done_at=step.done_at, done_by=step.done_by, note=step.note, escalated_at=step.escalated_at)


class RunPublic(BaseModel):
    id: int
    plan: str
    site_id: str
    work_order_id: int | None = Field(description="The emergency order; null for a drill.")
    drill: bool
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    steps_done: int
    steps_total: int

    @classmethod
    def of(cls, run: EmergencyRun) -> RunPublic:
        return cls(id=run.id, plan=run.plan, site_id=run.site_id, work_order_id=run.work_order_id, drill=run.drill,
                   started_at=run.started_at, started_by=run.started_by, ended_at=run.ended_at,
                   steps_done=sum(s.done_at is not None for s in run.steps), steps_total=len(run.steps))


class RunDetail(RunPublic):
    steps: list[RunStepPublic]

    @classmethod
    def with_steps(cls, run: EmergencyRun) -> RunDetail:
        return cls(**RunPublic.of(run).model_dump(), steps=[RunStepPublic.of(s) for s in run.steps])


class TimelineEntryPublic(BaseModel):
    at: datetime
    what: str
    actor: str | None
    note: str


class LateStepPublic(BaseModel):
    position: int
    title: str
    role: str
    due_at: datetime
    done_at: datetime | None = Field(description="Null: never done.")
    late_min: float


class AfterActionPublic(BaseModel):
    run: RunPublic
    timeline: list[TimelineEntryPublic]
    late_steps: list[LateStepPublic]
    time_to_restore_min: float | None = Field(description="From the alarm (else the order's opening) to "
                                                          "service restored; null for drills and until restored.")

    @classmethod
    def of(cls, record: AfterAction) -> AfterActionPublic:
        restore = record.time_to_restore
        return cls(run=RunPublic.of(record.run),
                   timeline=[TimelineEntryPublic(at=e.at, what=e.what, actor=e.actor, note=e.note)
                             for e in record.timeline],
                   late_steps=[LateStepPublic(position=s.position, title=s.title, role=s.role, due_at=s.due_at,
                                              done_at=s.done_at, late_min=s.late_by.total_seconds() / 60)
                               for s in record.late_steps],
                   time_to_restore_min=None if restore is None else restore.total_seconds() / 60)
