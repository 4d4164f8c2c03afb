"""The maintenance benchmark's shared machinery: tasks, the crew that does them within its hours, the regulatory
elevator visits every policy must make, and the loop that runs one kind of the fleet under one policy.

Every policy goes through the same dispatcher and the same costs: a policy only says which tasks it wants
and by when. Days are numbered from 0 (a Monday); technicians work Monday to Friday.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from simulators.fleet import KindFleet, Observation

REGULATORY_EVERY_D = 15  # TSG T5002: an elevator maintenance visit at least every 15 days
REGULATORY_LEAD_D = 5  # a regulatory visit may come this many days early
# The elevator's item sets: (name, every n-th visit, hours, cost); the largest set that divides wins.
# Costs per kind, the same for every policy. LEAD: these are the numbers of the solver's cost model
# (predictor/planning/costs.yaml and pm_rules.yaml on wt-solver); replace this table by loading that file
# once it is merged. Failure: repair + downtime_h * cost_per_h + emergency premium + resident impact.
VISIT_COST = 80.0  # one technician travelling to one site on one day
FAILURE = {  # kind: (repair, downtime_h, downtime_cost_per_h, emergency_premium, resident_impact)
    "elevator": (1800.0, 24.0, 40.0, 600.0, 1500.0),
    "pump": (2500.0, 8.0, 150.0, 800.0, 1200.0),
    "lighting": (40.0, 72.0, 0.5, 60.0, 30.0),
}
PM_TASK = {"pump": (4.0, 600.0), "elevator": (3.0, 450.0), "lighting": (1.0, 60.0)}  # (hours, planned cost)
REPAIR_HOURS = {"pump": 6.0, "elevator": 5.0, "lighting": 1.5}  # on-call crew's hours per failure


def failure_cost(kind: str) -> float:
    repair, downtime_h, per_h, premium, impact = FAILURE[kind]
    return repair + downtime_h * per_h + premium + impact


ITEM_SETS = (("annual", 24, 6.0, 480.0), ("half_yearly", 12, 3.5, 280.0), ("quarterly", 6, 2.5, 200.0),
             ("half_monthly", 1, 1.5, 120.0))


@dataclass(frozen=True, slots=True)
class Task:
    """One piece of planned work on one asset: may be done from ``earliest``, is compliant when done by ``due``;
    the crew does it on ``preferred`` (or the last workday before ``due``), sooner only to level its load."""

    asset: int
    site: int
    earliest: int
    due: int
    hours: float
    cost: float
    renews: bool  # a PM that renews the part (not the regulatory visit, which inspects and lubricates)
    regulatory: bool = False
    preferred: int | None = None  # None: as soon as possible


@dataclass(slots=True)
class Ledger:
    """What one kind cost under one policy: the numbers the benchmark reports."""

    planned_cost: float = 0.0
    visits: int = 0
    planned_hours: float = 0.0
    pm_done: int = 0
    pm_on_time: int = 0
    regulatory_misses: int = 0
    capacity_violations: int = 0
    failures: dict[str, int] = field(default_factory=dict)


def is_workday(day: int) -> bool:
    return day % 7 < 5


class Crew:
    """Technicians of one trade, ``hours`` each per workday, doing pending tasks in due order (see ``_today``); a
    technician already at a site takes that site's next task first (a visit costs, a task there is cheap)."""

    def __init__(self, technicians: int, hours: float) -> None:
        self.technicians = technicians
        self.hours = hours

    def dispatch(self, day: int, pending: list[Task], ledger: Ledger) -> list[Task]:
        """Do what fits today; return the tasks done (removed from ``pending``)."""
        if not is_workday(day):
            return []
        left = [self.hours] * self.technicians
        at_site: dict[int, int] = {}  # site -> the first technician there today
        visited: set[tuple[int, int]] = set()
        done: list[Task] = []
        for task in self._today(day, pending):
            tech = self._choose(task, left, at_site)
            if tech is None:
                continue
            if (tech, task.site) not in visited:  # a visit is one technician at one site on one day
                visited.add((tech, task.site))
                ledger.visits += 1
            at_site.setdefault(task.site, tech)
            left[tech] -= task.hours
            done.append(task)
        ledger.capacity_violations += sum(h < -1e-9 for h in left)  # checked, not assumed
        for task in done:
            pending.remove(task)
        return done

    def _today(self, day: int, pending: list[Task]) -> list[Task]:
        """Tasks whose day has come, then those to pull forward to today: earliest due first, as long as the hours
        due by a task's last workday would not fit in the crew's days after today (three quarters of them: a
        six-hour task does not fit in a technician's last two hours)."""
        # Due first (by the last workday before the due day), regulatory first, long tasks before short ones
        # (a six-hour visit finds a technician with six hours left only early in the day), then by site.
        open_ = sorted((t for t in pending if t.earliest <= day),
                       key=lambda t: (_last_workday(t.due), not t.regulatory, -t.hours, t.site))
        ready = [t for t in open_ if _has_come(t, day)]
        ahead = [t for t in open_ if not _has_come(t, day)]
        hours = 0.0
        pull = 0
        for i, task in enumerate(ahead):
            hours += task.hours
            days = sum(is_workday(d) for d in range(day + 1, _last_workday(task.due) + 1))
            if hours > 0.75 * self.technicians * self.hours * days:
                pull = i + 1
        # Regulatory work whose last day is today or the next workday goes before anything else: a regulation is
        # never traded for cost, and tomorrow may be too full to take it.
        soon = _next_workday(day)
        return sorted(ready + ahead[:pull], key=lambda t: not (t.regulatory and _last_workday(t.due) <= soon))

    def _choose(self, task: Task, left: list[float], at_site: dict[int, int]) -> int | None:
        there = at_site.get(task.site)
        if there is not None and left[there] >= task.hours:
            return there
        best = max(range(self.technicians), key=lambda i: left[i])
        return best if left[best] >= task.hours else None


