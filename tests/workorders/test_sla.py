"""SLA clocks against the packaged policy and override files: each target met and breached, holidays,
midnight, pauses only where the policy says, and the policy file's errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.domain import (
    WaitingFor,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from core.errors import ConfigError
from workorders.sla import MILESTONES, SlaPolicy, SlaState, TargetName, TargetStatus
from workorders.slafile import default_policy, load_policy

SH = ZoneInfo("Asia/Shanghai")
P = WorkOrderPriority
S = WorkOrderStatus
MONDAY_9 = datetime(2026, 9, 28, 9, 0, tzinfo=SH)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def order(priority: P, opened_at: datetime, status: S = S.IN_PROGRESS, kind: WorkOrderKind = WorkOrderKind.CORRECTIVE,
          site_id: str = "north", **fields: Any) -> WorkOrder:
    return WorkOrder(1, kind, priority, status, "job", None, site_id, opened_at, opened_at, **fields)


def move(when: datetime, from_status: S | None, to_status: S, **data: Any) -> WorkOrderEvent:
    return WorkOrderEvent(1, when, "tech", from_status, to_status, data=data)


def target(statuses: list[TargetStatus], name: TargetName) -> TargetStatus:
    return next(status for status in statuses if status.target is name)


# The default targets of a Monday 09:00 order (Shanghai; working hours 08:30-17:30, Monday to Friday).
DEFAULTS = [
    (P.EMERGENCY, TargetName.ARRIVE, at(2026, 9, 28, 9, 30)),
    (P.EMERGENCY, TargetName.RESTORE, at(2026, 9, 28, 13, 0)),
    (P.URGENT, TargetName.ACCEPT, at(2026, 9, 28, 9, 30)),
    (P.URGENT, TargetName.ARRIVE, at(2026, 9, 28, 11, 0)),
    (P.URGENT, TargetName.RESTORE, at(2026, 9, 28, 17, 0)),
    (P.NORMAL, TargetName.ACCEPT, at(2026, 9, 28, 10, 0)),
    (P.NORMAL, TargetName.COMPLETE, at(2026, 9, 30, 9, 0)),  # 2 working days of 9 h: 8.5 + 9 + 0.5
    (P.PLANNED, TargetName.ACCEPT, at(2026, 9, 29, 9, 0)),
    (P.PLANNED, TargetName.COMPLETE, at(2026, 10, 12, 9, 0)),
]


@pytest.mark.parametrize(("priority", "name", "due_at"), DEFAULTS)
def test_default_target_is_met_at_its_deadline(priority: P, name: TargetName, due_at: datetime) -> None:
    wo = order(priority, MONDAY_9, **{MILESTONES[name]: due_at})
    status = target(default_policy().status(wo, [], due_at + timedelta(days=30)), name)
    assert (status.due_at, status.state, status.met_at) == (due_at, SlaState.MET, due_at)


@pytest.mark.parametrize(("priority", "name", "due_at"), DEFAULTS)
def test_default_target_is_breached_a_minute_late(priority: P, name: TargetName, due_at: datetime) -> None:
    late = due_at + timedelta(minutes=1)
    reached = target(default_policy().status(order(priority, MONDAY_9, **{MILESTONES[name]: late}), [], late), name)
    waiting = target(default_policy().status(order(priority, MONDAY_9), [], due_at), name)
    assert (reached.state, waiting.state, waiting.fraction) == (SlaState.BREACHED, SlaState.BREACHED, 1.0)


def test_entrapment_and_burst_pipe_have_no_accept_or_complete_target() -> None:
    terms = default_policy().terms_for(WorkOrderKind.EMERGENCY, P.EMERGENCY, "north")
    assert [t.name for t in terms.targets] == [TargetName.ARRIVE, TargetName.RESTORE]


def test_first_due_is_the_earliest_target() -> None:
    policy = default_policy()
    assert policy.first_due(WorkOrderKind.EMERGENCY, P.EMERGENCY, "north", MONDAY_9) == at(2026, 9, 28, 9, 30)
    saturday = at(2026, 10, 3, 22, 0)
    assert policy.first_due(WorkOrderKind.REQUEST, P.NORMAL, "north", saturday) == at(2026, 10, 5, 9, 30)


def test_complaint_first_response_is_due_one_working_day_later() -> None:
    assert default_policy().respond_due("north", MONDAY_9) == at(2026, 9, 29, 9, 0)


def test_normal_repair_opened_friday_at_closing_before_a_holiday_monday(tmp_path: Path) -> None:
    policy = policy_file(tmp_path, "calendar:\n  holidays: [2026-10-05]\n")
    opened = at(2026, 10, 2, 17, 30)  # Friday at closing time; Monday 5 October is a public holiday
    due = at(2026, 10, 7, 17, 30)  # Tuesday and Wednesday, 9 working hours each
    statuses = policy.status(order(P.NORMAL, opened), [], at(2026, 10, 7, 16, 0))
    assert target(statuses, TargetName.ACCEPT).due_at == at(2026, 10, 6, 9, 30)
    complete = target(statuses, TargetName.COMPLETE)
    assert (complete.due_at, complete.state) == (due, SlaState.AT_RISK)
    assert complete.elapsed == timedelta(hours=16, minutes=30)
    on_time = target(policy.status(order(P.NORMAL, opened, completed_at=due), [], due), TargetName.COMPLETE)
    late = target(policy.status(order(P.NORMAL, opened), [], due), TargetName.COMPLETE)
    assert (on_time.state, late.state) == (SlaState.MET, SlaState.BREACHED)


def test_emergency_clock_runs_across_midnight() -> None:
    opened = at(2026, 9, 28, 23, 50)
    wo = order(P.EMERGENCY, opened, status=S.DISPATCHED, kind=WorkOrderKind.EMERGENCY)

    def arrive(now: datetime, **fields: Any) -> TargetStatus:
        return target(default_policy().status(replace(wo, **fields), [], now), TargetName.ARRIVE)

    assert arrive(at(2026, 9, 29, 0, 10)).state is SlaState.RUNNING
    assert arrive(at(2026, 9, 29, 0, 15)).state is SlaState.AT_RISK  # 25 of 30 minutes
    assert arrive(at(2026, 9, 29, 0, 20)).state is SlaState.BREACHED
    assert arrive(at(2026, 9, 29, 1, 0), on_site_at=at(2026, 9, 29, 0, 19)).state is SlaState.MET
    restore = target(default_policy().status(wo, [], at(2026, 9, 29, 1, 0)), TargetName.RESTORE)
    assert (restore.due_at, restore.state) == (at(2026, 9, 29, 3, 50), SlaState.RUNNING)


def history_waiting_for(reason: WaitingFor, resumed: datetime | None) -> list[WorkOrderEvent]:
    events = [move(MONDAY_9, None, S.REQUESTED), move(at(2026, 9, 28, 9, 30), S.REQUESTED, S.ACCEPTED),
              move(at(2026, 9, 28, 10, 0), S.ACCEPTED, S.ON_SITE),
              move(at(2026, 9, 28, 11, 0), S.ON_SITE, S.WAITING, waiting_for=reason.value)]
    if resumed is not None:
        events.append(move(resumed, S.WAITING, S.IN_PROGRESS))
    return events


def test_waiting_for_the_resident_pauses_complete_but_not_accept() -> None:
    wo = order(P.NORMAL, MONDAY_9)
    statuses = default_policy().status(wo, history_waiting_for(WaitingFor.RESIDENT, at(2026, 9, 28, 13, 0)),
                                       at(2026, 9, 28, 14, 0))
    assert target(statuses, TargetName.COMPLETE).due_at == at(2026, 9, 30, 11, 0)  # two hours later
    assert target(statuses, TargetName.COMPLETE).elapsed == timedelta(hours=3)
    assert target(statuses, TargetName.ACCEPT).due_at == at(2026, 9, 28, 10, 0)


def test_waiting_for_parts_does_not_pause_a_normal_repair() -> None:
    statuses = default_policy().status(order(P.NORMAL, MONDAY_9),
                                       history_waiting_for(WaitingFor.PARTS, at(2026, 9, 28, 13, 0)),
                                       at(2026, 9, 28, 14, 0))
    assert target(statuses, TargetName.COMPLETE).due_at == at(2026, 9, 30, 9, 0)


def test_a_clock_paused_now_says_paused_and_keeps_its_time() -> None:
    wo = order(P.NORMAL, MONDAY_9, status=S.WAITING, waiting_for=WaitingFor.RESIDENT)
    complete = target(default_policy().status(wo, history_waiting_for(WaitingFor.RESIDENT, None),
                                              at(2026, 9, 29, 12, 0)), TargetName.COMPLETE)
    assert (complete.state, complete.elapsed) == (SlaState.PAUSED, timedelta(hours=2))
    assert complete.due_at == at(2026, 10, 1, 10, 0)  # 16 hours left, counted from now: 5.5 + 9 + 1.5


def test_cancelled_order_stops_its_clocks_in_time() -> None:
    wo = order(P.NORMAL, MONDAY_9, status=S.CANCELLED, closed_at=at(2026, 9, 28, 9, 40))
    states = {s.target: s.state for s in default_policy().status(wo, [], at(2026, 10, 9, 9, 0))}
    assert states == {TargetName.ACCEPT: SlaState.STOPPED, TargetName.COMPLETE: SlaState.STOPPED}


# --- the override file -------------------------------------------------------------------------------

def policy_file(tmp_path: Path, text: str) -> SlaPolicy:
    path = tmp_path / "sla-sites.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def test_override_file_changes_one_sites_target_and_calendar(tmp_path: Path) -> None:
    policy = policy_file(tmp_path, """
