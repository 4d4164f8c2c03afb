"""Each rule kind on crafted streams: off-delay, deadband, limits, windows, N-in-window, rate of change,
no data and offline, several metrics, time of day, asset attributes and site-level rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import Asset, AssetKind, Reading
from core.errors import ConfigError
from rules.engine import RuleEngine, TransitionKind
from rules.model import Rule, Scope
from rules.pack import parse_rules

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
RAISE, CLEAR = TransitionKind.RAISE, TransitionKind.CLEAR


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rules(body: str) -> list[Rule]:
    return parse_rules("rules:\n" + body)


def reading(minutes: float, asset: str = "p1", kind: AssetKind = AssetKind.PUMP, site: str = "s1",
            **metrics: float | bool) -> Reading:
    return Reading(site, kind, asset, at(minutes), dict(metrics))


def run(engine: RuleEngine, readings: list[Reading]) -> list[tuple[str, TransitionKind, float]]:
    return [(rule.id, t.kind, (t.at - T0).total_seconds() / 60)
            for r in readings for rule, _, t in engine.evaluate(r)]


def series(metric: str, values: list[float], start: float = 0, asset: str = "p1") -> list[Reading]:
    return [reading(start + i, asset, **{metric: v}) for i, v in enumerate(values)]


TEMP = """\
  - id: hot
    applies_to: pump
    when: "bearing_temp_c > 80"
    for: 2m
    clear_for: 3m
    deadband: 5
    severity: high
    message: "hot {asset}"
"""


def test_on_delay_and_off_delay_with_a_deadband() -> None:
    engine = RuleEngine(rules(TEMP))
    values = [80, 81, 81, 81, 78, 76, 74, 76, 74, 74, 74, 74]
    #         0   1   2   3   4   5   6   7   8   9   10  11
    # exactly 80 is not over; 81 from minute 1, raised at 3 (2m on-delay); 78 and 76 are inside the
    # deadband (clears under 75); 74 at 6 starts the off-delay, 76 at 7 resets it, 74 from 8 clears at 11.
    assert run(engine, series("bearing_temp_c", values)) == [("hot", RAISE, 3), ("hot", CLEAR, 11)]


def test_deadband_needs_a_simple_comparison() -> None:
    with pytest.raises(ConfigError, match=r"<rules>:5: rule bad: deadband: needs 'when' of the form"):
        rules('  - id: bad\n    applies_to: pump\n    when: "running"\n    deadband: 1\n'
              '    severity: low\n    message: "m"\n')


LIMITS = """\
  - id: pressure
    applies_to: pump
    metric: discharge_bar
    limits: {high_action: 8, high_warning: 7, low_warning: 2, low_action: 1}
    deadband: 0.5
    severity: critical
    warning_severity: low
    message: "pressure {level} at {asset}: {discharge_bar} (limit {limit})"
