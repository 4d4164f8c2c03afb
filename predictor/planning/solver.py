"""The planner's optimiser: a HiGHS MIP over (task, day, technician) with a greedy fallback."""

from __future__ import annotations

from predictor.planning.problem import Problem, Solution


def solve(problem: Problem, time_limit_s: float = 5.0) -> Solution:
    """The cheapest plan HiGHS finds within ``time_limit_s``; the greedy plan if it finds none."""
    raise NotImplementedError("solver: in progress on wt-solver")