def _last_workday(day: int) -> int:
    while not is_workday(day):
        day -= 1
    return day


def _next_workday(day: int) -> int:
    day += 1
    while not is_workday(day):
        day += 1
    return day


def _has_come(task: Task, day: int) -> bool:
    preferred = task.earliest if task.preferred is None else task.preferred
    return day >= min(preferred, _last_workday(task.due))


class Regulatory:
    """The 15-day elevator visits, the same in every policy: due 15 days after the last one, from 3 days early."""

    def __init__(self, fleet: KindFleet) -> None:
        # Spread the first due dates over the first 15 days, as a fleet already under contract would be.
        self.due = np.arange(fleet.n) % REGULATORY_EVERY_D
        # ... and their item sets over the year, so that not every annual visit falls in the same week.
        self.visits = np.arange(fleet.n) * 7 % 24
        self.open = np.zeros(fleet.n, dtype=bool)
        self.site = fleet.site

    def tasks(self, day: int) -> list[Task]:
        ready = np.flatnonzero(~self.open & (self.due - REGULATORY_LEAD_D <= day))
        self.open[ready] = True
        return [self._visit(int(a), day) for a in ready]

    def _visit(self, asset: int, day: int) -> Task:
        number = int(self.visits[asset]) + 1
        _, _, hours, cost = next(s for s in ITEM_SETS if number % s[1] == 0)
        return Task(asset, int(self.site[asset]), day, int(self.due[asset]), hours, cost, renews=False,
                    regulatory=True, preferred=int(self.due[asset]))

    def record(self, task: Task, day: int, ledger: Ledger) -> None:
        ledger.regulatory_misses += day > task.due  # a 15-day interval exceeded
        self.visits[task.asset] += 1
        self.open[task.asset] = False
        self.due[task.asset] = day + REGULATORY_EVERY_D

    def overdue(self, day: int) -> int:
        """Visits still undone past their due day at the end of the run (misses too)."""
        return int(np.sum(self.open & (self.due < day)))


class Policy(Protocol):
    """A maintenance policy: asks for tasks, sees what happened. It never sees the simulator's hidden state."""

    def propose(self, day: int, pending: list[Task]) -> list[Task]: ...

    def observe(self, observation: Observation, done: Iterable[Task]) -> None: ...


def run_kind(fleet: KindFleet, policy: Policy, crew: Crew, days: int) -> Ledger:
    """Run ``days`` days of one kind under ``policy``; the ledger of costs, hours, misses and failures."""
    ledger = Ledger()
    regulatory = Regulatory(fleet) if fleet.spec.kind == "elevator" else None
    pending: list[Task] = []
    for day in range(days):
        pending += policy.propose(day, pending)
        if regulatory is not None:
            pending += regulatory.tasks(day)
        done = crew.dispatch(day, pending, ledger)
        fleet.service(np.array([t.asset for t in done if t.renews], dtype=np.int64), day)
        for task in done:
            _account(task, day, ledger, regulatory)
        observation = fleet.step(day)
        failed = set(observation.failed.tolist())
        # The repair renews a failed asset, so its pending PM is moot: the order is cancelled.
        pending = [t for t in pending if not (t.renews and t.asset in failed)]
        policy.observe(observation, done)
    if regulatory is not None:
        ledger.regulatory_misses += regulatory.overdue(days)
    for failure in fleet.failures:
        ledger.failures[failure.mode] = ledger.failures.get(failure.mode, 0) + 1
    return ledger


def _account(task: Task, day: int, ledger: Ledger, regulatory: Regulatory | None) -> None:
    ledger.planned_cost += task.cost
    ledger.planned_hours += task.hours
    ledger.pm_done += 1  # every planned task, the regulatory visits included
    ledger.pm_on_time += day <= task.due
    if task.regulatory and regulatory is not None:
        regulatory.record(task, day, ledger)
