"""RulesService on a real SQLite records database and the real work-order book."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import ManualClock
from core.domain import AlarmState, AssetKind, Reading, WorkOrderKind, WorkOrderPriority
from core.errors import NotFound
from core.events import Event, EventBus
from rules.orders import VERIFICATION_NOTE
from rules.pack import default_rules
from rules.service import RulesService, alarm_json
from storage.records import Database
from workorders.book import WorkOrderBook

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
HEALTHY = {"flow_m3h": 30.0, "discharge_bar": 4.5, "vibration_mm_s": 1.5, "bearing_temp_c": 50.0,
           "running": True, "mains_ok": True}
BURST = {**HEALTHY, "flow_m3h": 62.0, "discharge_bar": 1.2}


def pump(minute: int, metrics: dict[str, Any], asset: str = "pump-1") -> Reading:
    return Reading("site-a", AssetKind.PUMP, asset, T0 + timedelta(minutes=minute), dict(metrics))


def burst_stream(start: int) -> list[Reading]:
    """5 healthy minutes, then 5 minutes of burst pipe (raises at start+7)."""
    return [pump(start + m, HEALTHY) for m in range(5)] + [pump(start + m, BURST) for m in range(5, 10)]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'records.db'}")
    database.upgrade()
    yield database
    database.dispose()


class Harness:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.bus = EventBus()
        self.clock = ManualClock(T0)
        self.events: list[Event] = []
        self.bus.subscribe(self.events.append)
        self.book = WorkOrderBook(db, self.bus, self.clock)

    def service(self) -> RulesService:
        return RulesService(default_rules(), self.db, self.book, self.bus, self.clock)

    def topics(self) -> list[str]:
        return [event.topic for event in self.events]


def test_burst_pipe_raises_one_alarm_and_one_linked_emergency_work_order(db: Database) -> None:
    harness = Harness(db)
    service = harness.service()
    service.process(burst_stream(0))

    [alarm] = db.alarms.list()
    [work_order] = db.work_orders.list()
    assert (alarm.rule_id, alarm.asset_id, alarm.site_id) == ("pump_burst_pipe", "pump-1", "site-a")
    assert alarm.state is AlarmState.UNACKNOWLEDGED
    assert alarm.started_at == T0 + timedelta(minutes=7)
    assert alarm.message == "Burst pipe suspected at pump-1: flow 62 m3/h, pressure 1.2 bar"
    assert (work_order.kind, work_order.priority) == (WorkOrderKind.EMERGENCY, WorkOrderPriority.EMERGENCY)
    assert work_order.title == "Burst pipe at pump-1"
    assert work_order.description == f"{alarm.message}\n{VERIFICATION_NOTE}"
    assert work_order.requester is None  # alarm-born: the supervisor verifies
    assert alarm.work_order_id == work_order.id
    assert work_order.alarm_id == alarm.id
    assert harness.topics() == ["alarm.raised", "workorder.opened", "alarm.changed"]
    assert harness.events[-1].data["work_order_id"] == work_order.id
    assert service.stats() == {**service.stats(), "readings_evaluated": 10, "alarms_raised": 1,
                               "work_orders_opened": 1, "errors": 0}


def test_repeating_the_stream_does_not_duplicate(db: Database) -> None:
    harness = Harness(db)
    service = harness.service()
    service.process(burst_stream(0))
    service.process(burst_stream(0))  # same engine: all but the last (same time) are out of order now
    assert service.stats()["readings_out_of_order"] == 9

    restarted = harness.service()     # a restart replays the spool with a fresh engine
    restarted.process(burst_stream(0))
    assert restarted.stats()["duplicate_raises"] == 1
    assert restarted.stats()["alarms_raised"] == 0

    [alarm] = db.alarms.list()
    assert alarm.occurrences == 1
    assert db.work_orders.count() == 1


def test_clearing_then_raising_again_counts_occurrences_on_the_same_episode(db: Database) -> None:
    harness = Harness(db)
    service = harness.service()
    service.process(burst_stream(0))
    service.process([pump(10, HEALTHY)])
    [cleared] = db.alarms.list()
    assert cleared.state is AlarmState.RTN_UNACKNOWLEDGED
    assert cleared.cleared_at == T0 + timedelta(minutes=10)

    service.process(burst_stream(11))
    [again] = db.alarms.list()
    assert again.id == cleared.id
    assert again.occurrences == 2
    assert again.state is AlarmState.UNACKNOWLEDGED
    assert again.cleared_at is None
    assert db.work_orders.count() == 1
    states = [event.to_state for event in db.alarms.history(again.id)]
    assert states == [AlarmState.UNACKNOWLEDGED, AlarmState.RTN_UNACKNOWLEDGED, AlarmState.UNACKNOWLEDGED]
    assert service.stats()["alarms_reraised"] == 1


def test_acknowledged_and_cleared_alarm_ends_the_episode(db: Database) -> None:
    harness = Harness(db)
    service = harness.service()
    service.process(burst_stream(0))
    [alarm] = db.alarms.list()

    harness.clock.advance(timedelta(minutes=3))
    acknowledged = service.acknowledge(alarm.id, "operator", "crew on the way")
    assert acknowledged.state is AlarmState.ACKNOWLEDGED
    assert (acknowledged.acknowledged_by, acknowledged.acknowledged_at) == ("operator", harness.clock.now())
    assert service.acknowledge(alarm.id, "someone else") == acknowledged  # a repeat is a no-op
    service.comment(alarm.id, "operator", "valve closed")

    service.process([pump(10, HEALTHY)])
    assert db.alarms.get(alarm.id).state is AlarmState.NORMAL
    assert db.alarms.find_open("pump_burst_pipe", "pump-1") is None
    notes = [event.note for event in db.alarms.history(alarm.id)]
    assert "crew on the way" in notes
    assert "valve closed" in notes

    service.process(burst_stream(11))  # a new episode of the same fault: attached to the open order
    assert db.alarms.count() == 2
    [work_order] = db.work_orders.list()
    assert work_order.recurrences == 1
    with pytest.raises(NotFound):
        service.acknowledge(999, "operator")


def test_alarm_json_is_json_safe(db: Database) -> None:
    harness = Harness(db)
    harness.service().process(burst_stream(0))
    [alarm] = db.alarms.list()
    data = json.loads(json.dumps(alarm_json(alarm)))
    assert data["state"] == "unacknowledged"
    assert data["active"] is True
    assert data["severity"] == "critical"
    assert datetime.fromisoformat(data["started_at"]) == alarm.started_at
    assert data["cleared_at"] is None


class BrokenBook:
    def open(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("work-order book down")


def test_a_failing_effect_is_counted_rolled_back_whole_and_the_batch_goes_on(db: Database) -> None:
    harness = Harness(db)
    service = RulesService(default_rules(), db, BrokenBook(), harness.bus, harness.clock)  # type: ignore[arg-type]
    other = [pump(m, BURST, asset="pump-2") for m in range(0, 10)]
    service.process(burst_stream(0) + other)
    assert service.stats()["errors"] == 2
    # The raise and its work order are one unit of work: no alarm is left without the order it calls for.
    assert db.alarms.list() == []
    assert service.stats()["alarms_raised"] == 0
    assert service.stats()["readings_evaluated"] == 20
