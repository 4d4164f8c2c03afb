"""The planner's optimiser: HiGHS (highspy) on the MIP of mip.py, with a greedy start and fallback.

A plan of modest size goes to HiGHS whole, starting from the greedy plan (greedy.py), for half the time
limit; it usually ends there, proven optimal. A portfolio-sized model (hundreds of assets, tens of
thousands of columns) does not close its gap in seconds: there, and for the rest of the time otherwise,
HiGHS re-optimises one neighbourhood at a time (a site's tasks of a month, all tasks of a week;
neighbourhoods.py) with every other task held where the best plan so far has it, keeping each
improvement. The result is never worse than the greedy plan. If HiGHS errors or never returns a
solution, the greedy plan is used and the status says ``fallback``. OR-Tools CP-SAT is not used: it pins
protobuf below 6.34 and the Sparkplug code needs protobuf 7.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from core.plans import SolveStatus
from predictor.planning.candidates import MAX_DAYS_PER_TASK, Candidates, build_candidates
from predictor.planning.explain import outcome
from predictor.planning.greedy import Assignment, greedy_plan
from predictor.planning.mip import Model, as_lp, assignment, build_model, new_highs, start_vector
from predictor.planning.neighbourhoods import merge, neighbourhoods, restrict
from predictor.planning.problem import Problem, Solution

WHOLE_MODEL_MAX_OPTIONS = 6_000  # (task, day, technician) pairs up to which HiGHS gets the whole model first
WHOLE_MODEL_SHARE = 0.5
MIN_NEIGHBOURHOOD_S = 0.1


def solve(problem: Problem, time_limit_s: float = 5.0, *, use_mip: bool = True,
          max_days_per_task: int = MAX_DAYS_PER_TASK) -> Solution:
    """The cheapest plan HiGHS finds within ``time_limit_s``; the greedy plan if it finds none (or with
    ``use_mip=False``, which the tests use to check the fallback on its own)."""
    started = time.perf_counter()
    candidates = build_candidates(problem, max_days_per_task)
    chosen = greedy_plan(problem, candidates)
    status, stats = SolveStatus.FALLBACK, dict[str, float]()
    if not candidates.tasks:
        status = SolveStatus.OPTIMAL  # nothing to place
    elif use_mip:
        status, found, stats = _optimise(problem, candidates, chosen, started + time_limit_s)
        if status is not SolveStatus.FALLBACK and _respects_capacity(problem, candidates, found):
            chosen = found
        else:
            status = SolveStatus.FALLBACK
    result = outcome(problem, candidates, chosen)
    stats = {**result.stats, **stats, "options": float(sum(len(t.options) for t in candidates.tasks)),
             "solve_s": round(time.perf_counter() - started, 3)}
    return Solution(status, result.tasks, round(result.expected_cost, 2), stats, result.unplaced)


def _optimise(problem: Problem, candidates: Candidates, chosen: Assignment,
              deadline: float) -> tuple[SolveStatus, Assignment, dict[str, float]]:
    stats: dict[str, float] = {}
    solved = False
    if sum(len(task.options) for task in candidates.tasks) <= WHOLE_MODEL_MAX_OPTIONS:
        model = build_model(problem, candidates)
        stats = {"variables": float(model.columns), "constraints": float(model.rows)}
        found = _run(model, chosen, WHOLE_MODEL_SHARE * (deadline - time.perf_counter()))
        if found is not None:
            chosen, optimal = found
            if optimal:
                return SolveStatus.OPTIMAL, chosen, stats
            solved = True
    chosen, runs, improvements = _search(problem, candidates, chosen, deadline)
    stats |= {"neighbourhood_runs": float(runs), "improvements": float(improvements)}
    return (SolveStatus.FEASIBLE if solved or runs else SolveStatus.FALLBACK), chosen, stats


def _search(problem: Problem, candidates: Candidates, chosen: Assignment,
            deadline: float) -> tuple[Assignment, int, int]:
    """Neighbourhood after neighbourhood until the time is up or a whole round improves nothing."""
    hoods = neighbourhoods(problem, candidates)
    runs = improvements = 0
    while hoods:
        improved = False
        for index, free in enumerate(hoods):
            remaining = deadline - time.perf_counter()
            if remaining < MIN_NEIGHBOURHOOD_S:
                return chosen, runs, improvements
            restricted = restrict(problem, candidates, chosen, free)
            model = build_model(problem, restricted.candidates)
            found = _run(model, restricted.start, max(remaining / (len(hoods) - index), MIN_NEIGHBOURHOOD_S))
            if found is None:
                continue
            runs += 1
            before = _cost(model, restricted.start)
            if _cost(model, found[0]) < before - 1e-6:
                chosen, improved, improvements = merge(chosen, restricted, found[0]), True, improvements + 1
        if not improved:
            break
    return chosen, runs, improvements


def _cost(model: Model, chosen: Assignment) -> float:
    return float(np.dot(model.cost, start_vector(model, chosen).col_value))


def _run(model: Model, start: Assignment, limit_s: float) -> tuple[Assignment, bool] | None:
    """HiGHS on ``model`` from ``start``: the plan and whether it is proven optimal; None when HiGHS errors
    or ends without a solution."""
    try:
        highs = new_highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("mip_rel_gap", 1e-4)
        highs.setOptionValue("time_limit", max(limit_s, MIN_NEIGHBOURHOOD_S))
        highs.passModel(as_lp(model))
        highs.setSolution(start_vector(model, start))
        highs.run()
        if highs.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
            return None
        optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
        return assignment(model, list(highs.getSolution().col_value), len(model.offsets) - 1), optimal
    except Exception:  # any solver failure means the fallback plan, never no plan
        return None


def _respects_capacity(problem: Problem, candidates: Candidates, chosen: Assignment) -> bool:
    """A last check of the solver's answer: no technician-day over its hours."""
    used = [0.0] * len(problem.technicians)
    for task, k in zip(candidates.tasks, chosen, strict=True):
        if k is not None:
            used[task.options[k].tech] += task.occurrence.hours
    return all(used[i] <= candidates.capacity[i] + 1e-6 for i in range(len(used)))