"""


def test_limits_expand_to_warning_and_action_rules_on_both_sides() -> None:
    found = {rule.id: rule for rule in rules(LIMITS)}
    assert set(found) == {"pressure.high_action", "pressure.high_warning", "pressure.low_warning",
                          "pressure.low_action"}
    assert found["pressure.low_action"].condition.source == "discharge_bar < 1"
    assert found["pressure.low_action"].clear_condition is not None
    assert found["pressure.low_action"].clear_condition.source == "discharge_bar > 1.5"
    assert found["pressure.high_warning"].severity == "low"
    assert found["pressure.high_action"].severity == "critical"
    assert found["pressure.high_action"].render_message("s", "p1", {"discharge_bar": 9}) == \
        "pressure high action at p1: 9 (limit 8)"
    engine = RuleEngine(found.values())
    events = run(engine, series("discharge_bar", [4, 7.5, 9, 7.2, 6.4, 3, 1.8, 0.5, 1.8, 2.6]))
    assert events == [("pressure.high_warning", RAISE, 1), ("pressure.high_action", RAISE, 2),
                      ("pressure.high_action", CLEAR, 3), ("pressure.high_warning", CLEAR, 4),
                      ("pressure.low_warning", RAISE, 6), ("pressure.low_action", RAISE, 7),
                      ("pressure.low_action", CLEAR, 8), ("pressure.low_warning", CLEAR, 9)]


def test_average_over_a_window_rides_through_a_spike() -> None:
    engine = RuleEngine(rules('  - id: vib\n    applies_to: pump\n    when: "avg(vibration_mm_s, 5m) > 4"\n'
                              '    severity: low\n    message: "m"\n'))
    # (2+2+2+2+9)/5 = 3.4: one spike in five minutes stays under 4; a lasting rise does not.
    assert run(engine, series("vibration_mm_s", [2, 2, 2, 2, 9, 2, 2, 2, 2, 2])) == []
    # (2+2+2+6+6)/5 = 3.6 at minute 11, (2+2+6+6+6)/5 = 4.4 at minute 12.
    assert run(engine, series("vibration_mm_s", [6, 6, 6], start=10)) == [("vib", RAISE, 12)]


def test_min_max_delta_and_rate_over_windows() -> None:
    body = ""
    for rule_id, when in [("spread", "max(discharge_bar, 3m) - min(discharge_bar, 3m) > 2"),
                          ("rise", "delta(bearing_temp_c, 10m) > 10"),
                          ("fast", "rate(bearing_temp_c, 5m) * 60 > 3")]:
        body += f'  - id: {rule_id}\n    applies_to: pump\n    when: "{when}"\n    severity: low\n' \
                f'    message: "m"\n'
    engine = RuleEngine(rules(body))
    assert run(engine, series("discharge_bar", [4, 5, 3.5, 5.6])) == [("spread", RAISE, 3)]
    # +2 degC per minute: not fast (over 3/min), but more than 10 degC within 10 minutes from minute 16
    # (window (6, 16]: 52 - 40 = 12; at 15 it is exactly 10).
    temps = [40 + 2 * i for i in range(12)]
    assert run(engine, series("bearing_temp_c", temps, start=10)) == [("rise", RAISE, 16)]
    # At 30 the window (20, 30] holds 62 and 70: delta 8, cleared; a single sample has no rate.
    # At 31, 70 -> 80 in one minute is 10 degC/min.
    assert run(engine, series("bearing_temp_c", [70, 80], start=30)) == [("rise", CLEAR, 30), ("fast", RAISE, 31)]


def test_n_occurrences_within_a_window() -> None:
    engine = RuleEngine(rules('  - id: trips\n    applies_to: pump\n'
                              '    when: "count(motor_current_a > 20, 10m) >= 3"\n'
                              '    severity: low\n    message: "m"\n'))
    current = [25, 5, 5, 25, 5, 5, 5, 5, 5, 5, 5, 25, 25, 5]
    #          0            3                          11  12
    # at 11 the window (1, 11] holds the spikes of 3 and 11 only; at 12 it holds 3, 11, 12; at 13 the
    # spike of 3 has left it.
    assert run(engine, series("motor_current_a", current)) == [("trips", RAISE, 12), ("trips", CLEAR, 13)]


def test_conditions_over_several_metrics_wait_for_all_of_them() -> None:
    engine = RuleEngine(rules('  - id: burst\n    applies_to: pump\n'
                              '    when: "flow_m3h > 55 and discharge_bar < 2"\n'
                              '    severity: low\n    message: "m"\n'))
    assert run(engine, [reading(0, flow_m3h=60.0)]) == []  # pressure unknown: nothing yet
    assert run(engine, [reading(1, discharge_bar=1.0)]) == [("burst", RAISE, 1)]


def test_time_of_day_window_wraps_midnight() -> None:
    engine = RuleEngine(rules('  - id: dark\n    applies_to: lighting\n    during: "19:00-06:00"\n'
                              '    when: "not on"\n    for: 30m\n    severity: low\n    message: "m"\n'))
    lamp = [Reading("s1", AssetKind.LIGHTING, "l1", at(m), {"on": False}) for m in range(0, 24 * 60, 5)]
    events = run(engine, lamp)
    # Off all day: from 00:00 the delay ends at 00:30; at 06:00 the window closes (clear); at 19:00 it
    # opens again and 30 minutes later the alarm is back.
    assert events == [("dark", RAISE, 30), ("dark", CLEAR, 360), ("dark", RAISE, 19 * 60 + 30)]


def test_where_selects_rules_by_asset_attributes() -> None:
    body = ('  - id: small\n    applies_to: pump\n    where: "coalesce(rated_kw, 11) <= 15"\n'
            '    when: "vibration_mm_s > 4.5"\n    severity: low\n    message: "m"\n'
            '  - id: big\n    applies_to: pump\n    where: "rated_kw > 15 and mounting == \'flexible\'"\n'
            '    when: "vibration_mm_s > 7.1"\n    severity: low\n    message: "m"\n')
    assets = [Asset("small", "s1", AssetKind.PUMP, "a", attributes={"rated_kw": 7.5}),
              Asset("big", "s1", AssetKind.PUMP, "b", attributes={"rated_kw": 90.0, "mounting": "flexible"}),
              Asset("odd", "s1", AssetKind.PUMP, "c", attributes={"rated_kw": 90.0})]
    engine = RuleEngine(rules(body), assets)
    stream = [reading(0, asset, vibration_mm_s=6.0) for asset in ("small", "big", "odd", "unregistered")]
    assert [(r.id, rd.asset_id) for x in stream for r, rd, _ in engine.evaluate(x)] == [
        ("small", "small"), ("small", "unregistered")]


OFFLINE = """\
  - id: offline
    applies_to: [pump]
    when: "not device_online or stale()"
    for: 2m
    severity: medium
    message: "{asset} offline"
