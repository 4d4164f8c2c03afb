"""The alarm side of RulesService on a real records database: muting, shelving, out of service, the
collector's hold, chatter, work orders, checkpoints across a restart (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import ManualClock
from core.domain import (
    AlarmState,
    AssetKind,
    MaintenanceWindow,
    Reading,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from core.errors import ConfigError, TransitionError
from core.events import Event, EventBus
from rules.pack import default_rules, parse_rules
from rules.service import COLLECTOR_ASSET, COLLECTOR_RULE, PORTFOLIO_RULE, RulesService
from storage.records import Database
from tests.records import BACKENDS
from workorders.book import Step, WorkOrderBook

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # daytime: lighting is off by schedule
PUMP = {"flow_m3h": 30.0, "discharge_bar": 4.5, "suction_bar": 1.0, "vibration_mm_s": 1.5,
        "bearing_temp_c": 50.0, "running": True, "mains_ok": True}
LIGHT = {"on": False, "power_w": 0.0, "current_a": 0.0, "driver_temp_c": 25.0, "failed_lamps": 0,
         "voltage_v": 230.0, "mains_ok": True}
LIFT = {"door_close_s": 3.0, "door_reopenings": 0, "in_service": True, "alarm_button": False,
        "occupied": False, "leveling_error_mm": 1.0, "mains_ok": True}
SITE_ASSETS = ([(f"pump-{i}", AssetKind.PUMP, PUMP) for i in range(3)]
               + [(f"light-{i}", AssetKind.LIGHTING, LIGHT) for i in range(5)]
               + [("lift-0", AssetKind.ELEVATOR, LIFT)])
BURST = {**PUMP, "flow_m3h": 62.0, "discharge_bar": 1.2}
DRY = {**PUMP, "flow_m3h": 0.5, "suction_bar": 0.1}  # pump_dry_running: not safety-critical
VIB_10M = """
rules:
  - id: vib_high
    applies_to: pump
    when: "vibration_mm_s > 7.1"
    for: 10m
    severity: high
    message: "vibration {vibration_mm_s}"
"""

VIB_NO_DELAY = """
rules:
  - id: vib
    applies_to: pump
    when: "vibration_mm_s > 7"
    severity: high
    message: "vibration {vibration_mm_s}"
