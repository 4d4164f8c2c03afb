"""The solver's candidates: every task the rules ask for, with the (day, technician) pairs that may do it.

A pair is allowed when the day lies in the task's window and holds its hours outside the quiet spans, and
the technician has the skill, covers the site and has the hours left after the pinned tasks. A task with
no pair is unplaced, with the reason, before any solver runs. Long windows are thinned to a few days so
the model stays small (the chosen days keep the window's ends).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from people.model import Skill
from predictor.planning.costs import expected_failure_cost
from predictor.planning.problem import Problem, TaskKey, TriggerKind, Unplaced
from predictor.planning.triggers import Occurrence, occurrences
from predictor.planning.windows import allowed_days

MAX_DAYS_PER_TASK = 8
# Leaving a regulatory task undone is priced far above anything else, so the solver only does it when no
# assignment exists; it then shows as unplaced.
REGULATORY_MISS_COST = 1_000_000.0

Visit = tuple[str, str, date]  # (technician, site, day)


@dataclass(frozen=True, slots=True)
class Option:
    day: date
    tech: int  # index into Problem.technicians
    cost: float  # planned cost + expected failure cost of waiting until ``day`` (condition tasks)


@dataclass(frozen=True, slots=True)
class Candidate:
    occurrence: Occurrence
    options: tuple[Option, ...]
    skip_cost: float  # the price of not doing it in the horizon
    previous: int | None = None  # the candidate of the same rule and asset before it, when it has a gap limit

    @property
    def site_id(self) -> str:
        return self.occurrence.asset.site_id


@dataclass(frozen=True, slots=True)
class Candidates:
    tasks: tuple[Candidate, ...]
    capacity: tuple[float, ...]  # hours left per technician-day after the pinned tasks
    pinned_visits: frozenset[Visit]  # visits the pinned tasks make anyway
    unplaced: tuple[Unplaced, ...]


def build_candidates(problem: Problem, max_days: int = MAX_DAYS_PER_TASK) -> Candidates:
    capacity, pinned_visits = _after_pinned(problem)
    by_day: dict[date, list[int]] = defaultdict(list)
    able: dict[tuple[date, Skill, str], list[int]] = defaultdict(list)  # who may work where, by day
    for index, tech in enumerate(problem.technicians):
        by_day[tech.day].append(index)
        for skill in tech.skills:
            for site in tech.sites:
                able[(tech.day, skill, site)].append(index)
    tasks: list[Candidate] = []
    unplaced: list[Unplaced] = []
    last_of: dict[tuple[str, str], int] = {}  # (rule, asset) -> its latest candidate so far
    taken: set[TaskKey] = {task.key for task in problem.pinned} | set(problem.rejected)
    memo: dict[tuple[object, ...], int] = {}
    pinned_on = {task.key: task.planned_date for task in problem.pinned}
    after_pinned: dict[tuple[str, str], date] = {}  # (rule, asset) -> the day of its pinned visit just before
    for occurrence in _occurrences(problem):
        series = occurrence.rule.id, occurrence.asset.asset_id
        if occurrence.key in taken:  # decided by a person: not proposed; the gap counts from a pinned visit
            last_of.pop(series, None)
            if occurrence.key in pinned_on:
                after_pinned[series] = pinned_on[occurrence.key]
            continue
        days = _thinned(allowed_days(occurrence, problem.site_policy(occurrence.asset.site_id), memo), max_days)
        pinned_day = after_pinned.pop(series, None)
        if pinned_day is not None and occurrence.max_gap_days is not None:
            days = [day for day in days if (day - pinned_day).days <= occurrence.max_gap_days]
        options = tuple(_options(problem, occurrence, days, able, capacity))
        if options:
            previous = last_of.get(series) if occurrence.max_gap_days is not None else None
            last_of[series] = len(tasks)
            tasks.append(Candidate(occurrence, options, _skip_cost(problem, occurrence), previous))
        else:
            last_of.pop(series, None)
            unplaced.append(_unplaced(problem, occurrence, days, by_day))
    return Candidates(tuple(tasks), tuple(capacity), frozenset(pinned_visits), tuple(unplaced))


def _after_pinned(problem: Problem) -> tuple[list[float], set[Visit]]:
    capacity = [tech.hours for tech in problem.technicians]
    index = {(tech.user_id, tech.day): i for i, tech in enumerate(problem.technicians)}
    visits = set()
    for task in problem.pinned:
        if task.technician_id is None:
            continue
        visits.add((task.technician_id, task.site_id, task.planned_date))
        slot = index.get((task.technician_id, task.planned_date))
        if slot is not None:
            capacity[slot] -= task.hours
    return capacity, visits


def _occurrences(problem: Problem) -> list[Occurrence]:
    """The rules' occurrences on every asset, in due order per (rule, asset)."""
    kept: dict[tuple[str, str], date] = {}
    for task in problem.open_tasks:  # the earliest open task per (rule, asset) is the one a re-plan keeps
        key = task.rule_id, task.asset_id
        kept[key] = min(kept.get(key, task.due_date), task.due_date)
    found = []
    for asset in problem.assets:
        for rule in problem.rules:
            if rule.kind is asset.kind and rule.applies_to(asset.site_id):
                kept_due = kept.get((rule.id, asset.asset_id))
                found += occurrences(rule, asset, problem.horizon, kept_due)
    return found


