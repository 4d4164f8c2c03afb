"""Alarm-born work orders (issue 10 item 3) on real SQLite and PostgreSQL: out of service within the work's
scope only and never for safety-critical rules, the order owed when a mute ends, recurrences attached to
the open order, site-level orders filed under the site with their assets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.clock import ManualClock
from core.domain import (
    AlarmState,
    AssetKind,
    MaintenanceWindow,
    Reading,
    WorkOrderAction,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderStatus,
)
from core.events import EventBus
from rules.pack import default_rules
from rules.service import RulesService
from storage.records import Database
from storage.records.work_orders import WorkOrderFilter
from workorders.book import Step, WorkOrderBook

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # daytime: lighting is off by schedule
PUMP = {"flow_m3h": 30.0, "discharge_bar": 4.5, "suction_bar": 1.0, "vibration_mm_s": 1.5,
        "bearing_temp_c": 50.0, "running": True, "mains_ok": True}
DRY = {**PUMP, "flow_m3h": 0.5, "suction_bar": 0.1}  # pump_dry_running: an urgent order, not safety-critical
BURST = {**PUMP, "flow_m3h": 62.0, "discharge_bar": 1.2}
LIFT = {"door_close_s": 3.0, "door_reopenings": 0, "in_service": True, "alarm_button": False,
        "occupied": False, "leveling_error_mm": 1.0, "mains_ok": True}
DOOR_FAULT = {**LIFT, "door_close_s": 11.0}
TRAPPED = {**LIFT, "in_service": False, "alarm_button": True, "occupied": True}
LIGHT = {"on": False, "power_w": 0.0, "driver_temp_c": 25.0, "mains_ok": True}
SITE = [("pump-0", AssetKind.PUMP, PUMP), ("pump-1", AssetKind.PUMP, PUMP), ("lift-0", AssetKind.ELEVATOR, LIFT),
        *((f"light-{i}", AssetKind.LIGHTING, LIGHT) for i in range(3))]


class Harness:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.bus = EventBus()
        self.clock = ManualClock(T0)
        self.book = WorkOrderBook(db, self.bus, self.clock)
        self.service = RulesService(default_rules(), db, self.book, self.bus, self.clock)
        self.bus.subscribe(self.service.on_event, "workorder.")

    def feed(self, asset: str, kind: AssetKind, minutes: range, metrics: dict[str, Any]) -> None:
        for minute in minutes:
            at = T0 + timedelta(minutes=minute)
            self.clock.advance(max(timedelta(0), at - self.clock.now()))
            self.service.process([Reading("site-a", kind, asset, at, dict(metrics))])

    def dry_run(self, start: int, minutes: int = 3) -> None:
        self.feed("pump-0", AssetKind.PUMP, range(start, start + 1), PUMP)
        self.feed("pump-0", AssetKind.PUMP, range(start + 1, start + 1 + minutes), DRY)

    def tick(self, minute: int) -> None:
        self.clock.advance(T0 + timedelta(minutes=minute) - self.clock.now())
        self.service.tick()

    def repair_under_way(self, asset: str, title: str) -> int:
        """A desk order on ``asset`` taken to in progress (the technician occupies the asset)."""
        order, _ = self.book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, title, "site-a", asset)
        for status in (WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED, WorkOrderStatus.ON_SITE,
                       WorkOrderStatus.IN_PROGRESS):
            self.book.transition(order.id, Step(status, "tech", assignee="tech"))
        return order.id

    def complete(self, order_id: int) -> None:
        self.book.transition(order_id, Step(WorkOrderStatus.COMPLETED, "tech", failure_code="door_operator",
                                            cause="worn belt", remedy="replaced belt", labour_hours=2.0))

    def only(self, rule_id: str) -> Any:
        [alarm] = [a for a in self.db.alarms.list() if a.rule_id == rule_id]
        return alarm


# --- out of service: the work's scope, never the safety-critical ----------------------------------------

def test_entrapment_during_a_door_repair_opens_an_emergency_order(db: Database) -> None:
    harness = Harness(db)
    repair = harness.repair_under_way("lift-0", "Repair doors of lift-0")
    harness.feed("lift-0", AssetKind.ELEVATOR, range(0, 1), LIFT)
    harness.feed("lift-0", AssetKind.ELEVATOR, range(1, 4), TRAPPED)
    alarm = harness.only("elevator_entrapment")
    assert alarm.out_of_service == ""
    assert alarm.work_order_id is not None
    assert alarm.work_order_id != repair
    rescue = db.work_orders.get(alarm.work_order_id)
    assert (rescue.kind, rescue.priority, rescue.asset_id) == (WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY,
                                                               "lift-0")


def test_a_door_alarm_during_the_door_repair_opens_no_order_until_the_repair_is_done(db: Database) -> None:
    harness = Harness(db)
    repair = harness.repair_under_way("lift-0", "Repair doors of lift-0")
    harness.feed("lift-0", AssetKind.ELEVATOR, range(0, 18), DOOR_FAULT)
    door = harness.only("elevator_door_fault")
    assert door.out_of_service == f"work order #{repair} in progress"
    assert door.work_order_id is None
    assert db.work_orders.count() == 1

    harness.complete(repair)  # the doors still fail after the repair: now the alarm gets its order
    door = db.alarms.get(door.id)
    assert door.out_of_service == ""
    assert door.work_order_id is not None
    assert door.work_order_id != repair
    assert db.work_orders.get(door.work_order_id).alarm_id == door.id
    assert harness.service.stats()["work_orders_after_mute"] == 1


def test_safety_critical_alarms_are_not_muted_by_a_maintenance_window(sqlite_db: Database) -> None:
    harness = Harness(sqlite_db)
    sqlite_db.maintenance.add(MaintenanceWindow(0, "site-a", None, T0, T0 + timedelta(hours=1), "shutdown"))
    harness.feed("pump-0", AssetKind.PUMP, range(0, 2), PUMP)
    harness.feed("pump-0", AssetKind.PUMP, range(2, 6), BURST)
    alarm = harness.only("pump_burst_pipe")
    assert alarm.out_of_service == ""
    assert alarm.work_order_id is not None


# --- the order owed when the mute ends -------------------------------------------------------------------

def test_an_alarm_muted_at_raise_gets_its_order_when_the_window_ends_while_still_active(db: Database) -> None:
    harness = Harness(db)
    db.maintenance.add(MaintenanceWindow(0, "site-a", "pump-0", T0, T0 + timedelta(minutes=30), "impeller swap"))
    harness.dry_run(0)
    alarm = harness.only("pump_dry_running")
    assert alarm.out_of_service.startswith("maintenance window")
    assert db.work_orders.count() == 0

    harness.tick(30)
    alarm = db.alarms.get(alarm.id)
    [order] = db.work_orders.list()
    assert (alarm.out_of_service, alarm.work_order_id, order.alarm_id) == ("", order.id, alarm.id)
    harness.tick(31)  # idempotent: no second order
    assert db.work_orders.count() == 1


def test_an_alarm_that_cleared_while_muted_gets_no_order_when_the_window_ends(db: Database) -> None:
    harness = Harness(db)
    db.maintenance.add(MaintenanceWindow(0, "site-a", "pump-0", T0, T0 + timedelta(minutes=30), "impeller swap"))
    harness.dry_run(0)
    harness.feed("pump-0", AssetKind.PUMP, range(10, 12), PUMP)
    assert harness.only("pump_dry_running").state is AlarmState.RTN_UNACKNOWLEDGED
    harness.tick(30)
    assert db.work_orders.count() == 0


def test_an_alarm_still_shelved_when_its_window_ends_gets_its_order_when_the_shelf_expires(
        sqlite_db: Database) -> None:
    harness = Harness(sqlite_db)
    sqlite_db.maintenance.add(MaintenanceWindow(0, "site-a", "pump-0", T0, T0 + timedelta(minutes=30), "swap"))
    harness.dry_run(0)
    alarm = harness.only("pump_dry_running")
    harness.service.shelve(alarm.id, T0 + timedelta(minutes=45), "tank refilling", "ana")
    harness.tick(30)
    assert sqlite_db.work_orders.count() == 0  # the window is over but the shelf still mutes it
    harness.tick(45)
    assert sqlite_db.alarms.get(alarm.id).work_order_id is not None
    assert sqlite_db.work_orders.count() == 1


# --- a recurring fault ----------------------------------------------------------------------------------

def test_a_second_episode_of_the_same_fault_attaches_to_the_open_order(db: Database) -> None:
    harness = Harness(db)
    harness.dry_run(0)
    first = harness.only("pump_dry_running")
    harness.service.acknowledge(first.id, "ana")
    harness.feed("pump-0", AssetKind.PUMP, range(5, 7), PUMP)
    assert db.alarms.get(first.id).state is AlarmState.NORMAL  # the episode is over; its order is not

    harness.dry_run(10)
    second = next(a for a in db.alarms.list() if a.id != first.id)
    [order] = db.work_orders.list()
    assert (order.alarm_id, first.work_order_id, second.work_order_id) == (first.id, order.id, order.id)
    assert order.recurrences == 1
    [recurrence] = [e for e in db.work_orders.history(order.id) if e.action is WorkOrderAction.RECURRENCE]
    assert recurrence.data == {"alarm_id": second.id}
    assert harness.service.stats()["work_order_recurrences"] == 1


# --- site-level orders ------------------------------------------------------------------------------------

def without_mains(kind: AssetKind, metrics: dict[str, Any]) -> dict[str, Any]:
    cut = {**metrics, "mains_ok": False}
    if kind is AssetKind.PUMP:
        cut.update(running=False, flow_m3h=0.0, discharge_bar=0.0)
    elif kind is AssetKind.ELEVATOR:
        cut.update(in_service=False)
    return cut


def test_a_site_power_cut_order_names_the_site_and_its_assets_and_is_found_by_asset(db: Database) -> None:
    harness = Harness(db)
    for minute in range(12):
        at = T0 + timedelta(minutes=minute)
        harness.clock.advance(max(timedelta(0), at - harness.clock.now()))
        harness.service.process([Reading("site-a", kind, asset, at, without_mains(kind, m) if minute >= 2 else m)
                                 for asset, kind, m in SITE])
    cut = harness.only("site_power_cut")
    order = db.work_orders.get(cut.work_order_id)
    assert (order.asset_id, order.site_id, cut.asset_id) == (None, "site-a", "site-a")
    assert "site-a" in order.title
    # The assets whose mains had gone when the quorum (0.6 of 6) was reached, in the order they report.
    assert order.related_assets == ("lift-0", "light-0", "pump-0", "pump-1")
    assert order.requester is None
    found = db.work_orders.page(WorkOrderFilter(asset_id="pump-1"))[0]
    assert [o.id for o in found] == [order.id]
    assert db.work_orders.page(WorkOrderFilter(asset_id="pump-9"))[0] == []