"""

def without_mains(kind: AssetKind, metrics: dict[str, Any]) -> dict[str, Any]:
    cut = {**metrics, "mains_ok": False}
    if kind is AssetKind.PUMP:
        cut.update(running=False, flow_m3h=0.0, discharge_bar=0.0)
    elif kind is AssetKind.ELEVATOR:
        cut.update(in_service=False)
    return cut

def pump(minute: float, metrics: dict[str, Any], asset: str = "pump-0") -> Reading:
    return Reading("site-a", AssetKind.PUMP, asset, T0 + timedelta(minutes=minute), dict(metrics))

def open_db(url: str) -> Database:
    database = Database(url)
    database.upgrade()
    return database

@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(f"sqlite:///{tmp_path / 'records.db'}")
    yield database
    database.dispose()

class Harness:
    def __init__(self, db: Database, rules: Any = None) -> None:
        self.db = db
        self.bus = EventBus()
        self.clock = ManualClock(T0)
        self.events: list[Event] = []
        self.bus.subscribe(self.events.append, "alarm.")
        self.book = WorkOrderBook(db, self.bus, self.clock)
        self.rules = default_rules() if rules is None else rules
        self.service = self.new_service()

    def new_service(self) -> RulesService:
        return RulesService(self.rules, self.db, self.book, self.bus, self.clock, grace=timedelta(minutes=5))

    def feed(self, readings: list[Reading]) -> None:
        for reading in readings:
            if reading.at > self.clock.now():
                self.clock.advance(reading.at - self.clock.now())
            self.service.process([reading])

    def burst(self, start: float = 0, asset: str = "pump-0") -> None:
        self.feed([pump(start + m, PUMP, asset) for m in range(2)]
                  + [pump(start + m, BURST, asset) for m in range(2, 6)])

    def dry_run(self, start: float = 0, asset: str = "pump-0", site: str = "site-a") -> None:
        self.feed([Reading(site, AssetKind.PUMP, asset, T0 + timedelta(minutes=start + m), PUMP if m < 2 else DRY)
                   for m in range(6)])

# --- power cut: one site alarm, not a flood -----------------------------------------------------------

def test_power_cut_raises_one_site_alarm_with_the_mains_alarms_suppressed_under_it(db: Database) -> None:
    harness = Harness(db)
    for minute in range(20):
        at = T0 + timedelta(minutes=minute)
        harness.feed([Reading("site-a", kind, asset, at, without_mains(kind, m) if minute >= 5 else m)
                      for asset, kind, m in SITE_ASSETS])

    shown = db.alarms.list(suppressed=False)
    assert [(a.rule_id, a.asset_id) for a in shown] == [("site_power_cut", "site-a")]
    [cut] = shown
    assert cut.state is AlarmState.UNACKNOWLEDGED
    under = db.alarms.list(suppressed_by=cut.id)
    assert sorted(a.asset_id for a in under) == sorted(asset for asset, _kind, _m in SITE_ASSETS)
    assert {a.rule_id for a in under} == {"mains_lost"}
    [work_order] = db.work_orders.list()  # only the site's emergency order; none per pump or light
    assert (work_order.kind, work_order.priority) == (WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY)
    assert (work_order.alarm_id, cut.work_order_id) == (cut.id, work_order.id)

def test_when_the_power_returns_only_alarms_still_active_are_shown_again(db: Database) -> None:
    harness = Harness(db)
    for minute in range(30):
        at = T0 + timedelta(minutes=minute)
        cut = 5 <= minute < 20
        # pump-2's own breaker stays tripped after the mains return: a real fault of its own.
        harness.feed([Reading("site-a", kind, asset, at,
                              without_mains(kind, m) if cut or (asset == "pump-2" and minute >= 5) else m)
                      for asset, kind, m in SITE_ASSETS])
    harness.service.tick()  # the cause cleared ten minutes ago: what is still active is shown again
    [site] = [a for a in db.alarms.list() if a.rule_id == "site_power_cut"]
    assert site.state is AlarmState.RTN_UNACKNOWLEDGED
    shown = sorted((a.rule_id, a.asset_id) for a in db.alarms.list(suppressed=False))
    assert shown == [("mains_lost", "pump-2"), ("site_power_cut", "site-a")]
    under = db.alarms.list(suppressed_by=site.id)
    assert len(under) == len(SITE_ASSETS) - 1  # the others returned to normal with the cut and stay under it
    assert all(a.state is AlarmState.RTN_UNACKNOWLEDGED for a in under)

# --- shelving -------------------------------------------------------------------------------------------

def test_shelve_records_who_and_expires_on_the_clock(db: Database) -> None:
    harness = Harness(db)
    harness.burst()
    [alarm] = db.alarms.list()
    until = harness.clock.now() + timedelta(hours=1)
    shelved = harness.service.shelve(alarm.id, until, "sensor being replaced", "ana")
    assert (shelved.shelved_until, shelved.shelve_reason) == (until, "sensor being replaced")
    assert db.alarms.list(shelved=True) == [shelved]
    harness.service.tick(until - timedelta(seconds=1))
    assert db.alarms.get(alarm.id).shelved_until == until
    harness.service.tick(until)
    assert db.alarms.get(alarm.id).shelved_until is None
    notes = [(e.actor, e.note) for e in db.alarms.history(alarm.id)]
    assert ("ana", f"shelved until {until.isoformat()}: sensor being replaced") in notes
    assert ("rules", "unshelved: shelf expired") in notes
    assert harness.service.stats()["shelves_expired"] == 1

@pytest.mark.parametrize(("offset", "reason"), [(timedelta(0), "past"), (timedelta(days=8), "longer than")])
def test_shelve_until_now_or_beyond_a_week_is_refused(db: Database, offset: timedelta, reason: str) -> None:
    harness = Harness(db)
    harness.burst()
    [alarm] = db.alarms.list()
    with pytest.raises(TransitionError, match=reason):
        harness.service.shelve(alarm.id, harness.clock.now() + offset, "x", "ana")

def test_unshelve_without_a_shelf_is_a_no_op_and_normal_alarms_cannot_be_shelved_or_assigned(db: Database) -> None:
    harness = Harness(db)
    harness.burst()
    [alarm] = db.alarms.list()
    assert harness.service.unshelve(alarm.id, "ana") == alarm
    assert len(db.alarms.history(alarm.id)) == 1  # nothing recorded
    harness.service.acknowledge(alarm.id, "ana")
    harness.feed([pump(10 + m, PUMP) for m in range(10)])
    assert db.alarms.get(alarm.id).state is AlarmState.NORMAL
    with pytest.raises(TransitionError, match="'normal' to 'shelved'"):
        harness.service.shelve(alarm.id, harness.clock.now() + timedelta(hours=1), "x", "ana")
    with pytest.raises(TransitionError, match="'normal' to 'assigned'"):
        harness.service.assign(alarm.id, "bo", "ana")

def test_a_shelved_episode_raised_again_stays_shelved_and_opens_no_work_order(db: Database) -> None:
    rules = parse_rules("""
