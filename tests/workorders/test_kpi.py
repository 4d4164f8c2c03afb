"""Each monthly figure against a case computed by hand (the arithmetic in the comments), and its bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.errors import InvalidRequest
from workorders.kpi import (
    Counted,
    Month,
    OrderFacts,
    PmOrder,
    Ratio,
    SlaOutcome,
    age_bucket,
    backlog_by_age,
    complaint_rate,
    first_time_fix,
    follow_up_coverage,
    is_open_at,
    mtbf_hours,
    mttr_hours,
    pm_compliance,
    pm_grace,
    repair_rate,
    repeats,
    satisfaction,
    sla_compliance,
    sla_outcome,
    summarise,
)
from workorders.sla import SlaState, TargetName, TargetStatus

MARCH = Month(2026, 3)
T = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
P = WorkOrderPriority


def order(order_id: int, *, kind: WorkOrderKind = WorkOrderKind.CORRECTIVE, asset: str | None = "p1",
          status: WorkOrderStatus = WorkOrderStatus.COMPLETED, opened_at: datetime = T, **fields: object) -> OrderFacts:
    return OrderFacts(id=order_id, kind=kind, priority=P.NORMAL, status=status, asset_id=asset,
                      asset_kind="pump" if asset else "", opened_at=opened_at, **fields)  # type: ignore[arg-type]


def test_month_knows_its_bounds_and_hours() -> None:
    assert MARCH.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert MARCH.end == datetime(2026, 4, 1, tzinfo=UTC)
    assert MARCH.hours == 31 * 24  # 744
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Month.parse("2026-02").hours == 28 * 24


@pytest.mark.parametrize("text", ["2026-13", "2026-3", "March", "2026-00"])
def test_a_month_that_is_not_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest, match="YYYY-MM"):
        Month.parse(text)


def test_repair_rate_is_repairs_per_asset() -> None:
    assert repair_rate(3, 4) == 0.75  # 3 repairs / 4 assets
    assert repair_rate(3, 0) is None


def test_mttr_is_the_mean_hours_from_arrival_to_restoration() -> None:
    repairs = [order(1, on_site_at=T, restored_at=T + 2 * H),  # 2 h
               order(2, on_site_at=T, restored_at=T + 5 * H),  # 5 h
               order(3, on_site_at=None, restored_at=T + H)]  # no arrival recorded: left out
    assert mttr_hours(repairs) == pytest.approx(3.5)  # (2 + 5) / 2
    assert mttr_hours([]) is None


def test_mtbf_uses_run_hours_where_reported_and_calendar_hours_elsewhere() -> None:
    # p1 ran 200 h, p2 reports nothing: 744 h; 2 failures -> (200 + 744) / 2 = 472
    assert mtbf_hours(["p1", "p2"], 2, MARCH, {"p1": 200.0}) == pytest.approx(472.0)
    # calendar time alone: 744 h x 3 assets / 4 failures = 558
    assert mtbf_hours(["a", "b", "c"], 4, MARCH, {}) == pytest.approx(558.0)
    assert mtbf_hours(["a"], 0, MARCH, {}) is None


def test_sla_compliance_is_the_share_of_orders_with_every_target_met_per_priority() -> None:
    outcomes = [SlaOutcome(1, P.EMERGENCY, {"arrive": True, "restore": True}),
                SlaOutcome(2, P.EMERGENCY, {"arrive": True, "restore": False}),
                SlaOutcome(3, P.EMERGENCY, {"arrive": True}),
                SlaOutcome(4, P.NORMAL, {"arrive": False}),
                SlaOutcome(5, P.NORMAL, {}),  # nothing judged yet: left out
                SlaOutcome(6, P.NORMAL, {"accept": True}, frozenset({"complete"}))]  # complete still running
    result = sla_compliance(outcomes)
    assert result[P.EMERGENCY] == Ratio(2, 3)  # orders 1 and 3 of 3
    assert result[P.NORMAL] == Ratio(0, 1)
    assert result[P.URGENT].value is None


def _status(name: TargetName, state: SlaState) -> TargetStatus:
    return TargetStatus(name, H, T + H, H, 1.0, state, None)


def test_an_outcome_takes_met_and_breached_from_the_clocks_and_a_recorded_breach_over_them() -> None:
    arrive, restore = TargetName.ARRIVE, TargetName.RESTORE
    both = sla_outcome(1, P.URGENT, [_status(arrive, SlaState.MET), _status(restore, SlaState.BREACHED)])
    assert (dict(both.targets), both.judged, both.met) == ({"arrive": True, "restore": False}, True, False)
    running = sla_outcome(2, P.URGENT, [_status(arrive, SlaState.MET), _status(restore, SlaState.PAUSED)])
    assert (running.running, running.judged) == ({"restore"}, False)  # restore may still be met
    breached_early = sla_outcome(3, P.URGENT, [_status(arrive, SlaState.BREACHED),
                                               _status(restore, SlaState.AT_RISK)])
    assert (breached_early.judged, breached_early.met) == (True, False)  # can no longer comply
    recorded = sla_outcome(4, P.URGENT, [_status(arrive, SlaState.MET), _status(restore, SlaState.RUNNING)],
                           breached=["restore"])  # the SLA watch saw it breached after month end
    assert (dict(recorded.targets), recorded.running, recorded.judged) == ({"arrive": True, "restore": False},
                                                                           frozenset(), True)
    stopped = sla_outcome(5, P.URGENT, [_status(arrive, SlaState.STOPPED)])
    assert not stopped.judged


def test_pm_grace_is_a_fifth_of_the_interval_at_most_28_days() -> None:
    assert pm_grace(timedelta(days=15)) == timedelta(days=3)  # 15 x 0.2
    assert pm_grace(timedelta(days=365)) == timedelta(days=28)  # 73 capped at 28


def test_pm_compliance_counts_orders_done_by_due_plus_grace() -> None:
    due = datetime(2026, 3, 5, tzinfo=UTC)
    pms = [PmOrder(1, due, timedelta(days=15), due + 3 * D),  # grace 3 d: on the deadline, on time
           PmOrder(2, due, timedelta(days=15), due + 3 * D + H),  # an hour late
           PmOrder(3, due, timedelta(days=365), due + 20 * D),  # grace 28 d: on time
           PmOrder(4, due, timedelta(days=30), None),  # never done
           PmOrder(5, due, timedelta(days=30), due - 2 * D)]  # done early: done
    assert pm_compliance(pms) == Ratio(3, 5)  # 1, 3, 5 -> 60 %, below the 90 % target


def test_a_repeat_is_the_same_asset_and_code_opened_within_30_days_of_a_completion() -> None:
    first = order(1, failure_code="seal", completed_at=T)
    again = order(2, failure_code="seal", opened_at=T + 30 * D, completed_at=T + 31 * D)  # day 30: a repeat
    late = order(3, failure_code="seal", opened_at=T + 62 * D, completed_at=T + 63 * D)  # 31 d after #2
    other_code = order(4, failure_code="bearing", opened_at=T + D, completed_at=T + 2 * D)
    other_asset = order(5, asset="p2", failure_code="seal", opened_at=T + D, completed_at=T + 2 * D)
    repeating, repeated = repeats([first, again, late, other_code, other_asset])
    assert repeating == {2}
    assert repeated == {1}


def test_first_time_fix_needs_verification_no_send_back_and_no_repeat() -> None:
    repairs = [order(1, verified_at=T),  # fixed first time
               order(2, verified_at=T, sent_back=True),  # the fix did not hold
               order(3, verified_at=None),  # not verified (yet)
               order(4, verified_at=T)]  # followed by a repeat failure
    assert first_time_fix(repairs, repeated={4}) == Ratio(1, 4)  # only order 1


def test_backlog_buckets_by_whole_days_of_age() -> None:
    at = MARCH.end
    opened = [at - H, at - 2 * D - 23 * H, at - 3 * D, at - 7 * D, at - 8 * D, at - 30 * D, at - 31 * D]
    # ages 0 d, 2.96 d -> 0-2 d; 3 d, 7 d -> 3-7 d; 8 d, 30 d -> 8-30 d; 31 d -> > 30 d
    assert backlog_by_age(opened, at) == {"0-2d": 2, "3-7d": 2, "8-30d": 2, ">30d": 1}


def test_an_order_is_open_at_month_end_unless_completed_or_closed_before() -> None:
    end = MARCH.end
    assert is_open_at(order(1, status=WorkOrderStatus.IN_PROGRESS), end)
    assert is_open_at(order(2, completed_at=end), end)  # completed just after the month
    assert not is_open_at(order(3, completed_at=end - H), end)
    assert not is_open_at(order(4, status=WorkOrderStatus.CANCELLED, closed_at=end - H), end)
    assert not is_open_at(order(5, opened_at=end), end)


def test_complaint_rate_is_per_hundred_orders() -> None:
    assert complaint_rate(3, 150) == pytest.approx(2.0)  # 3 x 100 / 150
    assert complaint_rate(3, 0) is None


def test_satisfaction_is_the_mean_score_and_coverage_counts_orders_with_a_requester() -> None:
    assert satisfaction([5, 4, 2]) == pytest.approx(11 / 3)
    assert satisfaction([]) is None
    closed = [order(1, requester="r1", followed_up_at=T), order(2, requester="r2"),
              order(3, requester=None)]  # alarm-born: nobody to call back, not counted
    assert follow_up_coverage(closed) == Ratio(1, 2)


def test_summarise_picks_each_figures_orders_from_the_month() -> None:
    before = MARCH.start - 5 * D
    orders = [
        # a repair completed in March: 3 h from arrival to restoration, verified, followed up with 4
        order(1, opened_at=T, on_site_at=T + H, restored_at=T + 4 * H, completed_at=T + 5 * H, verified_at=T + D,
              failure_code="seal", status=WorkOrderStatus.CLOSED, closed_at=T + 2 * D, requester="r",
              followed_up_at=T + D, satisfaction=4),
        # opened in February, completed in March, 1 h to restore, a repeat of nothing
        order(2, opened_at=before, on_site_at=T, restored_at=T + H, completed_at=T + H, failure_code="bearing"),
        # a preventive order is no repair; a cancelled repair is no failure
        order(3, kind=WorkOrderKind.PREVENTIVE, completed_at=T),
        order(4, opened_at=T, status=WorkOrderStatus.CANCELLED, closed_at=T + H),
    ]
    pms = [PmOrder(5, MARCH.end - 5 * D, timedelta(days=15), None),  # grace 3 d: judged in March, missed
           PmOrder(6, MARCH.end - 2 * D, timedelta(days=15), None)]  # grace ends April 1: judged in April
    f = summarise("s1", MARCH, "pump", ["p1", "p2"], orders, [], pms, Counted({"0-2d": 1}, 4, None), {})
    assert f.pm == Ratio(0, 1)
    assert f.repairs == 2  # orders 1 and 2
    assert f.repair_rate == 1.0  # 2 repairs / 2 assets
    assert f.mttr_hours == pytest.approx(2.0)  # (3 + 1) / 2
    assert f.failures == 1  # opened in March and not cancelled: order 1 (order 4 cancelled, 2 in February)
    assert f.mtbf_hours == pytest.approx(1488.0)  # 744 h x 2 assets / 1
    assert f.first_time_fix == Ratio(1, 2)  # order 2 was never verified
    assert f.satisfaction == 4.0
    assert f.follow_up == Ratio(1, 1)


# -- properties ---------------------------------------------------------------------------------------------

# hypothesis bounds are naive and the zone comes separately
times = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 6, 1),  # noqa: DTZ001
                     timezones=st.just(UTC))


@st.composite
def repairs_(draw: st.DrawFn) -> OrderFacts:
    opened = draw(times)
    arrival = opened + draw(st.timedeltas(timedelta(0), timedelta(days=3)))
    restored = arrival + draw(st.timedeltas(timedelta(0), timedelta(days=3)))
    return order(draw(st.integers(1, 10_000)), asset=draw(st.sampled_from(["p1", "p2"])),
                 failure_code=draw(st.sampled_from(["seal", "bearing"])), opened_at=opened, on_site_at=arrival,
                 restored_at=restored, completed_at=restored, verified_at=draw(st.none() | st.just(restored)),
                 sent_back=draw(st.booleans()))


@given(st.lists(repairs_(), max_size=30))
def test_rates_stay_within_zero_and_one_and_times_are_not_negative(repairs: list[OrderFacts]) -> None:
    unique = list({r.id: r for r in repairs}.values())
    repeating, repeated = repeats(unique)
    assert repeating <= {r.id for r in unique}
    assert repeated <= {r.id for r in unique}
    rate = first_time_fix(unique, repeated).value
    assert rate is None or 0.0 <= rate <= 1.0
    mttr = mttr_hours(unique)
    assert mttr is None or mttr >= 0.0
    assert (mttr is None) == (not unique)


@given(st.lists(st.tuples(st.sampled_from(list(P)), st.dictionaries(st.sampled_from(["arrive", "restore"]),
                                                                      st.booleans())), max_size=30))
def test_sla_compliance_is_a_share_of_the_judged_orders(rows: list[tuple[WorkOrderPriority, dict[str, bool]]]) -> None:
    result = sla_compliance(SlaOutcome(i, p, t) for i, (p, t) in enumerate(rows))
    assert sum(r.whole for r in result.values()) == sum(1 for _, t in rows if t)
    for ratio in result.values():
        assert 0 <= ratio.part <= ratio.whole


@given(st.lists(times, max_size=40), st.timedeltas(timedelta(days=1), timedelta(days=400)))
def test_every_open_order_falls_in_exactly_one_backlog_bucket(opened: list[datetime], interval: timedelta) -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    assert sum(backlog_by_age(opened, at).values()) == len(opened)
    assert all(age_bucket(at - o) in {"0-2d", "3-7d", "8-30d", ">30d"} for o in opened)
    grace = pm_grace(interval)
    assert timedelta(0) < grace <= timedelta(days=28)
    assert grace <= interval * 0.2 + timedelta(microseconds=1)


@given(st.lists(st.tuples(times, st.timedeltas(timedelta(days=1), timedelta(days=400)),
                          st.none() | times), max_size=30))
def test_pm_compliance_stays_within_zero_and_one(rows: list[tuple[datetime, timedelta, datetime | None]]) -> None:
    ratio = pm_compliance(PmOrder(i, due, interval, done) for i, (due, interval, done) in enumerate(rows))
    assert ratio.whole == len(rows)
    assert ratio.value is None or 0.0 <= ratio.value <= 1.0


@pytest.mark.parametrize("text", ["0001-01", "1969-12", "9999-12"])
def test_a_month_whose_neighbourhood_leaves_the_calendar_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest, match="1970-9998"):
        Month.parse(text)
