"""The maintenance planner's input and output: assets with forecasts and meters, PM rules, technician-days,
site calendars and quiet hours, costs, pinned tasks; and the solution of ``solve(problem, time_limit_s)``.

All of it is plain data, built by the caller (``predictor/planner_service.py`` from the records, the bench
from its simulated fleet): nothing here reads a clock or a database. Days are whole local dates; a task
takes one technician on one day. The solver lives in ``predictor.planning.solver``::

    solve(problem: Problem, time_limit_s: float = 5.0) -> Solution

and returns ``core.plans.PlanTask``s with status proposed and no ids (the pinned tasks are not repeated).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.domain import AssetKind
from core.plans import PlanTask, SolveStatus
from people.model import Skill
from predictor.rul import failure_probability
from workorders.calendar import BusinessCalendar, Span

TaskKey = tuple[str, str, date]  # (rule_id, asset_id, due_date): PlanTask.key


@dataclass(frozen=True, slots=True)
class Horizon:
    """The days planned: ``start`` .. ``start + days - 1``."""

    start: date
    days: int = 90

    @property
    def end(self) -> date:
        """The last day planned (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def offset(self, day: date) -> int:
        """Days from ``start`` to ``day`` (negative before the horizon)."""
        return (day - self.start).days


# --- the assets ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Meter:
    """A usage counter (run hours, door cycles, burn hours): its value at the horizon's start and its rate."""

    unit: str
    value: float
    rate_per_day: float


@dataclass(frozen=True, slots=True)
class LastDone:
    """When a rule's task was last done on an asset, and the meter reading then (for usage rules)."""

    on: date
    meter_value: float | None = None


@dataclass(frozen=True, slots=True)
class AssetState:
    """What the planner knows of one asset at the horizon's start.

    The remaining-life quantiles are in days counted from the horizon's start (the caller shifts a forecast
    made earlier); None when there is no forecast, in which case the asset carries no failure risk in the
    objective and condition rules never fire on it. ``health`` is 0-100 (100 = as new).
    """

    asset_id: str
    site_id: str
    kind: AssetKind
    rul_p10_days: float | None = None
    rul_p50_days: float | None = None
    rul_p90_days: float | None = None
    health: float | None = None
    meters: Mapping[str, Meter] = field(default_factory=dict)  # by unit
    last_done: Mapping[str, LastDone] = field(default_factory=dict)  # by rule id

    @property
    def has_forecast(self) -> bool:
        return None not in (self.rul_p10_days, self.rul_p50_days, self.rul_p90_days)

    def p_fail_within(self, days: float) -> float:
        """Probability that the asset fails within ``days`` of the horizon's start (0 without a forecast)."""
        if self.rul_p10_days is None or self.rul_p50_days is None or self.rul_p90_days is None:
            return 0.0
        return failure_probability(self.rul_p10_days, self.rul_p50_days, self.rul_p90_days, days)


# --- the PM rules --------------------------------------------------------------------------------------

class TriggerKind(enum.StrEnum):
    TIME = "time"  # every ``every_days`` days
    USAGE = "usage"  # every ``every_usage`` units of meter ``meter``
    CONDITION = "condition"  # P10 of remaining life below ``p10_below_days``, or health below ``health_below``


class Anchor(enum.StrEnum):
    FIXED = "fixed"  # on the schedule's anchor: anchor + n * interval, whenever the task was last done
    FLOATING = "floating"  # from the last done date (or meter reading): last + interval


class Combine(enum.StrEnum):
    ANY = "any"  # due when the first trigger falls due
    ALL = "all"  # due when the last trigger falls due


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: TriggerKind
    anchor: Anchor = Anchor.FLOATING
    every_days: int | None = None
    every_usage: float | None = None
    meter: str | None = None  # the meter's unit, e.g. "run_h"
    p10_below_days: float | None = None
    health_below: float | None = None


@dataclass(frozen=True, slots=True)
class PmRule:
    """One preventive-maintenance rule for a kind of asset.

    ``template`` names an inspection template of the service desk (workorders/inspections.yaml); its
    schedule and item sets then give the due dates and which set each visit carries (the elevator's
    half-monthly, quarterly, half-yearly and annual sets), ``hours_by_set`` / ``cost_by_set`` the effort
    of each. ``lead_days``: how many days before its due date the task may be done. ``sites`` empty means
    every site except ``except_sites`` (sites whose own policy replaces the rule under the same id).
    """

    id: str
    kind: AssetKind
    task: str
    hours: float
    skill: Skill
    planned_cost: float
    triggers: tuple[Trigger, ...]
    combine: Combine = Combine.ANY
    regulatory: bool = False  # must be done by its due date, always
    affects_residents: bool = False  # water off, elevator out of service: quiet hours apply, notice drafted
    anchor: date | None = None  # the origin of fixed triggers
    lead_days: int = 7
    template: str | None = None
    item_sets: tuple[tuple[str, int], ...] = ()  # the template's sets (name, every n-th visit), smallest first
    hours_by_set: Mapping[str, float] = field(default_factory=dict)
    cost_by_set: Mapping[str, float] = field(default_factory=dict)
    sites: frozenset[str] = frozenset()
    except_sites: frozenset[str] = frozenset()

    def applies_to(self, site_id: str) -> bool:
        return (site_id in self.sites) if self.sites else site_id not in self.except_sites

    @property
    def is_condition(self) -> bool:
        return any(t.kind is TriggerKind.CONDITION for t in self.triggers)


# --- the people, the calendars, the costs --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TechnicianDay:
    """A technician's availability on one day: hours free for planned work, skills valid that day (the
    caller drops the elevator skill when the certificate has expired), sites covered (empty: none)."""

    user_id: str
    day: date
    hours: float
    skills: frozenset[Skill]
    sites: frozenset[str]


@dataclass(frozen=True, slots=True)
class SitePolicy:
    """When planned work may run at a site: the business calendar (working hours per weekday, so a site
    that works weekends gives them hours; holidays closed) and, per kind, the quiet spans (local minutes)
    in which resident-affecting work may not run: rush hours for elevators, peak water use for pumps."""

    calendar: BusinessCalendar
    quiet: Mapping[AssetKind, tuple[Span, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FailureCost:
    """What a failure of one asset of a kind costs."""

    repair: float
    downtime_h: float  # expected hours out of service
    downtime_cost_per_h: float
    emergency_premium: float  # call-out outside the plan
    resident_impact: float  # complaints, compensation, reputation

    @property
    def total(self) -> float:
        return self.repair + self.downtime_h * self.downtime_cost_per_h + self.emergency_premium + self.resident_impact


@dataclass(frozen=True, slots=True)
class CostModel:
    failure: Mapping[AssetKind, FailureCost]
    visit_cost: float = 80.0  # one technician travelling to one site on one day
    # Leaving a company-policy (not regulatory, not condition) task undone in the horizon: a penalty high
    # enough that it is skipped only when no technician can do it.
    policy_miss_cost: float = 5_000.0

    def failure_cost(self, kind: AssetKind) -> float:
        cost = self.failure.get(kind)
        return 0.0 if cost is None else cost.total


@dataclass(frozen=True, slots=True)
class Problem:
    horizon: Horizon
    assets: tuple[AssetState, ...]
    rules: tuple[PmRule, ...]
    technicians: tuple[TechnicianDay, ...]
    costs: CostModel
    default_site: SitePolicy
    sites: Mapping[str, SitePolicy] = field(default_factory=dict)  # a site's own policy over the default
    pinned: tuple[PlanTask, ...] = ()  # accepted or moved: kept on their day and technician
    rejected: frozenset[TaskKey] = frozenset()  # rejected keys: never proposed again
    # Open tasks of the current plan: a condition task already planned for (rule, asset) keeps its due date,
    # so re-planning after a new forecast moves it instead of proposing another.
    open_tasks: tuple[PlanTask, ...] = ()

    def site_policy(self, site_id: str) -> SitePolicy:
        return self.sites.get(site_id, self.default_site)


# --- the answer ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Unplaced:
    """A task the planner could not put on any day: no qualified technician with hours, no allowed day."""

    rule_id: str
    asset_id: str
    site_id: str
    due_date: date
    regulatory: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Solution:
    status: SolveStatus
    tasks: list[PlanTask]  # proposed, in (planned_date, technician, site) order; pinned tasks not repeated
    expected_cost: float  # planned costs + expected failure costs + visit costs of the plan
    stats: dict[str, float] = field(default_factory=dict)  # candidates, variables, solve_s, visits, ...
    unplaced: tuple[Unplaced, ...] = ()
