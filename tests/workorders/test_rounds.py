"""Inspection rounds at work: generation, recording, failed items opening work orders, missed and late
rounds; on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Site, WorkOrderPriority, WorkOrderSource
from core.errors import InvalidRequest
from core.events import EventBus
from core.inspections import InspectionRound, RoundStatus
from storage.records import Database
from storage.records.inspections import RoundFilter
from workorders.book import WorkOrderBook
from workorders.inspection_templates import packaged_templates
from workorders.rounds import InspectionRounds

MONDAY = datetime(2026, 3, 2, 6, tzinfo=UTC)  # pump rounds fall due at 10:00, the weekly items on Mondays


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def rounds(db: Database, clock: ManualClock) -> InspectionRounds:
    db.assets.upsert_site(Site("s1", "Site 1"))
    for asset in (Asset("p1", "s1", AssetKind.PUMP, "P1"), Asset("e1", "s1", AssetKind.ELEVATOR, "E1"),
                  Asset("l1", "s1", AssetKind.LIGHTING, "L1")):
        db.assets.upsert_asset(asset)
    return InspectionRounds(db, WorkOrderBook(db, EventBus(), clock), clock, packaged_templates())


def todays_pump_round(rounds: InspectionRounds, db: Database) -> InspectionRound:
    rounds.generate(timedelta(days=1))
    [found] = [r for r in db.inspections.list(RoundFilter(until=MONDAY + timedelta(days=1)))
               if r.template == "pump_round"]
    return found


def test_generating_rounds_twice_creates_nothing_new(rounds: InspectionRounds, db: Database,
                                                     clock: ManualClock) -> None:
    # To 1 April 06:00: a pump round a day (30), lighting on 5 Tuesdays, elevator on 2 and 17 March.
    assert rounds.generate() == 30 + 5 + 2
    assert rounds.generate() == 0
    clock.advance(timedelta(days=1))
    assert rounds.generate() == 2  # 1 April: the pump round and the elevator's quarterly visit
    assert len(db.inspections.list(RoundFilter())) == 39


def test_an_out_of_limits_measurement_fails_and_opens_one_linked_order_even_if_recorded_twice(
        rounds: InspectionRounds, db: Database, clock: ManualClock) -> None:
    round_ = todays_pump_round(rounds, db)
    rounds.start(round_.id, "wang")
    first = rounds.record(round_.id, "vibration", "wang", value=6.2)
    clock.advance(timedelta(minutes=5))
    again = rounds.record(round_.id, "vibration", "wang", value=6.8, note="re-measured")
    assert (first.passed, again.passed, again.recorded_at) == (False, False, clock.now())
    assert first.work_order_id is not None
    assert again.work_order_id == first.work_order_id
    orders = db.work_orders.list(site_id="s1")
    assert [o.id for o in orders] == [first.work_order_id]
    order = orders[0]
    assert (order.source, order.source_ref, order.asset_id, order.priority) == (
        WorkOrderSource.INSPECTION, f"inspection:{round_.id}:vibration", "p1", WorkOrderPriority.NORMAL)
    assert "6.2 mm/s, allowed at most 4.5 mm/s" in order.description


def test_a_measurement_within_limits_passes_and_opens_nothing(rounds: InspectionRounds, db: Database) -> None:
    round_ = todays_pump_round(rounds, db)
    rounds.start(round_.id, "wang")
    assert rounds.record(round_.id, "discharge_pressure", "wang", value=4.1).passed
    assert db.work_orders.list() == []


def test_a_failed_safety_item_opens_an_urgent_order(rounds: InspectionRounds, db: Database) -> None:
    round_ = todays_pump_round(rounds, db)
    assert round_.item_set == "weekly"  # Monday: the switch-over test is due
    rounds.start(round_.id, "wang")
    result = rounds.record(round_.id, "standby_switch_over", "wang", passed=False, note="standby did not start")
    assert result.work_order_id is not None
    assert db.work_orders.get(result.work_order_id).priority is WorkOrderPriority.URGENT


def test_items_are_recorded_only_in_a_started_round_and_only_its_own(rounds: InspectionRounds,
                                                                     db: Database) -> None:
    round_ = todays_pump_round(rounds, db)
    with pytest.raises(InvalidRequest, match="is scheduled"):
        rounds.record(round_.id, "leaks", "wang", passed=True)
    rounds.start(round_.id, "wang")
    with pytest.raises(InvalidRequest, match="no item 'brake'"):
        rounds.record(round_.id, "brake", "wang", passed=True)
    with pytest.raises(InvalidRequest, match="inspects 'p1', not 'p2'"):
        rounds.record(round_.id, "leaks", "wang", asset_id="p2", passed=True)


def test_a_round_completes_only_when_every_item_is_recorded(rounds: InspectionRounds, db: Database,
                                                            clock: ManualClock) -> None:
    round_ = todays_pump_round(rounds, db)
    assert rounds.start(round_.id, "wang").assignee == "wang"
    rounds.record(round_.id, "leaks", "wang", passed=True)
    with pytest.raises(InvalidRequest, match="not recorded: noise, vibration"):
        rounds.complete(round_.id, "wang")
    for item in rounds.items(round_):
        rounds.record(round_.id, item.id, "wang", passed=True, value=3.0)
    clock.advance(timedelta(hours=1))
    done = rounds.complete(round_.id, "wang")
    assert (done.status, done.completed_at) == (RoundStatus.DONE, clock.now())


def test_missed_and_late_rounds_are_reported_and_missed_ones_marked(rounds: InspectionRounds, db: Database,
                                                                    clock: ManualClock) -> None:
    rounds.generate(timedelta(days=2))
    monday, tuesday = [r for r in db.inspections.list(RoundFilter()) if r.template == "pump_round"]
    clock.advance(timedelta(hours=5))  # 11:00, an hour after Monday's round was due
    rounds.start(monday.id, "wang")
    for item in rounds.items(monday):
        rounds.record(monday.id, item.id, "wang", passed=True, value=3.0)
    rounds.complete(monday.id, "wang")
    clock.advance(timedelta(days=1, hours=3, minutes=1))  # Tuesday 14:01: its round due 10:00 + 4 h grace
    assert rounds.mark_missed() == 1
    report = rounds.report(MONDAY, MONDAY + timedelta(days=2))
    assert [r.id for r in report.late] == [monday.id]
    assert [r.id for r in report.missed] == [tuesday.id]
    assert db.inspections.get(tuesday.id).status is RoundStatus.MISSED
    assert report.on_time == []
