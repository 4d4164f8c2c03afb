"""SLA clocks of a work order and the escalations they raised."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from storage.records.sla import Escalation
from workorders.sla import ClockKind, SlaState, TargetName, TargetStatus


class TargetStatusPublic(BaseModel):
    target: TargetName
    state: SlaState = Field(description="running, at_risk (80 % used), paused, met, breached, or stopped "
                                        "(the order was cancelled in time).")
    due_at: datetime = Field(description="When time is up, pauses accounted; while paused, when it would be up "
                                         "if the clock restarted now.")
    limit: timedelta = Field(description="The time allowed, counted on the clock (business hours or around the "
                                         "clock).")
    elapsed: timedelta = Field(description="Time used so far (or until the milestone), pauses left out.")
    fraction: float = Field(description="elapsed / limit; 0.8 is at risk, 1.0 breached.")
    met_at: datetime | None = Field(description="When the milestone was reached, late or not.")

    @classmethod
    def of(cls, status: TargetStatus) -> TargetStatusPublic:
        return cls(target=status.target, state=status.state, due_at=status.due_at, limit=status.limit,
                   elapsed=status.elapsed, fraction=round(status.fraction, 4), met_at=status.met_at)


class WorkOrderSla(BaseModel):
    work_order_id: int
    clock: ClockKind = Field(description="business (the site's working hours and holidays) or around_the_clock.")
    targets: list[TargetStatusPublic]


class EscalationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    work_order_id: int
    target: TargetName
    level: str = Field(description="at_risk (80 % of the time used) or breached.")
    at: datetime = Field(description="When the escalation was raised.")
    due_at: datetime = Field(description="The target's deadline at that moment.")
    notified: str = Field(description="The supervisor told (empty: routed by site).")

    @classmethod
    def of(cls, escalation: Escalation) -> EscalationPublic:
        return cls.model_validate(escalation)
