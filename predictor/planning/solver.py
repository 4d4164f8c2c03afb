"""The planner's optimiser: HiGHS (highspy) on the MIP of mip.py, with a greedy start and fallback.

HiGHS first gets the whole model, starting from the greedy plan (greedy.py), for a share of the time
limit; small and medium plans end there, proven optimal. A portfolio-sized model (hundreds of assets,
tens of thousands of columns) does not close its gap in seconds, so the rest of the time goes to a large
neighbourhood search: HiGHS re-optimises the tasks of a few weeks at a time with every other task held
where the best plan so far has it, sliding over the horizon, keeping each improvement. The result is
never worse than the greedy plan. If HiGHS errors or ends without a solution, the greedy plan is used and
the status says ``fallback``. OR-Tools CP-SAT is not used: it pins protobuf below 6.34 and the Sparkplug
code needs protobuf 7.
"""

from __future__ import annotations

import time
from datetime import timedelta

import highspy
import numpy as np

from core.plans import SolveStatus
from predictor.planning.candidates import MAX_DAYS_PER_TASK, Candidates, build_candidates
from predictor.planning.explain import outcome
from predictor.planning.greedy import Assignment, greedy_plan
from predictor.planning.mip import Model, as_lp, assignment, build_model, new_highs, start_vector
from predictor.planning.problem import Problem, Solution

WHOLE_MODEL_SHARE = 0.3  # of the time limit, for HiGHS on the whole model before the neighbourhoods
NEIGHBOURHOOD_DAYS = 14


def solve(problem: Problem, time_limit_s: float = 5.0, *, use_mip: bool = True,
          max_days_per_task: int = MAX_DAYS_PER_TASK) -> Solution:
    """The cheapest plan HiGHS finds within ``time_limit_s``; the greedy plan if it finds none (or with
    ``use_mip=False``, which the tests use to check the fallback on its own)."""
    started = time.perf_counter()
    candidates = build_candidates(problem, max_days_per_task)
    chosen = greedy_plan(problem, candidates)
    status, model = SolveStatus.FALLBACK, Model()
    if not candidates.tasks:
        status = SolveStatus.OPTIMAL  # nothing to place
    elif use_mip:
        model = build_model(problem, candidates)
        found = _optimise(problem, candidates, model, chosen, started + time_limit_s)
        if found is not None and _respects_capacity(problem, candidates, found[1]):
            status, chosen = found
    result = outcome(problem, candidates, chosen)
    stats = {**result.stats, "variables": float(model.columns), "constraints": float(model.rows),
             "solve_s": round(time.perf_counter() - started, 3)}
    return Solution(status, result.tasks, round(result.expected_cost, 2), stats, result.unplaced)


def _optimise(problem: Problem, candidates: Candidates, model: Model, start: Assignment,
              deadline: float) -> tuple[SolveStatus, Assignment] | None:
    """HiGHS on the whole model, then on sliding neighbourhoods; None when it errors or finds nothing."""
    try:
        highs = new_highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("mip_rel_gap", 1e-4)
        highs.passModel(as_lp(model))
        values = np.array(start_vector(model, start).col_value)
        whole = WHOLE_MODEL_SHARE * (deadline - time.perf_counter())
        found = _run(highs, values, whole)
        if found is None:
            return None
        values, optimal = found
        if not optimal:
            values = _neighbourhoods(problem, candidates, model, highs, values, deadline)
    except Exception:  # any solver failure means the fallback plan, never no plan
        return None
    status = SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE
    return status, assignment(model, values.tolist(), len(candidates.tasks))


def _run(highs: highspy.Highs, values: np.ndarray, limit_s: float) -> tuple[np.ndarray, bool] | None:
    """One HiGHS run from ``values``; its solution and whether it is proven optimal."""
    highs.setOptionValue("time_limit", max(limit_s, 0.05))
    solution = highspy.HighsSolution()
    solution.col_value = values.tolist()
    solution.value_valid = True
    highs.setSolution(solution)
    highs.run()
    if highs.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return np.array(highs.getSolution().col_value), optimal


def _neighbourhoods(problem: Problem, candidates: Candidates, model: Model, highs: highspy.Highs,
                    values: np.ndarray, deadline: float) -> np.ndarray:
    """Re-optimise the tasks of NEIGHBOURHOOD_DAYS at a time (sliding by half), the others held fixed."""
    windows = [problem.horizon.start + timedelta(days=d)
               for d in range(0, problem.horizon.days, NEIGHBOURHOOD_DAYS // 2)]
    best = float(np.dot(model.cost, values))
    index = 0
    while time.perf_counter() < deadline - 0.05 and windows:
        since = windows[index % len(windows)]
        until = since + timedelta(days=NEIGHBOURHOOD_DAYS)
        free = {t for t, task in enumerate(candidates.tasks) if any(since <= o.day < until for o in task.options)}
        remaining = deadline - time.perf_counter()
        found = _run_fixed(highs, model, values, free, len(candidates.tasks),
                           min(remaining, max(remaining / max(len(windows) - index, 1), 0.2)))
        if found is not None and float(np.dot(model.cost, found)) < best - 1e-6:
            values, best = found, float(np.dot(model.cost, found))
        index += 1
        if index >= 2 * len(windows):
            break
    return values


def _run_fixed(highs: highspy.Highs, model: Model, values: np.ndarray, free: set[int], tasks: int,
               limit_s: float) -> np.ndarray | None:
    """HiGHS with the x and s columns of every task outside ``free`` held at ``values``."""
    fixed = [c for t in range(tasks) if t not in free
             for c in (*range(model.offsets[t], model.offsets[t + 1]), model.skip0 + t)]
    if not fixed:
        return None
    columns = np.array(fixed, dtype=np.int32)
    highs.changeColsBounds(len(fixed), columns, values[columns], values[columns])
    try:
        found = _run(highs, values, limit_s)
    finally:
        highs.changeColsBounds(len(fixed), columns, np.zeros(len(fixed)), np.ones(len(fixed)))
    return None if found is None else found[0]


def _respects_capacity(problem: Problem, candidates: Candidates, chosen: Assignment) -> bool:
    """A last check of the solver's answer: no technician-day over its hours."""
    used = [0.0] * len(problem.technicians)
    for task, k in zip(candidates.tasks, chosen, strict=True):
        if k is not None:
            used[task.options[k].tech] += task.occurrence.hours
    return all(used[i] <= candidates.capacity[i] + 1e-6 for i in range(len(used)))
