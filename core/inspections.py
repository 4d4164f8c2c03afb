"""The words of inspection rounds (巡检) shared by the records store and the service desk."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class RoundStatus(enum.StrEnum):
    """Where a round stands (``workorders.inspections.ROUND_ALLOWED`` says which step may follow which)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    MISSED = "missed"  # not completed by its due time plus the template's grace; final


@dataclass(frozen=True, slots=True)
class PlannedRound:
    """A round a schedule asks for: its key in the records is exactly these fields."""

    template: str
    item_set: str  # the largest item set due on that visit (the round covers it and every set it contains)
    site_id: str
    asset_id: str | None  # None: one round over the site's assets of the template's kind
    due_at: datetime


@dataclass(frozen=True, slots=True)
class InspectionRound:
    id: int
    template: str
    item_set: str
    site_id: str
    asset_id: str | None
    due_at: datetime
    status: RoundStatus
    assignee: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InspectionResult:
    """One checklist item of a round, recorded by ``recorded_by`` at ``recorded_at``."""

    id: int
    round_id: int
    item: str
    asset_id: str | None  # None: a site-wide item
    passed: bool
    value: float | None  # a measurement, in the item's unit
    note: str
    recorded_by: str
    recorded_at: datetime
    work_order_id: int | None = None  # the work order a failed item opened
