"""The preventive-maintenance plan as stored and reviewed: tasks on assets, days and technicians.

A plan task is keyed by (rule, asset, due date): the PM rule that asks for it, the asset, and the day the
rule falls due. Re-planning updates the task with that key (its day, technician, explanation) instead of
adding another, so a task and its planned work order are never duplicated.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class PlanTaskStatus(enum.StrEnum):
    PROPOSED = "proposed"  # made by the planner, not yet reviewed
    ACCEPTED = "accepted"  # a planner accepted it: re-planning keeps its day and technician
    MOVED = "moved"  # a planner moved it to another day (with a reason): kept there like an accepted task
    REJECTED = "rejected"  # a planner rejected it (with a reason): not proposed again for this key
    DROPPED = "dropped"  # a later plan no longer needs it; its work order is cancelled
    DONE = "done"  # its work order was completed

    @property
    def is_pinned(self) -> bool:
        """Re-planning keeps the day and technician of a task a person decided on."""
        return self in (PlanTaskStatus.ACCEPTED, PlanTaskStatus.MOVED)


class SolveStatus(enum.StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # the solver's best within its time limit
    FALLBACK = "fallback"  # the solver found nothing in time: the feasible greedy plan


@dataclass(frozen=True, slots=True)
class Plan:
    """One run of the planner over ``horizon_start`` .. ``horizon_end`` (inclusive days)."""

    id: int | None
    created_at: datetime
    created_by: str
    horizon_start: date
    horizon_end: date
    status: SolveStatus
    expected_cost: float  # the objective: planned task costs + expected failure costs left
    stats: dict[str, float] = field(default_factory=dict)  # tasks, solve_s, capacity use, ...


@dataclass(frozen=True, slots=True)
class PlanTask:
    """One task of the plan: what (``task``), on which asset, which day, by whom, and why."""

    rule_id: str  # the PM rule, e.g. "elevator.half_monthly", "pump.bearing_condition"
    asset_id: str
    site_id: str
    due_date: date  # the day the rule falls due (part of the key; the task may be planned earlier)
    planned_date: date
    technician_id: str | None
    task: str  # what is done, for people: "Half-monthly maintenance (items A1-A12)"
    hours: float
    planned_cost: float
    expected_failure_cost: float  # probability of failure before the next chance times the failure cost
    reasons: tuple[str, ...]  # each a sentence: "P10 of remaining life is 12 days", "grouped with 2 tasks..."
    affects_residents: bool = False  # water off, elevator out of service: the desk drafts a notice
    status: PlanTaskStatus = PlanTaskStatus.PROPOSED
    plan_id: int | None = None
    work_order_id: int | None = None
    move_reason: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None
    id: int | None = None

    @property
    def key(self) -> tuple[str, str, date]:
        return self.rule_id, self.asset_id, self.due_date

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)
