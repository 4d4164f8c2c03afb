"""Event time: late readings within the allowed lateness feed the windows, later ones are counted;
duplicates change nothing; the same stream always gives the same alarms; checkpoints and reloads keep
half-elapsed timers."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import AssetKind, Reading
from rules.engine import RuleEngine, TransitionKind
from rules.pack import default_rules, parse_rules

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
RULES = parse_rules("""\
rules:
  - id: vib
    applies_to: pump
    when: "vibration_mm_s > 7.1"
    for: 10m
    deadband: 2
    severity: high
    message: "m"
  - id: avg
    applies_to: pump
    when: "avg(vibration_mm_s, 10m) > 5"
    for: 5m
    severity: low
    message: "m"
  - id: spikes
    applies_to: pump
    when: "count(vibration_mm_s > 9, 15m) >= 3"
    severity: low
    message: "m"
  - id: cut
    scope: site
    applies_to: pump
    when: "not mains_ok"
    quorum: 0.5
    within: 2m
    severity: critical
    message: "m"
""")


def pump(minutes: float, asset: str = "p1", **metrics: float | bool) -> Reading:
    return Reading("s1", AssetKind.PUMP, asset, T0 + timedelta(minutes=minutes), dict(metrics))


def firings(engine: RuleEngine, readings: list[Reading]) -> list[tuple[str, str, TransitionKind, datetime]]:
    return [(rule.id, r.asset_id, t.kind, t.at) for reading in readings for rule, r, t in engine.evaluate(reading)]


def test_a_late_reading_within_the_lateness_feeds_the_windows_but_not_the_timers() -> None:
    engine = RuleEngine(RULES, allowed_lateness=timedelta(minutes=5))
    firings(engine, [pump(m, vibration_mm_s=2.0) for m in (0, 1, 2, 4)])
    assert firings(engine, [pump(3, vibration_mm_s=20.0)]) == []  # late by 1 minute: used
    assert (engine.late_used, engine.late_dropped, engine.out_of_order) == (1, 0, 1)
    # The window now holds 2, 2, 2, 20, 2, and the next reading sees the late spike in its average.
    assert firings(engine, [pump(5, vibration_mm_s=2.0)]) == []
    assert engine.values("p1")["vibration_mm_s"] == 2.0  # the latest value is not overwritten
    window = engine.snapshot()["assets"]["p1"]["series"]["vibration_mm_s"]
    assert window[1] == [2.0, 2.0, 2.0, 20.0, 2.0, 2.0]
    firings(engine, [pump(1, vibration_mm_s=30.0)])  # late by 4 minutes: still within 5
    firings(engine, [pump(-1, vibration_mm_s=30.0)])  # late by 6 minutes: dropped, counted
    assert (engine.late_used, engine.late_dropped, engine.evaluated) == (2, 1, 5)


def test_duplicate_readings_change_nothing() -> None:
    stream = [pump(m, vibration_mm_s=8.0 if 3 <= m < 20 else 1.0) for m in range(30)]
    once = firings(RuleEngine(RULES), stream)
    twice = firings(RuleEngine(RULES), [r for reading in stream for r in (reading, reading)])
    assert once == twice
    assert ("vib", "p1", TransitionKind.RAISE, T0 + timedelta(minutes=13)) in once


_step = st.tuples(st.integers(0, 2),                       # asset
                  st.integers(0, 3),                       # minutes after the previous reading
                  st.sampled_from([1.0, 4.0, 7.1, 7.2, 9.5, 12.0]),
                  st.booleans(),                           # mains
                  st.integers(-3, 0))                      # minutes of lateness (0: in order)


def _stream(steps: list[tuple[int, int, float, bool, int]]) -> list[Reading]:
    readings, minute = [], 0
    for asset, gap, vibration, mains, late in steps:
        minute += gap
        readings.append(pump(minute + late, f"p{asset}", vibration_mm_s=vibration, mains_ok=mains))
    return readings


@settings(max_examples=60, deadline=None)
@given(st.lists(_step, max_size=120), st.integers(0, 2**32 - 1))
def test_replaying_the_same_stream_gives_the_same_alarms(steps: list[tuple[int, int, float, bool, int]],
                                                         seed: int) -> None:
    stream = _stream(steps)
    first = firings(RuleEngine(RULES), stream)
    assert firings(RuleEngine(RULES), stream) == first
    # ... and a restart anywhere, from a checkpoint that went through JSON, continues the same way.
    cut = random.Random(seed).randint(0, len(stream))
    before = RuleEngine(RULES)
    head = firings(before, stream[:cut])
    after = RuleEngine(RULES)
    after.restore(json.loads(json.dumps(before.snapshot())))
    assert head + firings(after, stream[cut:]) == first
    kinds = {}
    for rule_id, asset, kind, _at in first:  # raise and clear alternate per (rule, asset)
        assert kinds.get((rule_id, asset)) != kind
        kinds[rule_id, asset] = kind


def test_a_restart_continues_a_half_elapsed_on_delay() -> None:
    engine = RuleEngine(default_rules())
    stream = [pump(m, flow_m3h=30.0, discharge_bar=4.0, vibration_mm_s=1.0, bearing_temp_c=90.0)
              for m in range(4)]  # bearing_temp.high_action needs 5 minutes over 85
    firings(engine, stream)
    restarted = RuleEngine(default_rules())
    restarted.restore(json.loads(json.dumps(engine.snapshot())))
    state = restarted.state("pump_bearing_temp.high_action", "p1")
    assert state is not None
    assert state.pending_since == T0
    assert sorted(firings(restarted, [pump(5, bearing_temp_c=90.0)])) == [
        ("pump_bearing_temp.high_action", "p1", TransitionKind.RAISE, T0 + timedelta(minutes=5)),
        ("pump_bearing_temp.high_warning", "p1", TransitionKind.RAISE, T0 + timedelta(minutes=5))]
    fresh = RuleEngine(default_rules())
    assert firings(fresh, [pump(5, bearing_temp_c=90.0)]) == []  # without the checkpoint: starts over


def test_a_snapshot_drops_the_state_of_a_rule_that_changed() -> None:
    engine = RuleEngine(RULES)
    firings(engine, [pump(m, vibration_mm_s=8.0) for m in range(5)])
    changed = parse_rules(
        'rules:\n  - id: vib\n    applies_to: pump\n    when: "vibration_mm_s > 7.5"\n    for: 10m\n'
        '    severity: high\n    message: "m"\n')
    restarted = RuleEngine(changed)
    restarted.restore(engine.snapshot())
    state = restarted.state("vib", "p1")
    assert state is not None
    assert state.pending_since is None


def test_reload_keeps_the_timers_of_unchanged_rules_only() -> None:
    engine = RuleEngine(RULES)
    firings(engine, [pump(m, vibration_mm_s=8.0) for m in range(5)])
    edited = [rule for rule in RULES if rule.id != "spikes"] + parse_rules(
        'rules:\n  - id: new\n    applies_to: pump\n    when: "vibration_mm_s > 1"\n    severity: low\n'
        '    message: "m"\n')
    assert engine.reload(edited) == {"kept": 3, "changed": 0, "added": 1, "removed": 1}
    state = engine.state("vib", "p1")
    assert state is not None
    assert state.pending_since == T0
    assert firings(engine, [pump(10, vibration_mm_s=8.0)]) == [
        ("vib", "p1", TransitionKind.RAISE, T0 + timedelta(minutes=10)),  # 10 minutes since minute 0
        ("avg", "p1", TransitionKind.RAISE, T0 + timedelta(minutes=10)),
        ("new", "p1", TransitionKind.RAISE, T0 + timedelta(minutes=10))]
