"""From the chosen (day, technician) per candidate to the plan's tasks, each with the reasons a planner reads.

A reason is one sentence of fact: why the task is due ("P10 of remaining life is 12 days", "quarterly
elevator items due on 2027-01-15"), what it weighs ("expected failure cost 3,400 vs planned cost 600"), and
how the plan placed it ("grouped with 2 tasks at the same site", "brought forward 4 days to share the
visit"). The plan's expected cost is computed here, the same way for the optimiser's and the fallback's plan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from core.plans import PlanTask
from predictor.planning.candidates import Candidate, Candidates, Visit
from predictor.planning.costs import expected_failure_cost
from predictor.planning.greedy import Assignment
from predictor.planning.problem import Problem, Unplaced


@dataclass(frozen=True, slots=True)
class Outcome:
    tasks: list[PlanTask]
    expected_cost: float
    unplaced: tuple[Unplaced, ...]  # regulatory work the plan could not fit (the others were left by choice)
    stats: dict[str, float]


def outcome(problem: Problem, candidates: Candidates, chosen: Assignment) -> Outcome:
    placed = {i: _visit(problem, candidates.tasks[i], k) for i, k in enumerate(chosen) if k is not None}
    groups: dict[Visit, list[int]] = defaultdict(list)
    for i, visit in placed.items():
        groups[visit].append(i)
    pinned = Counter((t.technician_id, t.site_id, t.planned_date) for t in problem.pinned)
    tasks = [_task(problem, candidates.tasks[i], k, len(groups[placed[i]]) - 1 + pinned[placed[i]])
             for i, k in enumerate(chosen) if k is not None]
    new_visits = [visit for visit in groups if visit not in candidates.pinned_visits]
    skipped = [task for task, k in zip(candidates.tasks, chosen, strict=True) if k is None]
    missed = tuple(_missed(task) for task in skipped if task.occurrence.rule.regulatory)
    cost = (sum(task.options[k].cost for task, k in zip(candidates.tasks, chosen, strict=True) if k is not None)
            + sum(task.skip_cost for task in skipped if not task.occurrence.rule.regulatory)
            + problem.costs.visit_cost * len(new_visits))
    stats = {"candidates": float(len(candidates.tasks)), "tasks": float(len(tasks)),
             "visits": float(len(new_visits)), "left_undone": float(len(skipped) - len(missed)),
             "regulatory_unplaced": float(len(missed) + sum(u.regulatory for u in candidates.unplaced)),
             "hours": sum((t.hours for t in tasks), 0.0)}
    tasks.sort(key=lambda t: (t.planned_date, t.technician_id or "", t.site_id, t.asset_id, t.rule_id))
    return Outcome(tasks, cost, (*candidates.unplaced, *missed), stats)


def _visit(problem: Problem, task: Candidate, k: int) -> Visit:
    option = task.options[k]
    return problem.technicians[option.tech].user_id, task.site_id, option.day


def _task(problem: Problem, candidate: Candidate, k: int, grouped_with: int) -> PlanTask:
    occurrence, option = candidate.occurrence, candidate.options[k]
    rule, asset = occurrence.rule, occurrence.asset
    reasons = list(occurrence.facts)
    if rule.regulatory:
        reasons.append(f"regulatory minimum: done by {occurrence.due}")
    if rule.is_condition:
        reasons.append(f"expected failure cost {candidate.skip_cost:,.0f} "
                       f"vs planned cost {occurrence.planned_cost:,.0f}")
    if grouped_with:
        reasons.append(f"grouped with {grouped_with} task{'s' if grouped_with > 1 else ''} at the same site")
    early = (min(occurrence.due, occurrence.latest) - option.day).days
    if early > 0:
        days = f"{early} day{'s' if early > 1 else ''}"
        reasons.append(f"brought forward {days} to share the visit" if grouped_with
                       else f"planned {days} before its due date")
    failure_cost = expected_failure_cost(asset, problem.costs, problem.horizon.offset(option.day))
    return PlanTask(rule_id=rule.id, asset_id=asset.asset_id, site_id=asset.site_id, due_date=occurrence.due,
                    planned_date=option.day, technician_id=problem.technicians[option.tech].user_id,
                    task=occurrence.task, hours=occurrence.hours, planned_cost=occurrence.planned_cost,
                    expected_failure_cost=round(failure_cost, 2), reasons=tuple(reasons),
                    affects_residents=rule.affects_residents)


def _missed(candidate: Candidate) -> Unplaced:
    occurrence = candidate.occurrence
    return Unplaced(occurrence.rule.id, occurrence.asset.asset_id, occurrence.asset.site_id, occurrence.due, True,
                    f"the qualified technicians' hours from {occurrence.earliest} to {occurrence.latest} are taken "
                    "by other regulatory work")
