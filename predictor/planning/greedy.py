"""The planner's fallback: a feasible plan without an optimiser, for when HiGHS finds nothing in time.

Regulatory work first, then by latest allowed day (earliest due first); each task takes the cheapest of
its (day, technician) pairs that still has the hours, where a pair at a site the technician visits that
day anyway saves the visit cost (same-site grouping). Work that is not regulatory is left undone when doing
it costs more than leaving it. It never exceeds a technician's hours: every pair it takes has them.
"""

from __future__ import annotations

from datetime import date, timedelta

from predictor.planning.candidates import Candidate, Candidates, Visit
from predictor.planning.problem import Problem

Assignment = list[int | None]  # per candidate: the index of the chosen option, None when not done


def greedy_plan(problem: Problem, candidates: Candidates) -> Assignment:
    capacity = list(candidates.capacity)
    visits: set[Visit] = set(candidates.pinned_visits)
    chosen: Assignment = [None] * len(candidates.tasks)
    order = sorted(range(len(candidates.tasks)), key=lambda i: _urgency(candidates.tasks[i]))
    for i in order:
        task = candidates.tasks[i]
        pick = _cheapest(problem, task, capacity, visits, _limit(candidates, chosen, i))
        if pick is None:
            continue
        k, cost = pick
        if not task.occurrence.rule.regulatory and cost >= task.skip_cost:
            continue
        option = task.options[k]
        chosen[i] = k
        capacity[option.tech] -= task.occurrence.hours
        visits.add(_visit(problem, task, k))
    return chosen


def _limit(candidates: Candidates, chosen: Assignment, i: int) -> date | None:
    """The last day a regulatory task may take: its gap after the previous visit (placed first: it is due
    earlier)."""
    task = candidates.tasks[i]
    previous = task.previous
    if previous is None or task.occurrence.max_gap_days is None:
        return None
    k = chosen[previous]
    if k is None:
        return None
    return candidates.tasks[previous].options[k].day + timedelta(days=task.occurrence.max_gap_days)


def _urgency(task: Candidate) -> tuple[bool, object, object]:
    return not task.occurrence.rule.regulatory, task.occurrence.latest, task.occurrence.due


def _cheapest(problem: Problem, task: Candidate, capacity: list[float], visits: set[Visit],
              limit: date | None) -> tuple[int, float] | None:
    best: tuple[int, float] | None = None
    for k, option in enumerate(task.options):
        if capacity[option.tech] < task.occurrence.hours or (limit is not None and option.day > limit):
            continue
        cost = option.cost + (0.0 if _visit(problem, task, k) in visits else problem.costs.visit_cost)
        # At equal cost regulatory work takes the later day: an early visit moves the next one forward too.
        later = task.occurrence.rule.regulatory and best is not None and cost == best[1]
        if best is None or cost < best[1] or later:
            best = k, cost
    return best


def _visit(problem: Problem, task: Candidate, k: int) -> Visit:
    option = task.options[k]
    return problem.technicians[option.tech].user_id, task.site_id, option.day
