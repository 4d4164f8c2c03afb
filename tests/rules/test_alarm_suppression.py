"""The muting stages and the collector gate, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.domain import (
    Alarm,
    AlarmState,
    MaintenanceWindow,
    Severity,
    WorkOrder,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from rules.suppression import (
    STAGES,
    Candidate,
    CollectorGate,
    Context,
    Verdict,
    busy_assets,
    dedup,
    mute,
    owes_work_order,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PUMP = Candidate("pump_dry_running", "site-a", "pump-1", T0, frozenset({"site_power_cut"}))
OFFLINE = Candidate("device_offline", "site-a", "pump-1", T0, frozenset(), judges_absence=True)


def window(asset: str | None, since: datetime = T0, hours: float = 1, site: str = "site-a") -> MaintenanceWindow:
    return MaintenanceWindow(7, site, asset, since, since + timedelta(hours=hours), "overhaul")


def test_nothing_known_mutes_nothing() -> None:
    verdict = mute(PUMP, Context())
    assert verdict == Verdict()
    assert not verdict.muted


def test_stages_run_in_the_documented_order() -> None:
    assert [stage.__name__ for stage in STAGES] == ["maintenance", "cause", "shelving", "dedup"]


def test_window_of_the_asset_or_its_site_puts_it_out_of_service() -> None:
    for covering in (window("pump-1"), window(None)):
        verdict = mute(PUMP, Context(windows=[covering]))
        assert verdict.out_of_service.startswith("maintenance window #7")
        assert verdict.muted
    for other in (window("pump-2"), window(None, site="site-b"), window("pump-1", T0 + timedelta(seconds=1)),
                  window("pump-1", T0 - timedelta(hours=1))):
        assert mute(PUMP, Context(windows=[other])).out_of_service == ""


def test_work_in_progress_puts_the_asset_out_of_service() -> None:
    assert mute(PUMP, Context(busy={"pump-1": 12})).out_of_service == "work order #12 in progress"
    assert mute(PUMP, Context(busy={"pump-2": 12})).out_of_service == ""


def test_a_safety_critical_rule_is_never_out_of_service() -> None:
    trapped = Candidate("elevator_entrapment", "site-a", "pump-1", T0, safety_critical=True)
    verdict = mute(trapped, Context(windows=[window("pump-1")], busy={"pump-1": 12}))
    assert (verdict.out_of_service, verdict.muted) == ("", False)


def order(order_id: int, status: WorkOrderStatus, asset: str | None, related: tuple[str, ...] = ()) -> WorkOrder:
    return WorkOrder(order_id, WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, status, "t", asset, "site-a", T0,
                     T0, related_assets=related)


def test_busy_assets_are_the_scope_of_orders_under_way_only() -> None:
    orders = [order(1, WorkOrderStatus.IN_PROGRESS, "lift-1"), order(2, WorkOrderStatus.ON_SITE, None, ("p1", "p2")),
              order(3, WorkOrderStatus.ACCEPTED, "lift-2"), order(4, WorkOrderStatus.WAITING, "lift-3"),
              order(5, WorkOrderStatus.COMPLETED, "lift-4")]
    assert busy_assets(orders) == {"lift-1": 1, "p1": 2, "p2": 2}


def test_an_alarm_owes_its_order_only_when_active_unmuted_and_without_one() -> None:
    alarm = Alarm(1, "r", "pump-1", "site-a", Severity.HIGH, AlarmState.UNACKNOWLEDGED, "m", T0)
    assert owes_work_order(alarm, T0)
    assert owes_work_order(replace(alarm, state=AlarmState.ACKNOWLEDGED), T0)
    assert owes_work_order(replace(alarm, shelved_until=T0), T0)  # the shelf ended at T0
    for settled in (replace(alarm, state=AlarmState.RTN_UNACKNOWLEDGED), replace(alarm, work_order_id=4),
                    replace(alarm, out_of_service="window"), replace(alarm, suppressed_by=2),
                    replace(alarm, shelved_until=T0 + timedelta(minutes=1))):
        assert not owes_work_order(settled, T0)


def test_an_active_cause_on_the_same_site_suppresses() -> None:
    assert mute(PUMP, Context(causes={("site_power_cut", "site-a"): 3})).suppressed_by == 3
    assert mute(PUMP, Context(causes={("site_power_cut", "site-b"): 3})).suppressed_by is None
    assert mute(PUMP, Context(causes={("other_rule", "site-a"): 3})).suppressed_by is None


def test_absence_rules_are_held_under_the_collector_alarm_and_others_are_not() -> None:
    context = Context(collector_alarm=99)
    assert mute(OFFLINE, context).suppressed_by == 99
    assert mute(PUMP, context).suppressed_by is None


def test_shelved_episode_and_duplicate() -> None:
    until = T0 + timedelta(hours=1)
    context = Context(shelved={PUMP.key: until}, active=frozenset({PUMP.key}))
    verdict = mute(PUMP, context)
    assert (verdict.shelved_until, verdict.duplicate) == (until, True)
    assert not dedup(OFFLINE, Context(active=frozenset({PUMP.key})), Verdict()).duplicate


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.integers(0, 3600)), max_size=30),
       st.integers(0, 3600))
def test_gate_holds_exactly_while_unhealthy_or_within_grace(reports: list[tuple[bool, bool, int]],
                                                            probe: int) -> None:
    grace = timedelta(minutes=5)
    gate = CollectorGate()
    last_recovery = None
    at = T0
    for connected, lagging, step in reports:
        at += timedelta(seconds=step)
        before = gate
        gate = gate.update(connected, lagging, at)
        if connected and not lagging and not before.healthy:
            last_recovery = at
    when = at + timedelta(seconds=probe)
    expected = (not gate.healthy) or (last_recovery is not None and when < last_recovery + grace)
    assert gate.holding(when, grace) is expected
    assert (gate.reason == "") is gate.healthy
    assert gate.seen_healthy is any(c and not lag for c, lag, _s in reports)
    if gate.overdue(when, grace):
        assert not gate.seen_healthy
        assert gate.holding(when, grace)
