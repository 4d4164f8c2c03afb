"""Emergency plans: the packaged file, overrides, the errors naming the key, and the after-action record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import (
    Alarm,
    AlarmState,
    Severity,
    WorkOrder,
    WorkOrderAction,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from core.errors import ConfigError
from rules.pack import default_rules
from storage.records.emergency import EmergencyRun, EmergencyStep
from workorders.after_action import after_action, late_steps
from workorders.emergency import Role, configured_plans, default_plans, parse_plans

T0 = datetime(2026, 7, 14, 21, 30, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_default_plans_cover_the_four_emergencies_of_the_default_rule_pack() -> None:
    plans = default_plans()
    rule_ids = {rule.id for rule in default_rules()}
    assert set(plans.by_rule) <= rule_ids
    assert {rule: plan.name for rule in plans.by_rule if (plan := plans.for_rule(rule))} == {
        "site_power_cut": "site_power_cut", "pump_burst_pipe": "burst_pipe",
        "elevator_entrapment": "entrapment", "pump_pair_no_supply": "water_supply"}
    assert plans.for_rule("pump_cavitation") is None


def test_power_cut_plan_checks_the_elevators_first_within_five_minutes() -> None:
    first = default_plans().plans["site_power_cut"].steps[0]
    assert (first.role, first.within) == (Role.OPERATOR, 5 * MIN)
    assert "trapped passengers" in first.title


def test_an_override_replaces_a_plan_by_name_and_adds_rules(tmp_path: Path) -> None:
    path = tmp_path / "plans.yaml"
    path.write_text("rules: {lighting_circuit_failure: dark_stairs}\n"
                    "plans:\n"
                    "  entrapment: {steps: [{step: Call the lift contractor, role: dispatcher, within_min: 3}]}\n"
                    "  dark_stairs: {title: Dark stairwell, steps: [{step: Send an electrician, role: dispatcher,"
                    " within_min: 15}]}\n")
    plans = configured_plans(path)
    assert [s.title for s in plans.plans["entrapment"].steps] == ["Call the lift contractor"]
    assert plans.for_rule("lighting_circuit_failure") == plans.plans["dark_stairs"]
    assert plans.plans["site_power_cut"] == default_plans().plans["site_power_cut"]


@pytest.mark.parametrize(("text", "message"), [
    ("plans: {x: {steps: [{step: a, role: janitor, within_min: 5}]}}", "plans.x.steps[1].role: 'janitor'"),
    ("plans: {x: {steps: [{step: a, role: operator, within_min: 0}]}}", "plans.x.steps[1].within_min"),
    ("plans: {x: {steps: [{step: a, role: operator}]}}", "plans.x.steps[1].within_min"),
    ("plans: {x: {steps: [{step: '', role: operator, within_min: 5}]}}", "plans.x.steps[1].step"),
    ("plans: {x: {steps: [{step: a, role: operator, within_min: 5, by: me}]}}", "plans.x.steps[1]: unknown keys"),
    ("plans: {x: {steps: []}}", "plans.x.steps: must be a non-empty list"),
    ("rules: {site_power_cut: flood}", "rules.site_power_cut: no plan named 'flood'"),
    ("plan: {}", "unknown keys ['plan']"),
    ("plans: [", "not valid YAML"),
])
def test_a_bad_plan_file_is_a_config_error_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^mine\.yaml: ") as error:
        parse_plans(text, "mine.yaml", default_plans())
    assert message in str(error.value)


def run_of(*steps: EmergencyStep, ended_at: datetime | None = None, work_order_id: int | None = 7) -> EmergencyRun:
    return EmergencyRun(1, "site_power_cut", "north", work_order_id, work_order_id is None, T0, "system", ended_at,
                        steps)


def step(position: int, due_min: int, done_min: int | None = None, by: str | None = None) -> EmergencyStep:
    return EmergencyStep(position, f"step {position}", "operator", T0 + due_min * MIN,
                         None if done_min is None else T0 + done_min * MIN, by)


def test_late_steps_are_those_done_after_their_limit_or_never_done_by_the_end() -> None:
    run = run_of(step(1, 5, 3), step(2, 10, 14), step(3, 30), step(4, 240), ended_at=T0 + 60 * MIN)
    late = late_steps(run, T0 + 600 * MIN)
    assert [(s.position, s.late_by, s.done_at) for s in late] == [(2, 4 * MIN, T0 + 14 * MIN), (3, 30 * MIN, None)]


@given(due=st.integers(1, 300), done=st.one_of(st.none(), st.integers(0, 600)), now=st.integers(0, 600))
def test_a_step_is_late_exactly_when_it_finished_after_its_due_time(due: int, done: int | None, now: int) -> None:
    late = late_steps(run_of(step(1, due, done)), T0 + now * MIN)
    finished = now if done is None else done
    assert [s.late_by for s in late] == ([(finished - due) * MIN] if finished > due else [])


def test_after_action_tells_the_story_in_time_order_with_time_to_restore() -> None:
    alarm = Alarm(3, "site_power_cut", "north", "north", Severity.CRITICAL, AlarmState.NORMAL, "Power cut", T0 - MIN)
    order = WorkOrder(7, WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY, WorkOrderStatus.CLOSED, "Power cut",
                      None, "north", T0, T0 + 30 * MIN, alarm_id=3, restored_at=T0 + 50 * MIN,
                      completed_at=T0 + 70 * MIN, closed_at=T0 + 90 * MIN)
    history = [
        WorkOrderEvent(7, T0, "system", None, WorkOrderStatus.REQUESTED),
        WorkOrderEvent(7, T0 + 50 * MIN, "tech-7", WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.IN_PROGRESS,
                       "mains back", WorkOrderAction.RESTORE),
        WorkOrderEvent(7, T0 + 70 * MIN, "tech-7", WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED),
        WorkOrderEvent(7, T0 + 90 * MIN, "sup-zhao", WorkOrderStatus.VERIFIED, WorkOrderStatus.CLOSED),
    ]
    run = run_of(step(1, 5, 4, "op-li"), step(2, 30, 41, "tech-7"), ended_at=T0 + 90 * MIN)
    record = after_action(run, T0 + 100 * MIN, order, history, alarm)
    assert [(e.at - T0, e.what, e.actor) for e in record.timeline] == [
        (-MIN, "alarm raised", "system"), (0 * MIN, "order opened", "system"), (0 * MIN, "plan started", "system"),
        (4 * MIN, "step 1 done", "op-li"), (41 * MIN, "step 2 done", "tech-7"), (50 * MIN, "restored", "tech-7"),
        (70 * MIN, "completed", "tech-7"), (90 * MIN, "closed", "sup-zhao"), (90 * MIN, "plan ended", None)]
    assert [(s.position, s.late_by) for s in record.late_steps] == [(2, 11 * MIN)]
    assert record.time_to_restore == 51 * MIN  # from the alarm, not from the order
    assert record.steps_done == 2


def test_a_drill_after_action_has_no_order_and_no_time_to_restore() -> None:
    run = run_of(step(1, 5, 9, "op-li"), step(2, 30), work_order_id=None)
    record = after_action(run, T0 + 45 * MIN)
    assert [e.what for e in record.timeline] == ["drill started", "step 1 done"]
    assert [(s.position, s.late_by) for s in record.late_steps] == [(1, 4 * MIN), (2, 15 * MIN)]
    assert record.time_to_restore is None
