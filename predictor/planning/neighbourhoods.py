"""Large-neighbourhood search for big plans: re-optimise a few tasks with everything else held in place.

A neighbourhood is a set of tasks (those of one site, where grouping pays; those of two weeks, where
technicians trade days). ``restrict`` turns it into a small problem of its own: the other tasks keep their
day and technician, so they take their hours off the technicians and the visits they make are free; a
regulatory visit next to a held one keeps its gap to it. HiGHS solves that small model quickly, where the
whole model of a portfolio does not close its gap in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from predictor.planning.candidates import Candidates, Option, Visit
from predictor.planning.greedy import Assignment
from predictor.planning.problem import Problem

SITE_BLOCK_DAYS = 30
WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class Restricted:
    candidates: Candidates  # the free tasks only
    tasks: tuple[int, ...]  # sub task -> task of the whole
    options: tuple[tuple[int, ...], ...]  # sub task, sub option -> option of the whole
    start: Assignment  # the current plan of the free tasks, in sub options


def neighbourhoods(problem: Problem, candidates: Candidates) -> list[list[int]]:
    """The tasks of each site in SITE_BLOCK_DAYS blocks (sliding by half: where grouping pays), then those
    of every site in WINDOW_DAYS (sliding by half: where technicians trade days)."""
    hoods = []
    sites = sorted({task.site_id for task in candidates.tasks})
    for days, per_site in ((SITE_BLOCK_DAYS, True), (WINDOW_DAYS, False)):
        for offset in range(0, problem.horizon.days, days // 2):
            since = problem.horizon.day(offset)
            until = since + timedelta(days=days)
            near = [t for t, task in enumerate(candidates.tasks)
                    if any(since <= option.day < until for option in task.options)]
            if per_site:
                hoods += [[t for t in near if candidates.tasks[t].site_id == site] for site in sites]
            else:
                hoods.append(near)
    return [hood for hood in hoods if hood]


def restrict(problem: Problem, candidates: Candidates, chosen: Assignment, free: Sequence[int]) -> Restricted:
    free_set = set(free)
    capacity = list(candidates.capacity)
    visits: set[Visit] = set(candidates.pinned_visits)
    held: dict[int, Option] = {}
    for t, k in enumerate(chosen):
        if t not in free_set and k is not None:
            option = held[t] = candidates.tasks[t].options[k]
            capacity[option.tech] -= candidates.tasks[t].occurrence.hours
            visits.add((problem.technicians[option.tech].user_id, candidates.tasks[t].site_id, option.day))
    following = {task.previous: t for t, task in enumerate(candidates.tasks) if task.previous is not None}
    index = {t: i for i, t in enumerate(sorted(free_set))}
    tasks, options, start = [], [], []
    for t in sorted(free_set):
        task = candidates.tasks[t]
        kept = tuple(k for k, option in enumerate(task.options) if _keeps_gaps(candidates, t, option, held,
                                                                               following.get(t)))
        previous = index.get(task.previous) if task.previous is not None else None
        tasks.append(replace(task, options=tuple(task.options[k] for k in kept), previous=previous))
        options.append(kept)
        k = chosen[t]
        start.append(kept.index(k) if k is not None and k in kept else None)
    sub = Candidates(tuple(tasks), tuple(capacity), frozenset(visits), ())
    return Restricted(sub, tuple(sorted(free_set)), tuple(options), start)


def _keeps_gaps(candidates: Candidates, t: int, option: Option, held: dict[int, Option],
                following: int | None) -> bool:
    """Whether ``option`` keeps the regulatory gap to a held previous and a held next visit."""
    task = candidates.tasks[t]
    before = held.get(task.previous) if task.previous is not None else None
    if before is not None and option.day > before.day + timedelta(days=task.occurrence.max_gap_days or 0):
        return False
    if following is not None and following in held:
        after = candidates.tasks[following]
        if held[following].day > option.day + timedelta(days=after.occurrence.max_gap_days or 0):
            return False
    return True


def merge(chosen: Assignment, restricted: Restricted, sub_chosen: Assignment) -> Assignment:
    """The whole plan with the free tasks as the small problem's answer has them."""
    merged = list(chosen)
    for i, t in enumerate(restricted.tasks):
        k = sub_chosen[i]
        merged[t] = None if k is None else restricted.options[i][k]
    return merged