"""


def test_silence_longer_than_three_report_intervals_is_judged_at_the_watermark() -> None:
    engine = RuleEngine(rules(OFFLINE), [Asset("p1", "s1", AssetKind.PUMP, "p", report_interval_s=60)])
    assert engine.advance_time(at(0)) == []  # never reported: unknown, not stale
    run(engine, [reading(0, flow_m3h=1.0)])
    assert engine.advance_time(at(3)) == []      # exactly 3 intervals is not longer than 3
    assert engine.advance_time(at(3.5)) == []    # stale; the 2-minute on-delay starts
    fired = engine.advance_time(at(5.5))
    assert [(rule.id, r.asset_id, t.kind, t.since) for rule, r, t in fired] == [("offline", "p1", RAISE, at(3.5))]
    assert fired[0][1].metrics == {}  # a synthetic reading: the firing's time is the watermark
    assert engine.advance_time(at(5)) == []      # a watermark never goes back
    assert run(engine, [reading(6, flow_m3h=1.0)]) == [("offline", CLEAR, 6)]


def test_the_stream_watermark_follows_the_newest_reading_not_a_clock() -> None:
    engine = RuleEngine(rules(OFFLINE), allowed_lateness=timedelta(minutes=2))
    assert engine.stream_watermark is None
    run(engine, [reading(10, "p1", flow_m3h=1.0), reading(4, "p2", flow_m3h=1.0), reading(3, "p1", flow_m3h=1.0)])
    assert engine.stream_watermark == at(8)  # newest 10 minus 2; the late reading of p1 changes nothing


def test_the_mqtt_last_will_takes_a_device_offline_and_a_reading_brings_it_back() -> None:
    engine = RuleEngine(rules(OFFLINE), [Asset("p1", "s1", AssetKind.PUMP, "p")])
    run(engine, [reading(0, flow_m3h=1.0)])
    assert engine.device_status("p1", "offline", at(0.5)) == []
    assert [(r.id, t.kind) for r, _, t in engine.device_status("p1", "offline", at(2.5))] == [("offline", RAISE)]
    assert engine.device_status("nobody", "offline", at(3)) == []
    assert engine.unknown_status == 1
    assert run(engine, [reading(3, flow_m3h=1.0)]) == [("offline", CLEAR, 3)]


SITE = """\
  - id: cut
    scope: site
    applies_to: [pump, lighting]
    when: "not mains_ok"
    quorum: 0.6
    within: 30s
    severity: critical
    message: "cut at {site}: {count:.0f} of {total:.0f}"
