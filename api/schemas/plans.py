"""Request and response bodies of the maintenance plan: plans, their tasks, and the planners' review."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from api.params import Day
from core.plans import Plan, PlanTask, PlanTaskStatus, SolveStatus
from predictor.planner_service import PlanRun

_REASON = Field(min_length=1, max_length=2000, pattern=r"\S", description="Why, in words; kept with the task.")
_EXPECTED = Field(None, description="The status you read; 409 if the task moved on meanwhile.")


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PlanPublic(_Public):
    id: int
    created_at: datetime
    created_by: str
    horizon_start: date
    horizon_end: date = Field(description="The last day planned (inclusive).")
    status: SolveStatus = Field(description="optimal, feasible (best within the time limit) or fallback (greedy).")
    expected_cost: float = Field(description="Planned task costs plus the expected failure costs left.")
    stats: dict[str, float]

    @classmethod
    def of(cls, plan: Plan) -> PlanPublic:
        return cls.model_validate(plan)


class PlanTaskPublic(_Public):
    id: int
    plan_id: int | None = Field(description="The plan that last proposed it.")
    rule_id: str
    asset_id: str
    site_id: str
    due_date: date = Field(description="When the rule falls due; with rule and asset, the task's key.")
    planned_date: date
    technician_id: str | None
    task: str
    hours: float
    planned_cost: float
    expected_failure_cost: float = Field(description="Probability of failure before the next chance times the "
                                                     "failure cost.")
    reasons: list[str]
    affects_residents: bool = Field(description="Water off, elevator out of service: a notice is drafted.")
    status: PlanTaskStatus
    work_order_id: int | None = Field(description="Its planned work order (source planned).")
    move_reason: str = Field(description="Why it was moved or rejected.")
    decided_by: str | None
    decided_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explanation(self) -> str:
        """The reasons as one sentence, for people."""
        return "; ".join(self.reasons)

    @classmethod
    def of(cls, task: PlanTask) -> PlanTaskPublic:
        return cls.model_validate(task)


class PlanTaskPage(BaseModel):
    items: list[PlanTaskPublic]
    total: int = Field(description="How many tasks match the filters, over all pages.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class UnplacedPublic(_Public):
    rule_id: str
    asset_id: str
    site_id: str
    due_date: date
    regulatory: bool = Field(description="A legal minimum: people must act.")
    reason: str


class PlanRunPublic(BaseModel):
    """What a re-plan did."""

    plan: PlanPublic
    tasks: int = Field(description="Open tasks (proposed, accepted, moved) after the re-plan.")
    opened: int = Field(description="Planned work orders opened.")
    moved: int = Field(description="Proposed tasks moved to another day or technician.")
    dropped: int = Field(description="Proposed tasks no longer needed; their orders cancelled.")
    kept: int = Field(description="Accepted, moved or started tasks kept as they were.")
    unplaced: list[UnplacedPublic] = Field(description="What no technician or allowed day could take, and why.")

    @classmethod
    def of(cls, run: PlanRun) -> PlanRunPublic:
        return cls(plan=PlanPublic.of(run.plan), tasks=len(run.tasks), opened=run.opened, moved=run.moved,
                   dropped=run.dropped, kept=run.kept,
                   unplaced=[UnplacedPublic.model_validate(u) for u in run.unplaced])


class PlanCreate(BaseModel):
    horizon_days: int | None = Field(None, ge=1, le=366, description="Days to plan (default: the configured).")


class TaskAccept(BaseModel):
    expected_status: PlanTaskStatus | None = _EXPECTED


class TaskMove(BaseModel):
    planned_date: Day
    reason: str = _REASON
    technician_id: str | None = Field(None, min_length=1, max_length=80, description="Another technician.")
    expected_status: PlanTaskStatus | None = _EXPECTED


class TaskReject(BaseModel):
    reason: str = _REASON
    expected_status: PlanTaskStatus | None = _EXPECTED
