"""pump_pair_no_supply: a duty/standby pair with no pump delivering water (issue 4 item 6), and the
engine's group rules (``group_by``) it is built on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, MetricValue, Reading, Severity, WorkOrderKind, WorkOrderPriority
from core.errors import ConfigError
from core.events import EventBus
from rules.engine import Firing, RuleEngine, TransitionKind
from rules.model import Scope
from rules.pack import default_rules, parse_rules
from rules.service import RulesService
from simulators.portfolio import default_portfolio
from simulators.scenario import DEMO_START, Fault, Scenario
from storage.records import Database
from workorders.book import WorkOrderBook

RULE = "pump_pair_no_supply"
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
RUNNING: dict[str, MetricValue] = {
    "flow_m3h": 30.0, "discharge_bar": 4.5, "suction_bar": 1.0, "vibration_mm_s": 1.5, "bearing_temp_c": 50.0,
    "running": True, "mains_ok": True}
STANDING: dict[str, MetricValue] = {**RUNNING, "flow_m3h": 0.0, "discharge_bar": 1.0, "vibration_mm_s": 0.3,
                                    "running": False}
NO_FLOW: dict[str, MetricValue] = {**RUNNING, "flow_m3h": 0.0}  # running, suction present, nothing moves


ASSETS = [Asset(asset_id, "s1", AssetKind.PUMP, asset_id, attributes={"duty_pair": pair, "role": role, "rated_kw": 7.5})
          for asset_id, pair, role in (("p1", "zone", "duty"), ("p2", "zone", "standby"),
                                       ("p3", "other", "duty"), ("p4", "other", "standby"))]


def pump(asset_id: str, second: int, metrics: dict[str, MetricValue]) -> Reading:
    return Reading("s1", AssetKind.PUMP, asset_id, T0 + timedelta(seconds=second), dict(metrics))


def pair_stream(minutes: int, duty: dict[int, dict[str, MetricValue]],
                standby: dict[int, dict[str, MetricValue]]) -> list[Reading]:
    """Pumps report every 60 s (duty p1 on the minute, standby p2 30 s later; pair 'other' healthy).
    ``duty``/``standby`` map the minute from which on a pump reports the given metrics."""
    def at(changes: dict[int, dict[str, MetricValue]], minute: int, default: dict[str, MetricValue]
           ) -> dict[str, MetricValue]:
        current = default
        for start in sorted(changes):
            if minute >= start:
                current = changes[start]
        return current

    readings = []
    for m in range(minutes):
        readings.append(pump("p1", m * 60, at(duty, m, RUNNING)))
        readings.append(pump("p3", m * 60 + 10, RUNNING))
        readings.append(pump("p2", m * 60 + 30, at(standby, m, STANDING)))
        readings.append(pump("p4", m * 60 + 40, STANDING))
    return readings


def firings(readings: list[Reading]) -> list[Firing]:
    engine = RuleEngine(default_rules(), ASSETS)
    return [firing for reading in readings for firing in engine.evaluate(reading)]


def pair_firings(readings: list[Reading]) -> list[tuple[TransitionKind, str, str, datetime, tuple[str, ...]]]:
    return [(t.kind, reading.site_id, reading.asset_id, t.at, t.assets)
            for rule, reading, t in firings(readings) if rule.id == RULE]


def test_the_rule_is_a_critical_group_rule_per_duty_pair_with_an_emergency_work_order() -> None:
    rule = {rule.id: rule for rule in default_rules()}[RULE]
    assert (rule.scope, rule.group_by, rule.quorum) == (Scope.SITE, "duty_pair", 1.0)
    assert rule.for_ == timedelta(minutes=3)
    assert rule.severity is Severity.CRITICAL
    assert rule.work_order is not None
    assert (rule.work_order.kind, rule.work_order.priority) == (WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY)
    assert rule.suppressed_by == {"site_power_cut"}


def test_duty_stops_and_standby_stays_off_raises_one_alarm_for_the_pair_after_three_minutes() -> None:
    # p1 stops at minute 10 (600 s); p2 stands still throughout; the pair 'other' stays healthy.
    found = pair_firings(pair_stream(30, duty={10: STANDING}, standby={}))
    onset = T0 + timedelta(minutes=10)
    assert found == [(TransitionKind.RAISE, "s1", "s1/zone", onset + timedelta(minutes=3), ("p1", "p2"))]


def test_duty_running_without_flow_counts_as_failed() -> None:
    found = pair_firings(pair_stream(30, duty={10: NO_FLOW}, standby={}))
    assert [(kind, key) for kind, _site, key, _at, _assets in found] == [(TransitionKind.RAISE, "s1/zone")]


def test_standby_taking_over_raises_nothing() -> None:
    # p1 stops at minute 10; p2 starts at minute 10 (30 s later) and delivers water.
    assert pair_firings(pair_stream(60, duty={10: STANDING}, standby={10: RUNNING})) == []


def test_standby_taking_over_late_ends_the_emergency() -> None:
    found = pair_firings(pair_stream(60, duty={10: STANDING}, standby={20: RUNNING}))
    assert [(kind, at) for kind, _site, _key, at, _assets in found] == [
        (TransitionKind.RAISE, T0 + timedelta(minutes=13)),
        (TransitionKind.CLEAR, T0 + timedelta(minutes=20, seconds=30))]


def test_the_on_delay_boundary() -> None:
    # Both stopped from 600 s. A reading of p1 at exactly 600 + 180 s raises, one at 779 s does not.
    quiet = [pump("p2", 0, STANDING), pump("p1", 600, STANDING), pump("p1", 779, STANDING),
             pump("p1", 790, RUNNING)]
    assert pair_firings(quiet) == []
    exact = [pump("p2", 0, STANDING), pump("p1", 600, STANDING), pump("p1", 779, STANDING),
             pump("p1", 780, STANDING)]
    assert [(kind, at) for kind, _site, _key, at, _assets in pair_firings(exact)] == [
        (TransitionKind.RAISE, T0 + timedelta(seconds=780))]


def test_dry_running_is_its_own_alarm_not_a_pair_emergency() -> None:
    dry = {**RUNNING, "flow_m3h": 0.5, "suction_bar": 0.05}
    raised = {(rule.id, reading.asset_id) for rule, reading, t in firings(pair_stream(30, {10: dry}, {}))
              if t.kind is TransitionKind.RAISE}
    assert raised == {("pump_dry_running", "p1")}


def test_a_pump_without_the_attribute_is_no_member_and_pairs_do_not_mix() -> None:
    lone = Asset("p9", "s1", AssetKind.PUMP, "p9", attributes={"rated_kw": 7.5})
    engine = RuleEngine(default_rules(), [*ASSETS, lone])
    readings = [pump("p9", m * 60, STANDING) for m in range(20)]
    # The healthy pair 'other' and a stopped pump of pair 'zone' whose partner runs: nothing.
    readings += [pump("p3", m * 60, STANDING) for m in range(20)]
    readings += [pump("p4", m * 60 + 1, RUNNING) for m in range(20)]
    readings.sort(key=lambda reading: reading.at)
    assert [f for r in readings for f in engine.evaluate(r) if f[0].id == RULE] == []


def test_group_state_survives_a_snapshot() -> None:
    readings = pair_stream(30, duty={10: STANDING}, standby={})
    engine = RuleEngine(default_rules(), ASSETS)
    for reading in readings[:48]:  # minute 12: the on-delay is running
        assert [f for f in engine.evaluate(reading) if f[0].id == RULE] == []
    restored = RuleEngine(default_rules(), ASSETS)
    restored.restore(engine.snapshot())
    found = [(r.asset_id, t.at) for reading in readings[48:] for rule, r, t in restored.evaluate(reading)
             if rule.id == RULE]
    assert found == [("s1/zone", T0 + timedelta(minutes=13))]


def test_group_by_is_checked_when_loading() -> None:
    base = "rules:\n  - {id: r, applies_to: pump, when: 'not running', severity: high, message: m, %s}\n"
    with pytest.raises(ConfigError, match="group_by"):
        parse_rules(base % "group_by: duty_pair")  # an asset rule
    with pytest.raises(ConfigError, match="group_by"):
        parse_rules(base % "scope: site, group_by: '1 bad'")
    [rule] = parse_rules(base % "scope: site, group_by: duty_pair")
    assert rule.within == timedelta.max  # without `within`, a group's onsets need not cluster
    [rule] = parse_rules(base % "scope: site, group_by: duty_pair, within: 5m")
    assert rule.within == timedelta(minutes=5)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'records.db'}")
    database.upgrade()
    yield database
    database.dispose()


def test_the_service_opens_one_emergency_work_order_for_the_pair(db: Database) -> None:
    bus, clock = EventBus(), ManualClock(T0)
    service = RulesService(default_rules(), db, WorkOrderBook(db, bus, clock), bus, clock)
    service.engine.register(ASSETS)
    service.process(pair_stream(30, duty={10: STANDING}, standby={}))
    [alarm] = db.alarms.list()
    [work_order] = db.work_orders.list()
    assert (alarm.rule_id, alarm.asset_id, alarm.site_id) == (RULE, "s1/zone", "s1")
    assert alarm.severity is Severity.CRITICAL
    assert alarm.message.startswith("No water supply from pump pair s1/zone: 2 of 2 pumps")
    assert (work_order.kind, work_order.priority) == (WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY)
    assert work_order.alarm_id == alarm.id
    # Filed under the site, not the pseudo asset "s1/zone", with the pair's pumps as its assets.
    assert (work_order.asset_id, work_order.site_id) == (None, "s1")
    assert work_order.related_assets == tuple(sorted(a.id for a in ASSETS if a.attributes.get("duty_pair") == "zone"))
    assert work_order.title.endswith("(site s1)")


def simulate(assets: list[Asset], length: timedelta, scenario: Scenario | None = None) -> list[Firing]:
    from simulators.simulation import Simulation

    portfolio = default_portfolio()
    portfolio = dataclasses.replace(portfolio, assets=assets)
    sim = Simulation(portfolio, DEMO_START, seed=7, scenario=scenario)
    engine = RuleEngine(default_rules(), portfolio.assets)
    found: list[Firing] = []
    now = DEMO_START
    while now < DEMO_START + length:
        now += timedelta(minutes=1)
        for reading in sim.due(now):
            found += engine.evaluate(reading)
    return found


def test_simulated_pair_with_no_duty_pump_raises_one_pair_alarm() -> None:
    # The simulators have no fault that stops one pump; a pair configured with two standby pumps is the
    # same thing on the wire: nobody runs. Only that pair alarms (the pumps themselves are healthy).
    assets = [dataclasses.replace(a, attributes={**a.attributes, "role": "standby"})
              if a.id == "harbour-pump-1" else a for a in default_portfolio().assets]
    found = simulate(assets, timedelta(hours=1))
    assert [(rule.id, reading.asset_id, t.kind) for rule, reading, t in found] == [
        (RULE, "harbour/cold-water", TransitionKind.RAISE)]


def test_simulated_power_cut_pair_alarm_is_explained_by_the_site_alarm() -> None:
    scenario = Scenario((Fault("power_cut", "harbour", timedelta(hours=1), timedelta(minutes=20)),))
    found = simulate(default_portfolio().assets, timedelta(hours=2), scenario)
    raises = [(rule.id, reading.asset_id, t.at) for rule, reading, t in found if t.kind is TransitionKind.RAISE]
    pair = [at for rule_id, key, at in raises if rule_id == RULE]
    site = [at for rule_id, _key, at in raises if rule_id == "site_power_cut"]
    assert len(pair) == 1
    assert len(site) == 1
    assert {key for rule_id, key, _at in raises if rule_id == RULE} == {"harbour/cold-water"}
    assert site[0] <= pair[0]  # the cause is there first, so the pair alarm is suppressed, no second work order
