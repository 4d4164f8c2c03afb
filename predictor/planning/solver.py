"""The planner's optimiser: a mixed-integer model over (task, day, technician), solved by HiGHS (highspy).

Variables: ``x[t, o]`` = 1 when task ``t`` takes its option ``o`` (a day and a technician; the candidates
hold only allowed pairs, so windows, holidays, skills and site coverage hold by construction); ``s[t]`` = 1
when it is left undone; ``y[v]`` = 1 when visit ``v`` = (technician, site, day) is made.
Constraints: each task once (``sum_o x + s = 1``); a technician-day's hours (after the pinned tasks) never
exceeded; ``x[t, o] <= y[v(o)]``. Objective: planned costs, expected failure cost of the chosen day,
the price of leaving work undone (prohibitive for regulatory work) and the visit cost per visit, which is
what groups tasks at a site and brings near-due work forward while a technician is there.

HiGHS starts from the greedy plan (greedy.py), so within any time limit it returns at least that plan. If it
errors or ends without a solution, the greedy plan is used and the status says ``fallback``. OR-Tools
CP-SAT is not used: it pins protobuf below 6.34 and the Sparkplug code needs protobuf 7.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from core.plans import SolveStatus
from predictor.planning.candidates import MAX_DAYS_PER_TASK, Candidates, Visit, build_candidates
from predictor.planning.explain import outcome
from predictor.planning.greedy import Assignment, greedy_plan
from predictor.planning.problem import Problem, Solution


def solve(problem: Problem, time_limit_s: float = 5.0, *, use_mip: bool = True,
          max_days_per_task: int = MAX_DAYS_PER_TASK) -> Solution:
    """The cheapest plan HiGHS finds within ``time_limit_s``; the greedy plan if it finds none (or with
    ``use_mip=False``, which the tests use to check the fallback on its own)."""
    started = time.perf_counter()
    candidates = build_candidates(problem, max_days_per_task)
    fallback = greedy_plan(problem, candidates)
    status, chosen, size = SolveStatus.FALLBACK, fallback, _Model()
    if use_mip and candidates.tasks:
        size = _build(problem, candidates)
        found = _run(size, candidates, fallback, time_limit_s)
        if found is not None and _respects_capacity(problem, candidates, found[1]):
            status, chosen = found
    elif not candidates.tasks:
        status = SolveStatus.OPTIMAL  # nothing to place
    result = outcome(problem, candidates, chosen)
    stats = {**result.stats, "variables": float(size.columns), "constraints": float(size.rows),
             "solve_s": round(time.perf_counter() - started, 3)}
    return Solution(status, result.tasks, round(result.expected_cost, 2), stats, result.unplaced)


@dataclass
class _Model:
    """The model as rows of a sparse matrix; columns are x (per option), then s (per task), then y."""

    cost: list[float] = field(default_factory=list)
    x_of: list[tuple[int, int]] = field(default_factory=list)  # column -> (task, option)
    links: list[tuple[int, int]] = field(default_factory=list)  # (x column, the y column of its visit)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    @property
    def columns(self) -> int:
        return len(self.cost)

    @property
    def rows(self) -> int:
        return len(self.row_lower)

    def row(self, entries: list[tuple[int, float]], lower: float, upper: float) -> None:
        self.starts.append(len(self.index))
        self.index += [column for column, _ in entries]
        self.value += [coefficient for _, coefficient in entries]
        self.row_lower.append(lower)
        self.row_upper.append(upper)


def _build(problem: Problem, candidates: Candidates) -> _Model:
    model = _Model()
    per_tech: dict[int, list[tuple[int, float]]] = {}
    per_visit: dict[Visit, list[int]] = {}
    for t, task in enumerate(candidates.tasks):
        for o, option in enumerate(task.options):
            column = model.columns
            model.cost.append(option.cost)
            model.x_of.append((t, o))
            per_tech.setdefault(option.tech, []).append((column, task.occurrence.hours))
            visit = (problem.technicians[option.tech].user_id, task.site_id, option.day)
            if visit not in candidates.pinned_visits:  # a pinned task makes that visit anyway: no cost
                per_visit.setdefault(visit, []).append(column)
    skip0 = model.columns
    model.cost += [task.skip_cost for task in candidates.tasks]
    offsets = [0]
    for task in candidates.tasks:
        offsets.append(offsets[-1] + len(task.options))
    for t in range(len(candidates.tasks)):
        model.row([(c, 1.0) for c in range(offsets[t], offsets[t + 1])] + [(skip0 + t, 1.0)], 1.0, 1.0)
    for tech, entries in per_tech.items():
        model.row(entries, -highspy.kHighsInf, candidates.capacity[tech])
    for columns in per_visit.values():
        y = model.columns
        model.cost.append(problem.costs.visit_cost)
        for column in columns:
            model.row([(column, 1.0), (y, -1.0)], -highspy.kHighsInf, 0.0)
            model.links.append((column, y))
    return model


def _run(model: _Model, candidates: Candidates, start: Assignment,
         time_limit_s: float) -> tuple[SolveStatus, Assignment] | None:
    """HiGHS on the model from the greedy start; None when it errors or has no solution."""
    try:
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("time_limit", float(time_limit_s))
        highs.setOptionValue("mip_rel_gap", 1e-4)
        highs.passModel(_lp(model))
        highs.setSolution(_start_vector(model, start))
        highs.run()
        if highs.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
            return None
        values = highs.getSolution().col_value
        optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    except Exception:  # any solver failure means the fallback plan, never no plan
        return None
    chosen: Assignment = [None] * len(candidates.tasks)
    for column, (t, o) in enumerate(model.x_of):
        if values[column] > 0.5:
            chosen[t] = o
    return (SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE), chosen


def _lp(model: _Model) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.columns, model.rows
    lp.col_cost_ = np.array(model.cost)
    lp.col_lower_ = np.zeros(model.columns)
    lp.col_upper_ = np.ones(model.columns)
    lp.row_lower_, lp.row_upper_ = np.array(model.row_lower), np.array(model.row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array([*model.starts, len(model.index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(model.index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(model.value)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * model.columns
    return lp


def _start_vector(model: _Model, start: Assignment) -> highspy.HighsSolution:
    values = np.zeros(model.columns)
    chosen_columns = [c for c, (t, o) in enumerate(model.x_of) if start[t] == o]
    values[chosen_columns] = 1.0
    skip0 = len(model.x_of)
    for t, option in enumerate(start):
        values[skip0 + t] = 1.0 if option is None else 0.0
    for x, y in model.links:  # a visit is made when any task of it is
        if values[x] > 0.5:
            values[y] = 1.0
    solution = highspy.HighsSolution()
    solution.col_value = values.tolist()
    solution.value_valid = True
    return solution


def _respects_capacity(problem: Problem, candidates: Candidates, chosen: Assignment) -> bool:
    """A last check of the solver's answer: every task at most once, no technician-day over its hours."""
    used = [0.0] * len(problem.technicians)
    for task, k in zip(candidates.tasks, chosen, strict=True):
        if k is not None:
            used[task.options[k].tech] += task.occurrence.hours
    return all(used[i] <= candidates.capacity[i] + 1e-6 for i in range(len(used)))