rules:
  - id: vib
    applies_to: pump
    when: "vibration_mm_s > 7"
    severity: high
    message: "vibration {vibration_mm_s}"
    work_order: {kind: corrective, priority: urgent, title: "Vibration at {asset}"}
""")
    harness = Harness(db, rules)
    harness.feed([pump(0, {**PUMP, "vibration_mm_s": 9.0})])
    [alarm] = db.alarms.list()
    assert alarm.work_order_id is not None
    harness.service.shelve(alarm.id, T0 + timedelta(hours=2), "noisy", "ana")
    harness.feed([pump(5, PUMP), pump(10, {**PUMP, "vibration_mm_s": 9.0})])
    again = db.alarms.get(alarm.id)
    assert (again.state, again.occurrences, again.shelved_until) == (AlarmState.UNACKNOWLEDGED, 2,
                                                                     T0 + timedelta(hours=2))
    assert db.work_orders.count() == 1

def test_assign_records_the_assignee(db: Database) -> None:
    harness = Harness(db)
    harness.burst()
    [alarm] = db.alarms.list()
    assert harness.service.assign(alarm.id, "bo", "ana").assignee == "bo"
    assert db.alarms.history(alarm.id)[-1].note == "assigned to bo"
    assert harness.service.assign(alarm.id, None, "ana").assignee is None

# --- out of service -------------------------------------------------------------------------------------

def test_alarm_in_a_maintenance_window_is_out_of_service_and_opens_no_work_order(db: Database) -> None:
    harness = Harness(db)
    window = db.maintenance.add(MaintenanceWindow(0, "site-a", "pump-0", T0, T0 + timedelta(hours=1),
                                                  "impeller swap"))
    harness.dry_run()
    [alarm] = db.alarms.list()
    assert alarm.out_of_service.startswith(f"maintenance window #{window.id}")
    assert db.work_orders.count() == 0
    harness.clock.advance(T0 + timedelta(hours=1) - harness.clock.now())
    harness.service.tick()  # the window is over: back in service, and still active: its order now
    assert db.alarms.get(alarm.id).out_of_service == ""
    assert db.alarms.get(alarm.id).work_order_id is not None

def test_a_site_wide_window_covers_every_asset_of_the_site_only(db: Database) -> None:
    harness = Harness(db)
    db.maintenance.add(MaintenanceWindow(0, "site-a", None, T0, T0 + timedelta(hours=1), "shutdown"))
    harness.dry_run(asset="pump-0")
    harness.dry_run(10, asset="pump-b", site="site-b")
    by_asset = {a.asset_id: a for a in db.alarms.list()}
    assert by_asset["pump-0"].out_of_service != ""
    assert by_asset["pump-b"].out_of_service == ""
    [work_order] = db.work_orders.list()
    assert work_order.asset_id == "pump-b"

def test_work_order_on_site_puts_the_assets_alarms_out_of_service_until_completed(db: Database) -> None:
    harness = Harness(db)
    harness.bus.subscribe(harness.service.on_event, "workorder.")
    harness.dry_run()
    [alarm] = db.alarms.list()
    assert alarm.work_order_id is not None
    assert alarm.out_of_service == ""
    harness.book.transition(alarm.work_order_id, Step(WorkOrderStatus.DISPATCHED, "desk", assignee="tech"))
    harness.book.transition(alarm.work_order_id, Step(WorkOrderStatus.ACCEPTED, "tech"))
    assert db.alarms.get(alarm.id).out_of_service == ""  # accepted: nobody at the asset yet
    harness.book.transition(alarm.work_order_id, Step(WorkOrderStatus.ON_SITE, "tech"))
    assert db.alarms.get(alarm.id).out_of_service == f"work order #{alarm.work_order_id} in progress"
    harness.book.transition(alarm.work_order_id, Step(WorkOrderStatus.IN_PROGRESS, "tech"))
    assert db.alarms.get(alarm.id).out_of_service == f"work order #{alarm.work_order_id} in progress"
    harness.book.transition(alarm.work_order_id, Step(WorkOrderStatus.COMPLETED, "tech", failure_code="control",
                                                      cause="suction valve shut", remedy="opened it",
                                                      labour_hours=0.5))
    assert db.alarms.get(alarm.id).out_of_service == ""
    assert db.work_orders.count() == 1  # the alarm had its order: none owed

# --- the collector's own outage ---------------------------------------------------------------------------

def report_each_minute(harness: Harness, minutes: int, asset: str) -> None:
    for _ in range(minutes):
        harness.feed([pump((harness.clock.now() + timedelta(minutes=1) - T0).total_seconds() / 60, PUMP, asset)])

def test_collector_outage_raises_its_own_alarm_and_holds_offline_alarms_until_the_grace_ends(
        db: Database) -> None:
    harness = Harness(db)
    service = harness.service
    harness.bus.subscribe(service.on_event, "collector.status")
    harness.bus.subscribe(service.on_event, "device.status")
    harness.bus.publish("collector.status", {"connected": True, "backlog": 0, "lagging": False,
                                             "since": T0.isoformat()})
    harness.feed([pump(0, PUMP), pump(1, PUMP), pump(1, PUMP, "pump-1")])
    harness.bus.publish("collector.status", {"connected": False, "backlog": 0, "lagging": False,
                                             "since": T0.isoformat()})
    collector = db.alarms.find_open(COLLECTOR_RULE, COLLECTOR_ASSET)
    assert collector is not None
    assert "lost its MQTT broker" in collector.message
    harness.clock.advance(timedelta(hours=1))
    service.tick()  # an hour without data: no no-data alarm while the collector is down
    assert [a.rule_id for a in db.alarms.list()] == [COLLECTOR_RULE]
    assert service.stats()["held_ticks"] == 1

    harness.bus.publish("collector.status", {"connected": True, "backlog": 0, "lagging": False,
                                             "since": harness.clock.now().isoformat()})
    assert db.alarms.get(collector.id).state is AlarmState.RTN_UNACKNOWLEDGED
    harness.bus.publish("device.status", {"asset_id": "pump-0", "status": "offline"})
    harness.clock.advance(timedelta(minutes=3))
    harness.bus.publish("device.status", {"asset_id": "pump-0", "status": "offline"})
    service.tick()  # still in the grace period: pump-0's offline alarm is recorded, held under ours
    [held] = [a for a in db.alarms.list() if a.rule_id != COLLECTOR_RULE]
    assert (held.asset_id, held.suppressed_by) == ("pump-0", collector.id)
    assert db.alarms.list(suppressed=False) == [db.alarms.get(collector.id)]
    # Data flows again (pump-2 reports), so the stream's watermark moves on with the clock.
    report_each_minute(harness, 10, "pump-2")
    service.tick()  # grace over: the no-data rules judge again, the held alarm is shown
    assert service.stats()["held_ticks"] == 2
    report_each_minute(harness, 3, "pump-2")
    service.tick()  # pump-1 silent past the on-delay
    later = [a for a in db.alarms.list(suppressed=False) if a.rule_id != COLLECTOR_RULE]
    assert sorted(a.asset_id for a in later) == ["pump-0", "pump-1"]
    assert all(a.state is AlarmState.UNACKNOWLEDGED for a in later)

def test_lagging_collector_also_holds(db: Database) -> None:
    harness = Harness(db)
    harness.service.collector_status(connected=True, lagging=False)
    harness.service.collector_status(connected=True, lagging=True)
    assert harness.service.holding_absence
    alarm = db.alarms.find_open(COLLECTOR_RULE, COLLECTOR_ASSET)
    assert alarm is not None
    assert "lagging" in alarm.message

def test_starting_up_is_no_outage_unless_the_broker_stays_away_past_the_grace(db: Database) -> None:
    harness = Harness(db)
    service = harness.service
    service.collector_status(connected=False, lagging=False)  # the first report, before connecting
    assert service.holding_absence
    assert db.alarms.count() == 0
    harness.clock.advance(timedelta(minutes=4))
    service.tick()
    assert db.alarms.count() == 0
    harness.clock.advance(timedelta(minutes=1))
    service.tick()  # 5 minutes and still no broker: now it is an outage of ours
    service.tick()
    [alarm] = db.alarms.list()
    assert (alarm.rule_id, alarm.state) == (COLLECTOR_RULE, AlarmState.UNACKNOWLEDGED)
    assert service.stats()["collector_alarms"] == 1

def test_a_normal_start_raises_no_collector_alarm(db: Database) -> None:
    harness = Harness(db)
    harness.service.collector_status(connected=False, lagging=False)
    harness.service.collector_status(connected=True, lagging=False)
    assert harness.service.holding_absence  # the grace period after start
    harness.clock.advance(timedelta(minutes=5))
    assert not harness.service.holding_absence
    assert db.alarms.count() == 0

# --- chatter ----------------------------------------------------------------------------------------------

def test_an_alarm_toggling_three_times_in_a_minute_is_marked_chattering(db: Database) -> None:
    rules = parse_rules(VIB_NO_DELAY)
    harness = Harness(db, rules)
    values = [9.0, 1.0, 9.0, 1.0]  # raise, clear, raise, clear within 45 s
    harness.feed([pump(i * 0.25, {**PUMP, "vibration_mm_s": v}) for i, v in enumerate(values)])
    [alarm] = db.alarms.list()
    assert alarm.chattering
    assert harness.service.stats()["alarms_chattering"] == 1

def test_two_toggles_in_a_minute_are_not_chatter(db: Database) -> None:
    rules = parse_rules(VIB_NO_DELAY)
    harness = Harness(db, rules)
    harness.feed([pump(i * 0.75, {**PUMP, "vibration_mm_s": v}) for i, v in enumerate([9.0, 1.0, 9.0])])
    assert not db.alarms.list()[0].chattering

# --- work orders -------------------------------------------------------------------------------------------

def test_exactly_one_work_order_per_episode_across_reraises_and_restarts(db: Database) -> None:
    harness = Harness(db)
    harness.burst(0)
    harness.feed([pump(10 + m, PUMP) for m in range(10)])
    harness.burst(30)  # re-raised while returned-to-normal-unacknowledged: same episode
    harness.service = harness.new_service()
    harness.burst(0)
    [alarm] = db.alarms.list()
    assert alarm.occurrences == 2
    [work_order] = db.work_orders.list()
    assert (alarm.work_order_id, work_order.alarm_id) == (work_order.id, alarm.id)

# --- checkpoints ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_restart_in_the_middle_of_an_on_delay_continues_the_timer(request: pytest.FixtureRequest,
                                                                  tmp_path: Path, backend: str) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    vib = {**PUMP, "vibration_mm_s": 9.0}
    first = open_db(url)
    harness = Harness(first, parse_rules(VIB_10M))
    harness.feed([pump(m, vib) for m in range(6)])  # 5 of 10 minutes elapsed
    harness.service.checkpoint()
    first.dispose()

    second = open_db(url)
    restarted = Harness(second, parse_rules(VIB_10M))
    assert restarted.service.restore()
    restarted.feed([pump(m, vib) for m in range(6, 11)])  # 10 minutes since the condition began
    [alarm] = second.alarms.list()
    assert (alarm.rule_id, alarm.started_at) == ("vib_high", T0 + timedelta(minutes=10))

    restarted.feed([pump(m, vib) for m in range(11, 16)])
    assert len(second.alarms.list()) == 1  # the active alarm is not raised twice
    assert restarted.service.stats()["duplicate_raises"] == 0

    fresh = Harness(second, parse_rules(VIB_10M))  # without the checkpoint the timer starts over
    fresh.feed([pump(m, vib) for m in range(6, 11)])
    state = fresh.service.engine.state("vib_high", "pump-0")
    assert state is not None
    assert state.pending_since == T0 + timedelta(minutes=6)
    assert not state.active
    second.dispose()

def test_restored_active_alarm_is_not_raised_twice(db: Database) -> None:
    harness = Harness(db)
    harness.burst()
    harness.service.checkpoint()
    restarted = harness.new_service()
    assert restarted.restore()
    restarted.process([pump(6 + m, BURST) for m in range(5)])
    assert restarted.stats()["duplicate_raises"] == 0  # the engine knew the alarm was active
    assert restarted.stats()["alarms_raised"] == 0
    assert db.alarms.count() == 1

def test_restore_without_a_checkpoint_says_so(db: Database) -> None:
    assert not Harness(db).service.restore()

# --- reload ------------------------------------------------------------------------------------------------

def test_reload_without_a_source_is_a_config_error_and_with_one_keeps_timers(db: Database) -> None:
    harness = Harness(db)
    with pytest.raises(ConfigError, match="no rule source"):
        harness.service.reload()
    service = RulesService(parse_rules(VIB_10M), db, harness.book, harness.bus, harness.clock,
                           source=lambda: parse_rules(VIB_10M))
    service.process([pump(m, {**PUMP, "vibration_mm_s": 9.0}) for m in range(5)])
    counts = service.reload()
    assert counts["changed"] == counts["added"] == counts["removed"] == 0
    service.process([pump(m, {**PUMP, "vibration_mm_s": 9.0}) for m in range(5, 11)])
    assert [a.rule_id for a in db.alarms.list()] == ["vib_high"]

# --- absence is judged against the stream, not the clock alone ------------------------------------------

def _healthy_minute(minute: float, assets: list[str]) -> list[Reading]:
    return [pump(minute, PUMP, asset) for asset in assets]

def test_a_stalled_stream_raises_no_device_offline_however_far_the_clock_runs(db: Database) -> None:
    harness = Harness(db)
    harness.feed([r for minute in range(5) for r in _healthy_minute(minute, ["pump-0", "pump-1"])])
    for _ in range(120):  # the stream stalls: the clock runs on for two hours, no readings arrive
        harness.clock.advance(timedelta(minutes=1))
        harness.service.tick()
    # No device is judged offline; the silence of everyone is ONE alarm of facmon's own.
    assert [a.rule_id for a in db.alarms.list()] == [PORTFOLIO_RULE]

def test_one_silent_device_among_reporting_ones_is_offline(db: Database) -> None:
    harness = Harness(db)
    for minute in range(30):
        harness.feed(_healthy_minute(minute, ["pump-0", "pump-1"] if minute < 5 else ["pump-0"]))
        harness.service.tick()
    assert [(a.rule_id, a.asset_id) for a in db.alarms.list()] == [("device_offline", "pump-1")]
