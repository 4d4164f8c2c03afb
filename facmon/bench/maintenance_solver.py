"""facmon's policy with the project's planner: each week the RUL model's quantiles go to
``predictor.planning.solve`` (HiGHS, greedy fallback) with the packaged condition rules and cost model, and
the tasks it plans become the crew's work on their planned days.

Only the condition rules of the packaged rules file are given (``pump.bearing_replacement``,
``elevator.door_overhaul``, the condition trigger of ``lighting.relamp``): the regulatory elevator visits are
the benchmark's own, the same for every policy, and the calendar rules (``pump.service``, relamping on burn
hours) would make facmon's plan a calendar again. The solver decides which at-risk parts to renew and when,
pricing each day's wait by the failure probability through the quantiles and grouping tasks into visits.
The crew keeps the technicians' hours: the solver is told each technician-day's hours less what the
pending work already takes.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np

from core.domain import AssetKind
from facmon.bench.maintenance_crew import Crew, Task, is_workday
from facmon.bench.maintenance_policies import SLACK_D, Facmon
from people.model import Skill
from predictor.planning.costs import packaged_costs
from predictor.planning.problem import AssetState, Horizon, PmRule, Problem, SitePolicy, TechnicianDay, TriggerKind
from predictor.planning.rules import packaged_rules
from predictor.planning.solver import solve
from predictor.rul import RulModel
from simulators.fleet import KindFleet
from workorders.calendar import BusinessCalendar

DAY_ZERO = date(2027, 3, 1)  # a Monday: the simulator's day 0
HORIZON_D = 14
WORKDAY = ((480, 720), (780, 1020))  # 08:00-12:00, 13:00-17:00
SKILL = {"pump": Skill.PLUMBER, "elevator": Skill.ELEVATOR, "lighting": Skill.ELECTRICIAN}


class SolverFacmon(Facmon):
    """:class:`Facmon`'s predictions, ``predictor.planning.solve``'s decisions and days."""

    def __init__(self, fleet: KindFleet, model: RulModel, days: int, crew: Crew, replan_days: int = 7,
                 time_limit_s: float = 2.0) -> None:
        super().__init__(fleet, model, days, replan_days)
        self.crew = crew
        self.time_limit_s = time_limit_s
        self.asset_kind = AssetKind(self.kind)
        self.rules = tuple(_condition_only(r) for r in packaged_rules().rules
                           if r.kind is self.asset_kind and r.is_condition and not r.regulatory)
        rules_file = packaged_rules()
        calendar = BusinessCalendar("UTC", (WORKDAY,) * 5 + ((),) * 2)
        self.policy = SitePolicy(calendar, rules_file.quiet)
        self.costs = packaged_costs()
        self.solves: list[dict[str, float]] = []

    def propose(self, day: int, pending: list[Task]) -> list[Task]:
        if day % self.replan_days or day < SLACK_D:
            return []
        assets, quantiles = self.predict(day, pending)
        if assets.size == 0:
            return []
        start = DAY_ZERO + timedelta(days=day)
        states = tuple(AssetState(str(a), str(self.site[a]), self.asset_kind, float(q[0]), float(q[1]), float(q[2]))
                       for a, q in zip(assets.tolist(), quantiles, strict=True))
        problem = Problem(Horizon(start, HORIZON_D), states, self.rules, self._technicians(day, pending),
                          self.costs, self.policy)
        solution = solve(problem, self.time_limit_s)
        self.solves.append(solution.stats)
        return [self._planned_task(t.asset_id, (t.planned_date - DAY_ZERO).days, t.hours, t.planned_cost)
                for t in solution.tasks]

    def _planned_task(self, asset_id: str, planned: int, hours: float, cost: float) -> Task:
        asset = int(asset_id)
        return Task(asset, int(self.site[asset]), planned, planned + SLACK_D, hours, cost, renews=True,
                    preferred=planned)

    def _technicians(self, day: int, pending: list[Task]) -> tuple[TechnicianDay, ...]:
        """Each technician's hours on each day of the horizon, less the pending work's share on that day."""
        taken = np.zeros(HORIZON_D)
        for task in pending:
            offset = (task.preferred if task.preferred is not None else task.earliest) - day
            taken[min(max(offset, 0), HORIZON_D - 1)] += task.hours
        sites = frozenset(str(s) for s in np.unique(self.site))
        return tuple(
            TechnicianDay(f"tech-{i}", DAY_ZERO + timedelta(days=day + d),
                          max(0.0, self.crew.hours - taken[d] / self.crew.technicians), frozenset({SKILL[self.kind]}),
                          sites)
            for d in range(HORIZON_D) if is_workday(day + d) for i in range(self.crew.technicians))


def _condition_only(rule: PmRule) -> PmRule:
    triggers = tuple(t for t in rule.triggers if t.kind is TriggerKind.CONDITION)
    return dataclasses.replace(rule, triggers=triggers)