def _thinned(days: list[date], max_days: int) -> list[date]:
    if len(days) <= max_days:
        return days
    step = (len(days) - 1) / (max_days - 1)
    return sorted({days[round(i * step)] for i in range(max_days)})


def _options(problem: Problem, occurrence: Occurrence, days: list[date],
             able: dict[tuple[date, Skill, str], list[int]], capacity: list[float]) -> list[Option]:
    rule, site = occurrence.rule, occurrence.asset.site_id
    day_cost = _waiting_cost if rule.is_condition else _early_cost
    options = []
    for day in days:
        qualified = [index for index in able.get((day, rule.skill, site), ()) if capacity[index] >= occurrence.hours]
        if qualified:
            cost = occurrence.planned_cost + day_cost(problem, occurrence, day)
            options += [Option(day, index, cost) for index in qualified]
    return options


def _early_cost(_problem: Problem, occurrence: Occurrence, day: date) -> float:
    """Interval work done early gives up that share of its interval (the next one comes sooner): the
    planned cost times days early over the interval. Grouping pays for it only when the visit saved is worth
    more; condition work has no interval (its price of waiting is the risk)."""
    if day >= occurrence.due:
        return 0.0
    return occurrence.planned_cost * (occurrence.due - day).days / interval_days(occurrence)


def interval_days(occurrence: Occurrence) -> float:
    """The rule's interval in days: its time trigger, or its usage trigger at the meter's rate."""
    for trigger in occurrence.rule.triggers:
        if trigger.kind is TriggerKind.TIME and trigger.every_days:
            return float(trigger.every_days)
        meter = occurrence.asset.meters.get(trigger.meter or "")
        if trigger.kind is TriggerKind.USAGE and trigger.every_usage and meter and meter.rate_per_day > 0:
            return trigger.every_usage / meter.rate_per_day
    return 365.0


def _waiting_cost(problem: Problem, occurrence: Occurrence, day: date) -> float:
    """The expected failure cost until ``day``: only work that restores the asset (condition rules) lowers it."""
    return expected_failure_cost(occurrence.asset, problem.costs, problem.horizon.offset(day))


def _skip_cost(problem: Problem, occurrence: Occurrence) -> float:
    if occurrence.rule.regulatory:
        return REGULATORY_MISS_COST
    if occurrence.rule.is_condition:
        return expected_failure_cost(occurrence.asset, problem.costs, problem.horizon.days)
    return problem.costs.policy_miss_cost


def _unplaced(problem: Problem, occurrence: Occurrence, days: list[date],
              by_day: dict[date, list[int]]) -> Unplaced:
    rule, site = occurrence.rule, occurrence.asset.site_id
    techs = [problem.technicians[i] for day in days for i in by_day.get(day, ())]
    if not days:
        reason = (f"no working day from {occurrence.earliest} to {occurrence.latest} has {occurrence.hours:g} h "
                  "outside the quiet hours")
    elif not any(rule.skill in tech.skills and site in tech.sites for tech in techs):
        reason = f"no technician with the {rule.skill.value} skill covers site {site} from {days[0]} to {days[-1]}"
    else:
        reason = f"no qualified technician has {occurrence.hours:g} h free from {days[0]} to {days[-1]}"
    return Unplaced(rule.id, occurrence.asset.asset_id, site, occurrence.due, rule.regulatory, reason)
