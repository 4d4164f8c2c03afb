"""The event-time engine: on-delay, reset, hysteresis, partial readings, out-of-order readings."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.domain import AssetKind, Reading, Severity
from rules.engine import INITIAL, RuleEngine, RuleState, TransitionKind, step
from rules.expression import compile_expression
from rules.model import Rule

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def pump(minutes: float, asset: str = "p1", **metrics: float | bool) -> Reading:
    return Reading("s1", AssetKind.PUMP, asset, at(minutes), dict(metrics))


def rule(when: str, for_minutes: float = 10, clear: str | None = None, rule_id: str = "r",
         kind: AssetKind = AssetKind.PUMP) -> Rule:
    return Rule(id=rule_id, applies_to=frozenset({kind}), condition=compile_expression(when),
                for_=timedelta(minutes=for_minutes),
                clear_condition=compile_expression(clear) if clear else None,
                severity=Severity.HIGH, message="{asset}")


VIBRATION = rule("vibration_mm_s > 7.1", 10, clear="vibration_mm_s < 4.5")


def run(engine: RuleEngine, readings: list[Reading]) -> list[tuple[str, TransitionKind, datetime]]:
    return [(r.id, t.kind, t.at) for reading in readings for r, _, t in engine.evaluate(reading)]


def test_value_exactly_at_the_threshold_does_not_raise() -> None:
    engine = RuleEngine([VIBRATION])
    assert run(engine, [pump(m, vibration_mm_s=7.1) for m in range(60)]) == []


def test_raises_at_the_reading_that_completes_the_on_delay() -> None:
    engine = RuleEngine([VIBRATION])
    fired = [(m, t) for m in range(15) for _, _, t in engine.evaluate(pump(m, vibration_mm_s=8.0))]
    assert len(fired) == 1
    minute, transition = fired[0]
    assert minute == 10
    assert transition.kind is TransitionKind.RAISE
    assert transition.at == at(10)
    assert transition.since == at(0)


def test_condition_dropping_before_the_delay_resets_it() -> None:
    engine = RuleEngine([VIBRATION])
    stream = [pump(m, vibration_mm_s=8.0) for m in range(9)]  # true 0..8 min
    stream += [pump(9, vibration_mm_s=7.0)]                    # false at 9 min
    stream += [pump(m, vibration_mm_s=8.0) for m in range(10, 25)]
    assert run(engine, stream) == [("r", TransitionKind.RAISE, at(20))]


def test_zero_delay_raises_on_the_first_true_reading() -> None:
    engine = RuleEngine([rule("vibration_mm_s > 7.1", 0)])
    assert run(engine, [pump(0, vibration_mm_s=1.0), pump(1, vibration_mm_s=9.0)]) == [
        ("r", TransitionKind.RAISE, at(1))]


def test_clear_condition_gives_hysteresis() -> None:
    engine = RuleEngine([VIBRATION])
    run(engine, [pump(m, vibration_mm_s=8.0) for m in range(11)])
    # Below the raise level but above the clear level: stays active.
    assert run(engine, [pump(m, vibration_mm_s=5.0) for m in range(11, 30)]) == []
    assert engine.state("r", "p1") is not None
    assert engine.state("r", "p1").active
    assert run(engine, [pump(30, vibration_mm_s=4.4)]) == [("r", TransitionKind.CLEAR, at(30))]
    # A new episode needs the whole on-delay again.
    assert run(engine, [pump(m, vibration_mm_s=9.0) for m in range(31, 41)]) == []
    assert run(engine, [pump(41, vibration_mm_s=9.0)]) == [("r", TransitionKind.RAISE, at(41))]


def test_without_clear_condition_the_alarm_clears_when_the_condition_stops_holding() -> None:
    engine = RuleEngine([rule("vibration_mm_s > 7.1", 1)])
    fired = run(engine, [pump(0, vibration_mm_s=8.0), pump(1, vibration_mm_s=8.0),
                         pump(2, vibration_mm_s=7.1)])
    assert fired == [("r", TransitionKind.RAISE, at(1)), ("r", TransitionKind.CLEAR, at(2))]


def test_readings_with_some_metrics_are_merged_over_the_latest_values() -> None:
    burst = rule("flow_m3h > 55 and discharge_bar < 2.0", 2)
    engine = RuleEngine([burst])
    stream = [pump(0, flow_m3h=60.0),            # pressure never seen: unknown, nothing starts
              pump(1, discharge_bar=1.0),         # now both known: pending since 1
              pump(2, flow_m3h=61.0),
              pump(3, vibration_mm_s=2.0)]       # carries neither metric, but time passed
    assert run(engine, stream) == [("r", TransitionKind.RAISE, at(3))]
    assert engine.values("p1") == {"flow_m3h": 61.0, "discharge_bar": 1.0, "vibration_mm_s": 2.0,
                                   "device_online": True}


def test_unknown_condition_neither_raises_nor_clears() -> None:
    engine = RuleEngine([rule("vibration_mm_s > 7.1", 0)])
    assert run(engine, [pump(m, bearing_temp_c=50.0) for m in range(10)]) == []
    state = engine.state("r", "p1")
    assert state is not None
    assert state.pending_since is None
    assert not state.active


def test_a_late_reading_is_counted_keeps_the_latest_values_and_restarts_the_run_it_breaks() -> None:
    engine = RuleEngine([VIBRATION])
    run(engine, [pump(m, vibration_mm_s=8.0) for m in range(5)])
    assert run(engine, [pump(2, vibration_mm_s=1.0)]) == []   # late, and false: the run broke at 2
    assert engine.out_of_order == 1
    assert engine.evaluated == 5
    assert engine.values("p1")["vibration_mm_s"] == 8.0
    # The on-delay counts from 3, the first reading after the break, not from 0.
    assert run(engine, [pump(m, vibration_mm_s=8.0) for m in range(5, 14)]) == [
        ("r", TransitionKind.RAISE, at(13))]


def test_a_reading_at_the_same_time_is_not_out_of_order() -> None:
    engine = RuleEngine([rule("flow_m3h > 55 and discharge_bar < 2.0", 0)])
    assert run(engine, [pump(0, flow_m3h=60.0), pump(0, discharge_bar=1.0)]) == [
        ("r", TransitionKind.RAISE, at(0))]
    assert engine.out_of_order == 0


def test_assets_and_kinds_are_independent() -> None:
    lamp = rule("driver_temp_c > 85", 0, rule_id="lamp", kind=AssetKind.LIGHTING)
    engine = RuleEngine([VIBRATION, lamp])
    stream = [pump(m, "p1", vibration_mm_s=8.0) for m in range(11)]
    stream += [pump(m, "p2", vibration_mm_s=1.0) for m in range(11)]
    assert run(engine, stream) == [("r", TransitionKind.RAISE, at(10))]
    assert engine.state("r", "p2") == RuleState(last_at=at(10), values={"vibration_mm_s": 1.0,
                                                                        "device_online": True})
    assert engine.state("lamp", "p1") is None  # a pump is never judged by a lighting rule


def test_step_is_pure_and_ignores_older_readings() -> None:
    state, transition = step(VIBRATION, INITIAL, pump(0, vibration_mm_s=8.0, flow_m3h=30.0))
    assert transition is None
    assert state.pending_since == at(0)
    assert state.values == {"vibration_mm_s": 8.0}  # only the metrics the rule reads
    assert RuleState() == INITIAL
    again, transition = step(VIBRATION, state, pump(-1, vibration_mm_s=1.0))
    assert again is state
    assert transition is None


_streams = st.lists(st.tuples(st.integers(0, 3),  # minutes since the previous reading
                              st.sampled_from([None, 3.0, 4.5, 6.0, 7.1, 7.2, 12.0])),
                    max_size=60)


@given(_streams)
def test_engine_agrees_with_folding_step(stream: list[tuple[int, float | None]]) -> None:
    engine, state, minute = RuleEngine([VIBRATION]), INITIAL, 0
    from_engine, from_step = [], []
    for gap, vibration in stream:
        minute += gap
        metrics = {"flow_m3h": 30.0} if vibration is None else {"vibration_mm_s": vibration}
        reading = pump(minute, **metrics)
        from_engine += [t for _, _, t in engine.evaluate(reading)]
        state, transition = step(VIBRATION, state, reading)
        from_step += [transition] if transition else []
    assert from_engine == from_step
    kinds = [t.kind for t in from_step]
    assert all(a != b for a, b in itertools.pairwise(kinds))  # raise and clear alternate
    assert all(t.at - t.since >= VIBRATION.for_ for t in from_step if t.kind is TransitionKind.RAISE)
