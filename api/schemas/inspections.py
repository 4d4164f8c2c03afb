"""Request and response bodies of the inspection-round routes (巡检)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.domain import AssetKind, WorkOrderPriority
from core.inspections import InspectionResult, InspectionRound, RoundStatus
from workorders.inspection_templates import Item, Template
from workorders.inspections import allowed_round_steps
from workorders.rounds import RoundReport


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class InspectionItemPublic(_Public):
    id: str
    text: str
    unit: str | None = Field(description="A measurement's unit; null for a pass/fail check.")
    minimum: float | None
    maximum: float | None
    safety: bool
    priority: WorkOrderPriority = Field(description="The priority of the work order a failure opens.")

    @classmethod
    def of(cls, item: Item) -> InspectionItemPublic:
        return cls.model_validate(item)


class ItemSetPublic(_Public):
    name: str
    every: int = Field(description="Due every this many visits of the template's cycle.")
    items: list[InspectionItemPublic]


class InspectionTemplatePublic(_Public):
    id: str
    title: str
    asset_kind: AssetKind
    per: str = Field(description="'asset': a round per asset; 'site': a round per site over its assets.")
    every_days: int
    anchor: date
    due_hour_utc: int
    grace_h: float
    sets: list[ItemSetPublic]

    @classmethod
    def of(cls, template: Template) -> InspectionTemplatePublic:
        sets = [ItemSetPublic(name=s.name, every=s.every, items=[InspectionItemPublic.of(i) for i in s.items])
                for s in template.sets]
        return cls(id=template.id, title=template.title, asset_kind=template.asset_kind, per=template.per.value,
                   every_days=template.every_days, anchor=template.anchor, due_hour_utc=template.due_hour_utc,
                   grace_h=template.grace.total_seconds() / 3600, sets=sets)


class InspectionRoundPublic(_Public):
    id: int
    template: str
    item_set: str = Field(description="The largest item set due on this visit; the round covers the smaller ones.")
    site_id: str
    asset_id: str | None
    due_at: datetime
    status: RoundStatus
    assignee: str | None
    started_at: datetime | None
    completed_at: datetime | None
    allowed: list[RoundStatus] = Field(description="The statuses this round may go to next.")

    @classmethod
    def of(cls, round_: InspectionRound) -> InspectionRoundPublic:
        return cls(id=round_.id, template=round_.template, item_set=round_.item_set, site_id=round_.site_id,
                   asset_id=round_.asset_id, due_at=round_.due_at, status=round_.status, assignee=round_.assignee,
                   started_at=round_.started_at, completed_at=round_.completed_at,
                   allowed=list(allowed_round_steps(round_.status)))


class InspectionResultPublic(_Public):
    item: str
    asset_id: str | None
    passed: bool
    value: float | None
    note: str
    recorded_by: str
    recorded_at: datetime
    work_order_id: int | None = Field(description="The work order the failed item opened.")

    @classmethod
    def of(cls, result: InspectionResult) -> InspectionResultPublic:
        return cls.model_validate(result)


class InspectionRoundDetail(InspectionRoundPublic):
    items: list[InspectionItemPublic] = Field(description="The round's checklist.")
    results: list[InspectionResultPublic] = Field(description="The items recorded so far.")


class InspectionResultCreate(BaseModel):
    item: str = Field(min_length=1, max_length=64)
    asset_id: str | None = Field(None, description="For a site round: the asset the item was found on.")
    passed: bool | None = Field(None, description="For a pass/fail check.")
    value: float | None = Field(None, allow_inf_nan=False,
                                description="For a measurement, in the item's unit; judged by its limits.")
    note: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _passed_or_value(self) -> InspectionResultCreate:
        if self.passed is None and self.value is None:
            raise ValueError("give 'passed' (a check) or 'value' (a measurement)")
        return self


class InspectionRoundAssign(BaseModel):
    assignee: str | None = Field(None, max_length=200, description="The technician; null: unassigned.")


class InspectionReport(BaseModel):
    """Rounds due in [since, until), by how they stand at ``at``."""

    since: datetime
    until: datetime
    at: datetime
    on_time: list[InspectionRoundPublic] = Field(description="Completed by their due time.")
    late: list[InspectionRoundPublic] = Field(description="Completed after their due time.")
    missed: list[InspectionRoundPublic] = Field(description="Not completed by their due time plus grace.")
    pending: int = Field(description="How many are not completed and still within their grace.")

    @classmethod
    def of(cls, report: RoundReport) -> InspectionReport:
        def public(rounds: list[InspectionRound]) -> list[InspectionRoundPublic]:
            return [InspectionRoundPublic.of(r) for r in rounds]

        return cls(since=report.since, until=report.until, at=report.at, on_time=public(report.on_time),
                   late=public(report.late), missed=public(report.missed), pending=len(report.pending))