"""


def _site_assets(site: str = "s1", n: int = 5) -> list[Asset]:
    return [Asset(f"{site}-p{i}", site, AssetKind.PUMP, "p") for i in range(n)]


def test_most_assets_of_a_site_losing_mains_together_raise_one_site_alarm() -> None:
    engine = RuleEngine(rules(SITE), _site_assets() + _site_assets("s2"))
    ok = [Reading("s1", AssetKind.PUMP, f"s1-p{i}", at(0), {"mains_ok": True}) for i in range(5)]
    cut = [Reading("s1", AssetKind.PUMP, f"s1-p{i}", at(1) + timedelta(seconds=5 * i), {"mains_ok": False})
           for i in range(4)]
    fired = [f for r in ok + cut for f in engine.evaluate(r)]
    assert len(fired) == 1  # 3 of 5 is the quorum (0.6): raised on the 3rd asset, once
    rule, site_reading, transition = fired[0]
    assert (rule.id, site_reading.asset_id, site_reading.site_id) == ("cut", "s1", "s1")
    assert transition.scope is Scope.SITE
    assert transition.assets == ("s1-p0", "s1-p1", "s1-p2")
    assert transition.at == at(1) + timedelta(seconds=10)
    assert rule.render_message("s1", "s1", engine.values("s1")) == "cut at s1: 4 of 5"
    back = [Reading("s1", AssetKind.PUMP, f"s1-p{i}", at(5), {"mains_ok": True}) for i in range(4)]
    cleared = [(t.kind, t.at) for r in back for _, _, t in engine.evaluate(r)]
    assert cleared == [(CLEAR, at(5))]  # 2 of 5 still out after the second asset is back


def test_assets_losing_mains_far_apart_are_not_a_site_power_cut() -> None:
    engine = RuleEngine(rules(SITE), _site_assets())
    cut = [Reading("s1", AssetKind.PUMP, f"s1-p{i}", at(10 * i), {"mains_ok": False}) for i in range(5)]
    assert [f for r in cut for f in engine.evaluate(r)] == []


def test_a_gap_in_the_data_does_not_reset_the_on_delay() -> None:
    engine = RuleEngine(rules(TEMP))
    # 81 at minute 0, nothing for 30 minutes, 81 again: the delay completes on the first reading after the gap.
    assert run(engine, series("bearing_temp_c", [81]) + series("bearing_temp_c", [81], start=30)) == [
        ("hot", RAISE, 30)]


def test_windows_stay_bounded_whatever_the_stream() -> None:
    from rules.windows import MAX_SAMPLES, Window

    window = Window(horizon_s=600)
    for second in range(0, 100_000, 10):
        window.add(float(second), 1.0)
    assert len(window.times) <= 64 + 61  # the 10-minute horizon at 10 s, plus slack before trimming
    huge = Window(horizon_s=10**9)
    for second in range(MAX_SAMPLES + 500):
        huge.add(float(second), 1.0)
    assert len(huge.times) == MAX_SAMPLES
    huge.add(3000.5, 2.0)  # a late sample goes in order
    index = huge.times.index(3000.5)
    assert huge.times[index - 1] == 3000.0
    assert huge.times[index + 1] == 3001.0
    assert huge.values[index] == 2.0
    huge.add(3000.5, 3.0)  # a duplicate replaces
    assert huge.values[index] == 3.0
    assert len(huge.times) == MAX_SAMPLES + 1
