"""The planner's input from the records: assets with their latest forecasts, technician-days from the
roster's shifts, site calendars, the PM rules and costs, and what the stored plan already decided.

An I/O shell: it reads the records and builds the plain ``predictor.planning.problem.Problem`` the pure
solver takes. Forecasts count remaining life from the moment they were made; the planner counts from its
horizon's start, so they are shifted by the days in between. A cold-start forecast that gives only a median
is used as a point (P10 = P50 = P90): the planner then treats it as certain, which the docs say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from core.domain import Asset, AssetKind, Forecast
from core.plans import PlanTask
from people.model import ELEVATOR_CERTIFICATE, Shift, Skill, Technician
from people.records import PeopleRecords
from predictor.forecast_notes import METER_VALUE
from predictor.planning.costs import load_costs
from predictor.planning.problem import AssetState, CostModel, Horizon, LastDone, Meter, PmRule, Problem, TaskKey
from predictor.planning.problem import TechnicianDay as TechDay
from predictor.planning.rules import load_rules
from predictor.planning.windows import site_policies
from storage.records import Database
from workorders.calendar import Span
from workorders.dispatch import site_zones
from workorders.sla import SlaPolicy
from workorders.slafile import default_policy


@dataclass(frozen=True, slots=True)
class PlannerSetup:
    """What the planner is configured with: PM rules, their quiet hours, costs, and the desk's calendars."""

    rules: tuple[PmRule, ...]
    quiet: Mapping[AssetKind, tuple[Span, ...]]
    costs: CostModel
    sla: SlaPolicy

    @classmethod
    def load(cls, sla: SlaPolicy | None = None, rules_file: Path | None = None,
             costs_file: Path | None = None) -> PlannerSetup:
        """The packaged rules and costs (or a portfolio's own files) over the service desk's calendars."""
        book = load_rules(rules_file)
        return cls(book.rules, book.quiet, load_costs(costs_file), sla or default_policy())


class ProblemBuilder:
    def __init__(self, db: Database, people: PeopleRecords, setup: PlannerSetup, tz: tzinfo = UTC) -> None:
        self._db = db
        self._people = people
        self._setup = setup
        self._tz = tz

    def is_regulatory(self, rule_id: str) -> bool:
        """Whether the PM rule ``rule_id`` is a regulatory minimum (its task must be done by its due date)."""
        return any(rule.id == rule_id and rule.regulatory for rule in self._setup.rules)

    def knows_technician(self, user_id: str) -> bool:
        return self._people.technicians.find(user_id) is not None

    def build(self, horizon: Horizon, pinned: Sequence[PlanTask], rejected: frozenset[TaskKey],
              open_tasks: Sequence[PlanTask]) -> Problem:
        """The problem over ``horizon`` given what the stored plan decided."""
        assets = self._db.assets.list()
        forecasts = {f.asset_id: f for f in self._db.forecasts.latest()}
        done: dict[str, dict[str, LastDone]] = defaultdict(dict)
        for (rule_id, asset_id), at in self._db.plans.last_done().items():
            done[asset_id][rule_id] = LastDone(at.astimezone(self._tz).date())
        states = tuple(asset_state(a, forecasts.get(a.id), horizon, done.get(a.id, {}), self._tz) for a in assets)
        technicians = self._people.technicians.list()
        since = datetime.combine(horizon.start, datetime.min.time(), self._tz)
        until = datetime.combine(horizon.end, datetime.max.time(), self._tz)
        shifts = self._people.shifts.between(since.astimezone(UTC), until.astimezone(UTC))
        site_ids = sorted({a.site_id for a in assets})
        days = technician_days(technicians, shifts, site_ids, horizon, self._tz)
        default, sites = site_policies(self._setup.sla, self._setup.quiet, site_ids)
        return Problem(horizon, states, self._setup.rules, tuple(days), self._setup.costs, default, sites,
                       pinned=tuple(pinned), rejected=rejected, open_tasks=tuple(open_tasks))


def asset_state(asset: Asset, forecast: Forecast | None, horizon: Horizon, last_done: dict[str, LastDone],
                tz: tzinfo = UTC) -> AssetState:
    """What the planner knows of ``asset``: its forecast shifted to the horizon's start, meter, last done."""
    if forecast is None or forecast.rul_days is None:
        return AssetState(asset.id, asset.site_id, asset.kind, health=None if forecast is None else forecast.health,
                          last_done=last_done)
    elapsed = (horizon.start - forecast.at.astimezone(tz).date()).days
    p50 = forecast.rul_days
    p10 = p50 if forecast.rul_p10_days is None else forecast.rul_p10_days
    p90 = p50 if forecast.rul_p90_days is None else forecast.rul_p90_days
    return AssetState(asset.id, asset.site_id, asset.kind, max(p10 - elapsed, 0.0), max(p50 - elapsed, 0.0),
                      max(p90 - elapsed, 0.0), forecast.health, _meters(forecast, elapsed), last_done)


def _meters(forecast: Forecast, elapsed: int) -> dict[str, Meter]:
    """The usage meter, when the forecast gives its unit, reading and (through P50 in days and in usage)
    its rate of use, brought forward to the horizon's start."""
    value = forecast.details.get(METER_VALUE)
    p50_days, p50_usage = forecast.rul_days, forecast.rul_p50_usage
    if forecast.usage_unit is None or value is None or not p50_days or p50_usage is None:
        return {}
    rate = p50_usage / p50_days
    return {forecast.usage_unit: Meter(forecast.usage_unit, value + rate * max(elapsed, 0), rate)}


def technician_days(technicians: Iterable[Technician], shifts: Iterable[Shift], site_ids: Sequence[str],
                    horizon: Horizon, tz: tzinfo) -> list[TechDay]:
    """Each technician's working hours per local day from their (not on-call) shifts, the skills valid
    that day (no elevator work once the certificate has expired) and the sites they cover."""
    technicians = list(technicians)
    hours: dict[tuple[str, date], float] = defaultdict(float)
    for shift in shifts:
        if not shift.on_call:
            hours[shift.user_id, shift.starts_at.astimezone(tz).date()] += (
                (shift.ends_at - shift.starts_at).total_seconds() / 3600)
    zones = {site: site_zones(site, technicians) for site in site_ids}
    days = []
    for tech in technicians:
        covered = frozenset(site for site in site_ids if tech.covers(site, zones[site]))
        for offset in range(horizon.days):
            day = horizon.day(offset)
            worked = hours.get((tech.user_id, day), 0.0)
            if worked > 0 and covered:
                skills = tech.skills if tech.certified(ELEVATOR_CERTIFICATE, day) else tech.skills - {Skill.ELEVATOR}
                days.append(TechDay(tech.user_id, day, worked, frozenset(skills), covered))
    return days
