"""The planner never breaks a hard rule, groups work by site, weighs risk against cost, and says why."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings

from core.domain import AssetKind
from core.plans import PlanTask, PlanTaskStatus, SolveStatus
from people.model import Skill
from predictor.planning import solver
from predictor.planning.problem import AssetState, LastDone, Problem, TechnicianDay
from predictor.planning.solver import solve
from predictor.planning.triggers import occurrences
from tests.predictor.planning.fleet import (
    MONDAY,
    check_hard_rules,
    policy,
    problem,
    random_problems,
    realistic,
    roster,
)

PLUMBER = frozenset({Skill.PLUMBER})
ELEVATOR = frozenset({Skill.ELEVATOR})


def occurrence_count(p: Problem) -> int:
    decided = {t.key for t in p.pinned} | set(p.rejected)
    return sum(1 for a in p.assets for r in p.rules if r.kind is a.kind and r.applies_to(a.site_id)
               for o in occurrences(r, a, p.horizon) if o.key not in decided)


def check(p: Problem, use_mip: bool) -> None:
    solution = solve(p, time_limit_s=0.5, use_mip=use_mip)
    check_hard_rules(p, solution.tasks)
    # Nothing is silently dropped: each occurrence is planned, unplaced with a reason, or left by choice.
    assert len(solution.tasks) + len(solution.unplaced) + solution.stats["left_undone"] == occurrence_count(p)
    assert all(u.reason for u in solution.unplaced)
    assert all(t.status is PlanTaskStatus.PROPOSED and t.id is None for t in solution.tasks)
    if solution.stats["candidates"]:  # with nothing to place the plan is empty and optimal either way
        expected = (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE) if use_mip else (SolveStatus.FALLBACK,)
        assert solution.status in expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_problems())
def test_the_optimiser_never_breaks_a_hard_rule(p: Problem) -> None:
    check(p, use_mip=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_problems())
def test_the_neighbourhood_search_never_breaks_a_hard_rule(p: Problem) -> None:
    with patch.object(solver, "WHOLE_MODEL_MAX_OPTIONS", 0):  # as for a portfolio-sized plan
        check(p, use_mip=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_problems())
def test_the_fallback_never_breaks_a_hard_rule(p: Problem) -> None:
    check(p, use_mip=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_problems())
def test_regulatory_work_is_always_placed_when_a_technician_can_do_it(p: Problem) -> None:
    sites = frozenset(a.site_id for a in p.assets)
    generous = roster({"elevator-1": (ELEVATOR, sites), "elevator-2": (ELEVATOR, sites)}, p.horizon.start,
                      p.horizon.days, hours=8.0)
    elevators = tuple(a for a in p.assets if a.kind is AssetKind.ELEVATOR)
    # Every day a working day, so that each visit has a day it fits (a holiday on a due date may leave none).
    ample = Problem(p.horizon, elevators, p.rules, generous, p.costs, policy(weekend=True))
    for use_mip in (True, False):
        solution = solve(ample, time_limit_s=0.5, use_mip=use_mip)
        assert not [u for u in solution.unplaced if u.regulatory]
        check_hard_rules(ample, solution.tasks)


def pump(asset_id: str, site: str, last_done_days_ago: int, **fields: object) -> AssetState:
    return AssetState(asset_id, site, AssetKind.PUMP,  # type: ignore[arg-type]
                      last_done={"pump.service": LastDone(MONDAY - timedelta(days=last_done_days_ago))}, **fields)


@pytest.mark.parametrize("use_mip", [True, False])
def test_near_due_work_is_brought_forward_to_share_a_visit(use_mip: bool) -> None:
    # Pump 1 is due on Wednesday of week 2, pump 2 at the same site on Monday of week 2 (a week's lead time).
    assets = [pump("p1", "s1", 170, rul_p10_days=400, rul_p50_days=600, rul_p90_days=900),
              pump("p2", "s1", 173, rul_p10_days=400, rul_p50_days=600, rul_p90_days=900)]
    p = problem(assets, roster({"plumber": (PLUMBER, frozenset({"s1"}))}, MONDAY, 14))
    solution = solve(p, time_limit_s=2, use_mip=use_mip)
    assert len(solution.tasks) == 2
    assert solution.stats["visits"] == 1
    first, second = sorted(solution.tasks, key=lambda t: t.due_date)
    assert first.planned_date == second.planned_date
    assert "grouped with 1 task at the same site" in second.reasons
    assert any(r.startswith("brought forward") and r.endswith("days to share the visit") for r in second.reasons)


def test_a_condition_forecast_brings_work_forward_and_says_why() -> None:
    # Bearing P10 of 12 days: the optimiser replaces it in the first days rather than waiting for the due date.
    worn = pump("p1", "s1", 10, rul_p10_days=12, rul_p50_days=25, rul_p90_days=45, health=60)
    healthy = pump("p2", "s1", 10, rul_p10_days=500, rul_p50_days=800, rul_p90_days=1200)
    p = problem([worn, healthy], roster({"plumber": (PLUMBER, frozenset({"s1"}))}, MONDAY, 28))
    solution = solve(p, time_limit_s=2)
    assert solution.status is SolveStatus.OPTIMAL
    bearing = next(t for t in solution.tasks if t.rule_id == "pump.bearing_replacement")
    assert bearing.asset_id == "p1"
    assert bearing.planned_date == MONDAY
    assert bearing.due_date == MONDAY
    assert bearing.reasons[0] == "P10 of remaining life is 12 days"
    assert any(r.startswith("expected failure cost ") and r.endswith(" vs planned cost 600") for r in bearing.reasons)
    assert not [t for t in solution.tasks if t.asset_id == "p2" and t.rule_id == "pump.bearing_replacement"]


def test_elevator_tasks_name_the_item_set_and_the_regulatory_due_date() -> None:
    p = problem([AssetState("e1", "s1", AssetKind.ELEVATOR)],
                roster({"lift": (ELEVATOR, frozenset({"s1"}))}, MONDAY, 60), days=60)
    solution = solve(p, time_limit_s=2)
    assert solution.tasks
    assert not solution.unplaced
    for task in solution.tasks:
        set_name = task.task.split(": ")[1].removesuffix(" items")
        assert f"{set_name} elevator items due on {task.due_date}" in task.reasons
        assert f"regulatory minimum: done by {task.due_date}" in task.reasons
        assert task.planned_date <= task.due_date
        assert task.affects_residents


def test_pinned_tasks_keep_their_day_and_use_the_technicians_hours() -> None:
    assets = [pump("p1", "s1", 179)]  # due on Tuesday
    techs = (TechnicianDay("plumber", MONDAY, 2.0, PLUMBER, frozenset({"s1"})),
             TechnicianDay("plumber", MONDAY + timedelta(days=1), 8.0, PLUMBER, frozenset({"s1"})))
    pinned = PlanTask("other.rule", "p9", "s1", MONDAY, MONDAY, "plumber", "Accepted work", 1.5, 0, 0, (),
                      status=PlanTaskStatus.ACCEPTED)
    p = problem(assets, techs, days=2, pinned=(pinned,))
    for use_mip in (True, False):
        solution = solve(p, time_limit_s=1, use_mip=use_mip)
        service = next(t for t in solution.tasks if t.rule_id == "pump.service")
        assert service.planned_date == MONDAY + timedelta(days=1)  # Monday has 0.5 h left, service needs 2
        assert pinned.key not in {t.key for t in solution.tasks}


def test_work_no_technician_can_do_is_unplaced_with_the_reason() -> None:
    p = problem([AssetState("e1", "s1", AssetKind.ELEVATOR)],
                roster({"plumber": (PLUMBER, frozenset({"s1"}))}, MONDAY, 20), days=20)
    solution = solve(p, time_limit_s=1)
    assert not solution.tasks
    assert solution.unplaced
    assert all(u.regulatory for u in solution.unplaced)
    assert solution.unplaced[0].reason.startswith("no technician with the elevator skill covers site s1")
    assert solution.stats["regulatory_unplaced"] == len(solution.unplaced)


def test_an_empty_problem_is_an_empty_optimal_plan() -> None:
    solution = solve(problem([], ()), time_limit_s=1)
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.tasks == []
    assert solution.expected_cost == 0


@pytest.mark.parametrize("whole_model", [True, False])
def test_the_optimiser_never_costs_more_than_the_fallback(whole_model: bool) -> None:
    p = realistic(n_assets=80, n_techs=6, days=30, sites=6)
    with patch.object(solver, "WHOLE_MODEL_MAX_OPTIONS", 10**9 if whole_model else 0):
        optimised = solve(p, time_limit_s=1.5)
    greedy = solve(p, use_mip=False)
    check_hard_rules(p, optimised.tasks)
    assert optimised.status is not SolveStatus.FALLBACK
    assert optimised.expected_cost <= greedy.expected_cost + 1e-6


def test_a_pinned_visit_restarts_the_regulatory_gap() -> None:
    elevator = AssetState("e1", "s1", AssetKind.ELEVATOR)
    p = problem([elevator], (), days=45, site_policy=policy(weekend=True))
    first, second, third = (o.due for o in occurrences(p.rules[0], elevator, p.horizon))
    techs = tuple(TechnicianDay("lift", day, 8.0, ELEVATOR, frozenset({"s1"})) for day in (first, second, third))
    pinned = PlanTask("elevator.maintenance", "e1", "s1", second, second, "lift", "Elevator maintenance", 1.5, 0, 0,
                      (), status=PlanTaskStatus.MOVED)
    p = problem([elevator], techs, days=45, site_policy=policy(weekend=True), pinned=(pinned,))
    for use_mip in (True, False):
        solution = solve(p, time_limit_s=1, use_mip=use_mip)
        assert [t.planned_date for t in solution.tasks] == [first, third]  # not "third within 15 days of first"


def test_when_highs_fails_the_greedy_plan_is_used_and_the_status_says_so() -> None:
    p = realistic(n_assets=20, n_techs=4, days=20, sites=3)

    def broken() -> None:
        raise RuntimeError("solver crashed")

    with patch.object(solver, "new_highs", broken):
        solution = solve(p, time_limit_s=1)
    assert solution.status is SolveStatus.FALLBACK
    assert solution.tasks == solve(p, use_mip=False).tasks
    check_hard_rules(p, solution.tasks)
