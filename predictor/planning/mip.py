"""The planner's mixed-integer model, as HiGHS reads it: columns, sparse rows, a start from a plan.

Columns: ``x[t, o]`` = 1 when task ``t`` takes its option ``o`` (a day and a technician; the candidates hold
only allowed pairs, so windows, holidays, skills and site coverage hold by construction); ``s[t]`` = 1 when
it is left undone; ``y[v]`` = 1 when visit ``v`` = (technician, site, day) is made.
Rows: each task once (``sum_o x + s = 1``); a technician-day's hours (after the pinned tasks) never
exceeded; a visit is made when any of its tasks is (``x[t, o] <= y[v]``, one row per pair: tight, and
the small models of the neighbourhood search solve fast with it); a regulatory series keeps its gap
(``day(t) <= day(previous) + gap``, time-indexed, unless ``t`` is left undone).
Objective: planned costs (with the early share of interval work), the expected failure cost of the
chosen day, the price of leaving work undone (prohibitive for regulatory work) and the visit cost per
visit: the visit cost is what groups tasks at a site and brings near-due work forward while a technician
is there.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import timedelta

import highspy
import numpy as np

from predictor.planning.candidates import Candidates, Visit
from predictor.planning.greedy import Assignment
from predictor.planning.problem import Problem


@dataclass
class Model:
    """The model as rows of a sparse matrix; columns are x (per option), then s (per task), then y."""

    cost: list[float] = field(default_factory=list)
    x_of: list[tuple[int, int]] = field(default_factory=list)  # column -> (task, option)
    links: list[tuple[int, int]] = field(default_factory=list)  # (x column, the y column of its visit)
    offsets: list[int] = field(default_factory=lambda: [0])  # task t's x columns: offsets[t] .. offsets[t + 1]
    skip0: int = 0  # task t's s column: skip0 + t
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
        entries = [(column, coefficient) for column, coefficient in entries if coefficient]
        self.starts.append(len(self.index))
        self.index += [column for column, _ in entries]
        self.value += [coefficient for _, coefficient in entries]
        self.row_lower.append(lower)
        self.row_upper.append(upper)


def build_model(problem: Problem, candidates: Candidates) -> Model:
    model = Model()
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
    skip0 = model.skip0 = model.columns
    model.cost += [task.skip_cost for task in candidates.tasks]
    offsets = model.offsets
    for task in candidates.tasks:
        offsets.append(offsets[-1] + len(task.options))
    for t in range(len(candidates.tasks)):
        model.row([(c, 1.0) for c in range(offsets[t], offsets[t + 1])] + [(skip0 + t, 1.0)], 1.0, 1.0)
    _gap_rows(candidates, model, offsets, skip0)
    for tech, entries in per_tech.items():
        model.row(entries, -highspy.kHighsInf, candidates.capacity[tech])
    for columns in per_visit.values():
        y = model.columns
        model.cost.append(problem.costs.visit_cost)
        for column in columns:
            model.row([(column, 1.0), (y, -1.0)], -highspy.kHighsInf, 0.0)
            model.links.append((column, y))
    return model


def _gap_rows(candidates: Candidates, model: Model, offsets: list[int], skip0: int) -> None:
    """day(t) <= day(previous) + gap for a regulatory series, in the time-indexed form (tight, no big M):
    for each day D of the previous, "done by D" implies "done by D + gap" for t, unless t is left undone."""
    for t, task in enumerate(candidates.tasks):
        p, gap = task.previous, task.occurrence.max_gap_days
        if p is None or gap is None:
            continue
        before = candidates.tasks[p].options
        for day in sorted({option.day for option in before}):
            limit = day + timedelta(days=gap)
            if all(option.day <= limit for option in task.options):
                continue  # always holds
            done_by = [(offsets[p] + o, 1.0) for o, option in enumerate(before) if option.day <= day]
            then = [(offsets[t] + o, -1.0) for o, option in enumerate(task.options) if option.day <= limit]
            model.row([*done_by, *then, (skip0 + t, -1.0)], -highspy.kHighsInf, 0.0)


_banner_shown = False


def new_highs() -> highspy.Highs:
    """A HiGHS instance. Its first construction in a process prints a banner on the C stdout, before any
    option can turn output off: that one is sent to /dev/null so `facmon bench` keeps stdout pure JSON."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()  # type: ignore[no-untyped-call]
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highs = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        _banner_shown = True
    return highs


def as_lp(model: Model) -> highspy.HighsLp:
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


def start_vector(model: Model, start: Assignment) -> highspy.HighsSolution:
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


def assignment(model: Model, values: list[float], tasks: int) -> Assignment:
    """The option each task takes in a solution's column values (None: left undone)."""
    chosen: Assignment = [None] * tasks
    for column, (t, o) in enumerate(model.x_of):
        if values[column] > 0.5:
            chosen[t] = o
    return chosen
