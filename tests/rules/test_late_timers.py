"""A late reading within the allowed lateness revises the on-delay or off-delay it falls into, as if it had
arrived in order; rules reading windows are judged again with it; a late reading past the lateness, or
one whose neighbours disagree with it, changes no timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain import AssetKind, Reading
from rules.engine import RuleEngine, TransitionKind
from rules.pack import parse_rules

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
RULES = parse_rules("""\
rules:
  - id: vib
    applies_to: pump
    when: "vibration_mm_s > 7.1"
    for: 10m
    clear_when: "vibration_mm_s < 5"
    clear_for: 5m
    severity: high
    message: "m"
  - id: spikes
    applies_to: pump
    when: "count(bearing_temp_c > 90, 15m) >= 3"
    severity: low
    message: "m"
""")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def pump(minutes: float, **metrics: float) -> Reading:
    return Reading("s1", AssetKind.PUMP, "p1", at(minutes), dict(metrics))


def feed(engine: RuleEngine, *readings: Reading) -> list[tuple[str, TransitionKind, datetime, datetime]]:
    return [(rule.id, t.kind, t.at, t.since) for reading in readings for rule, _r, t in engine.evaluate(reading)]


def engine_with(*readings: Reading) -> RuleEngine:
    engine = RuleEngine(RULES, allowed_lateness=timedelta(minutes=15))
    feed(engine, *readings)
    return engine


def test_a_late_reading_that_held_starts_the_on_delay_earlier_and_raises_when_in_order_would_have() -> None:
    # Readings at 0 (calm), then 4..14 vibrating: pending since 4, in order it raises at 14.
    engine = engine_with(pump(0, vibration_mm_s=2.0), *(pump(m, vibration_mm_s=8.0) for m in range(4, 13)))
    assert engine.state("vib", "p1").pending_since == at(4)  # type: ignore[union-attr]
    # The reading at 2 arrives late and vibrates too: the run started at 2, so 12 (read already) is 10
    # minutes on: the alarm raises at once, dated 12, since 2.
    assert feed(engine, pump(2, vibration_mm_s=9.0)) == [("vib", TransitionKind.RAISE, at(12), at(2))]
    assert engine.state("vib", "p1").active  # type: ignore[union-attr]
    assert feed(engine, pump(13, vibration_mm_s=8.0)) == []  # no second raise


def test_the_same_stream_in_order_raises_at_the_same_time() -> None:
    in_order = [pump(0, vibration_mm_s=2.0), pump(2, vibration_mm_s=9.0),
                *(pump(m, vibration_mm_s=8.0) for m in range(4, 13))]
    assert feed(engine_with(), *in_order) == [("vib", TransitionKind.RAISE, at(12), at(2))]


def test_a_late_reading_that_held_changes_nothing_when_a_calm_reading_lies_between() -> None:
    engine = engine_with(pump(0, vibration_mm_s=8.0), pump(3, vibration_mm_s=2.0),
                         *(pump(m, vibration_mm_s=8.0) for m in range(4, 8)))
    assert feed(engine, pump(2, vibration_mm_s=9.0)) == []
    assert engine.state("vib", "p1").pending_since == at(4)  # type: ignore[union-attr]


def test_a_late_calm_reading_inside_the_on_delay_restarts_it_after_itself() -> None:
    engine = engine_with(*(pump(m, vibration_mm_s=8.0) for m in range(0, 9)))
    assert feed(engine, pump(5.5, vibration_mm_s=1.0)) == []
    assert engine.state("vib", "p1").pending_since == at(6)  # type: ignore[union-attr]
    assert feed(engine, *(pump(m, vibration_mm_s=8.0) for m in range(9, 17))) == [
        ("vib", TransitionKind.RAISE, at(16), at(6))]  # not at 10


def test_a_late_reading_revises_the_off_delay_of_an_active_alarm() -> None:
    engine = engine_with(*(pump(m, vibration_mm_s=8.0) for m in range(0, 11)),  # raised at 10
                         *(pump(m, vibration_mm_s=3.0) for m in range(11, 14)))  # clearing since 11
    assert engine.state("vib", "p1").clearing_since == at(11)  # type: ignore[union-attr]
    assert feed(engine, pump(12.5, vibration_mm_s=8.0)) == []  # it vibrated again at 12.5
    assert engine.state("vib", "p1").clearing_since == at(13)  # type: ignore[union-attr]
    assert feed(engine, *(pump(m, vibration_mm_s=3.0) for m in range(14, 19))) == [
        ("vib", TransitionKind.CLEAR, at(18), at(13))]


def test_a_late_sample_that_completes_a_window_condition_raises_at_the_newest_time() -> None:
    engine = engine_with(pump(0, bearing_temp_c=95.0), pump(2, bearing_temp_c=60.0), pump(3, bearing_temp_c=95.0),
                         pump(6, bearing_temp_c=60.0))
    assert feed(engine, pump(4, bearing_temp_c=96.0)) == [("spikes", TransitionKind.RAISE, at(6), at(6))]


def test_a_reading_later_than_the_lateness_changes_no_timer_one_within_does() -> None:
    engine = engine_with(pump(0, vibration_mm_s=2.0), pump(16, vibration_mm_s=2.0),
                         *(pump(m, vibration_mm_s=8.0) for m in range(18, 24)))
    assert feed(engine, pump(17, vibration_mm_s=9.0)) == []  # 6 minutes late: within 15
    assert engine.state("vib", "p1").pending_since == at(17)  # type: ignore[union-attr]
    assert feed(engine, pump(1, vibration_mm_s=1.0)) == []  # 22 minutes late: dropped, no restart
    assert engine.late_dropped == 1
    assert engine.state("vib", "p1").pending_since == at(17)  # type: ignore[union-attr]