sites:
  north:
    calendar: {time_zone: Europe/Berlin}
    targets:
      - priority: emergency
        arrive: 20 min
      - priority: normal
        complete: {within: 3 working days}
""")
    north = policy.terms_for(WorkOrderKind.EMERGENCY, P.EMERGENCY, "north")
    south = policy.terms_for(WorkOrderKind.EMERGENCY, P.EMERGENCY, "south")
    assert [(t.name, t.time) for t in north.targets] == [(TargetName.ARRIVE, timedelta(minutes=20)),
                                                        (TargetName.RESTORE, timedelta(hours=4))]
    assert [t.time for t in south.targets] == [timedelta(minutes=30), timedelta(hours=4)]
    assert policy.calendar_for("north").time_zone == "Europe/Berlin"
    assert policy.calendar_for("north").hours == policy.calendar_for("south").hours
    complete = policy.terms_for(WorkOrderKind.REQUEST, P.NORMAL, "north").targets[1]
    assert (complete.working_days, complete.paused_by) == (3, frozenset())  # a target is replaced whole


def test_kind_specific_rule_wins_over_priority_rule(tmp_path: Path) -> None:
    policy = policy_file(tmp_path, "targets:\n  - {kind: preventive, clock: business, restore: 1 day}\n")
    terms = policy.terms_for(WorkOrderKind.PREVENTIVE, P.URGENT, "north")
    assert terms.clock.value == "business"
    assert [t.name for t in terms.targets] == [TargetName.ACCEPT, TargetName.ARRIVE, TargetName.RESTORE]
    assert terms.targets[2].time == timedelta(days=1)


@pytest.mark.parametrize(("text", "message"), [
    ("targets:\n  - {priority: normal, complete: two days}\n", r"targets\[0\]\.complete\.within: 'two days'"),
    ("targets:\n  - {priority: urgnet, accept: 1 h}\n", r"targets\[0\]\.priority: 'urgnet' is not one of"),
    ("calendar:\n  time_zone: Mars/Olympus\n", "calendar: unknown time zone 'Mars/Olympus'"),
    ("calendar:\n  hours: {mon: 17:30-08:30}\n", r"calendar\.hours\.mon: '17:30-08:30'"),
    ("calendar:\n  holidays: ['2026-13-01']\n", r"calendar\.holidays\[0\]: '2026-13-01' is not a date"),
    ("calendar:\n  holidays: [2026-13-01]\n", "not valid YAML: month must be in 1..12"),
    ("targets:\n  - {priority: normal, complete: {within: 1 h, paused_by: [waiting:lunch]}}\n",
     r"targets\[0\]\.complete\.paused_by\[0\]: 'lunch' is not one of"),
    ("sites:\n  north:\n    targets: [{priority: planned, accept: null, complete: null}]\n",
     "sites.north.targets: no target applies to emergency orders of priority planned"),
    ("escalate: yes\n", "unknown key.*escalate"),
])
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"sla-sites\.yaml: " + message):
        policy_file(tmp_path, text)


def test_times_come_back_in_utc() -> None:
    due = default_policy().first_due(WorkOrderKind.EMERGENCY, P.EMERGENCY, "north", MONDAY_9)
    assert due.tzinfo is UTC
