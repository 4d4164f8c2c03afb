"""The records database and its repositories, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from core.domain import (
    DEAD_LETTER_PAYLOAD_BYTES,
    AlarmEvent,
    AlarmState,
    Asset,
    AssetKind,
    DeadLetter,
    Forecast,
    RequestChannel,
    Severity,
    Site,
    WorkOrderAction,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderSource,
    WorkOrderStatus,
)
from core.errors import Conflict, NotFound
from storage.records import Database
from storage.records.database import alembic_config
from storage.records.models import Base
from storage.records.work_orders import WorkOrderFilter
from tests.records import BACKENDS

T0 = datetime(2026, 11, 27, 8, 0, 0, 123456, tzinfo=UTC)
R = TypeVar("R")


def raise_pump_alarm(db: Database, started_at: datetime = T0, rule: str = "pump_vibration_high",
                     asset: str = "p1", site: str = "s1") -> int:
    alarm, _ = db.alarms.raise_alarm(rule, asset, site, Severity.HIGH, "vibration high", started_at)
    return alarm.id


def create_work_order(db: Database, alarm_id: int | None = None, site: str = "s1", asset: str | None = "p1",
                      opened_at: datetime = T0) -> Any:
    return db.work_orders.create(WorkOrderKind.CORRECTIVE, WorkOrderPriority.URGENT, "fix pump", site, asset,
                                 opened_at, opened_at + timedelta(hours=4), alarm_id=alarm_id)


def in_threads(count: int, call: Callable[[], R]) -> list[R]:
    results: list[R] = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def run() -> None:
        barrier.wait()
        result = call()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- migrations ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_creates_every_table_at_head_and_is_repeatable(request: pytest.FixtureRequest, tmp_path: Path,
                                                               backend: str) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    db = Database(url)
    try:
        assert inspect(db.engine).get_table_names() == []
        db.upgrade()
        db.upgrade()  # a second upgrade is a no-op
        tables = set(inspect(db.engine).get_table_names())
        assert {"sites", "assets", "alarms", "alarm_events", "work_orders", "work_order_events", "forecasts",
                "dead_letters", "rule_checkpoints", "maintenance_windows", "alembic_version"} <= tables
        with db.engine.connect() as connection:
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert head is not None
            assert MigrationContext.configure(connection).get_current_revision() == head
            # The migrations build exactly the schema the ORM models describe.
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        db.dispose()


# --- assets -------------------------------------------------------------------------------------------

def test_sites_and_assets_are_upserted_listed_and_found(db: Database) -> None:
    db.assets.upsert_site(Site("s1", "North", "1 Main St"))
    db.assets.upsert_site(Site("s2", "South"))
    db.assets.upsert_site(Site("s1", "North tower", "1 Main St"))
    pump = Asset("p1", "s1", AssetKind.PUMP, "Pump 1", date(2019, 5, 1), 60.0,
                 {"rated_kw": 7.5, "mounting": "rigid", "duty": True})
    db.assets.upsert_asset(pump)
    db.assets.upsert_asset(Asset("e1", "s2", AssetKind.ELEVATOR, "Lift A"))
    db.assets.upsert_asset(Asset("p2", "s1", AssetKind.PUMP, "Pump 2"))
    db.assets.upsert_asset(Asset("p2", "s1", AssetKind.PUMP, "Pump 2 (standby)", report_interval_s=30.0))

    assert db.assets.sites() == [Site("s1", "North tower", "1 Main St"), Site("s2", "South")]
    assert db.assets.get("p1") == pump
    assert db.assets.find("p2") == Asset("p2", "s1", AssetKind.PUMP, "Pump 2 (standby)", report_interval_s=30.0)
    assert db.assets.find("nope") is None
    with pytest.raises(NotFound):
        db.assets.get("nope")
    assert [a.id for a in db.assets.list()] == ["e1", "p1", "p2"]
    assert [a.id for a in db.assets.list(site_id="s1")] == ["p1", "p2"]
    assert [a.id for a in db.assets.list(kind=AssetKind.ELEVATOR)] == ["e1"]
    assert db.assets.list(site_id="s2", kind=AssetKind.PUMP) == []


def test_asset_of_unknown_site_is_refused(db: Database) -> None:
    with pytest.raises(NotFound, match="site"):
        db.assets.upsert_asset(Asset("p1", "nowhere", AssetKind.PUMP, "Pump 1"))


# --- alarms -------------------------------------------------------------------------------------------

def test_raise_alarm_is_idempotent_on_rule_asset_and_start(db: Database) -> None:
    first, created = db.alarms.raise_alarm("r1", "p1", "s1", Severity.HIGH, "high", T0)
    again, created_again = db.alarms.raise_alarm("r1", "p1", "s1", Severity.CRITICAL, "other", T0)
    assert (created, created_again) == (True, False)
    assert again == first
    assert first.state is AlarmState.UNACKNOWLEDGED
    assert first.occurrences == 1
    later, created_later = db.alarms.raise_alarm("r1", "p1", "s1", Severity.HIGH, "high", T0 + timedelta(hours=1))
    assert created_later
    assert later.id != first.id
    assert db.alarms.count() == 2
    assert [e.to_state for e in db.alarms.history(first.id)] == [AlarmState.UNACKNOWLEDGED]


def test_concurrent_raise_alarm_creates_one_episode(db: Database) -> None:
    results = in_threads(8, lambda: db.alarms.raise_alarm("r1", "p1", "s1", Severity.HIGH, "m", T0))
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    assert len({alarm.id for alarm, _ in results}) == 1
    assert db.alarms.count() == 1


def test_set_state_records_events_acknowledgement_and_clearing(db: Database) -> None:
    alarm_id = raise_pump_alarm(db)
    acked = db.alarms.set_state(alarm_id, AlarmState.ACKNOWLEDGED, T0 + timedelta(minutes=5), "ops1", "seen")
    assert (acked.state, acked.acknowledged_at, acked.acknowledged_by) == (
        AlarmState.ACKNOWLEDGED, T0 + timedelta(minutes=5), "ops1")
    assert acked.cleared_at is None
    cleared = db.alarms.set_state(alarm_id, AlarmState.NORMAL, T0 + timedelta(minutes=30), "rules")
    assert cleared.state is AlarmState.NORMAL
    assert cleared.cleared_at == T0 + timedelta(minutes=30)
    assert db.alarms.find_open("pump_vibration_high", "p1") is None

    history = db.alarms.history(alarm_id)
    assert [(e.from_state, e.to_state, e.actor, e.note) for e in history] == [
        (None, AlarmState.UNACKNOWLEDGED, "system", "vibration high"),
        (AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, "ops1", "seen"),
        (AlarmState.ACKNOWLEDGED, AlarmState.NORMAL, "rules", ""),
    ]


def test_return_to_normal_unacknowledged_sets_cleared_at_and_stays_open(db: Database) -> None:
    alarm_id = raise_pump_alarm(db)
    rtn = db.alarms.set_state(alarm_id, AlarmState.RTN_UNACKNOWLEDGED, T0 + timedelta(minutes=9), "rules")
    assert rtn.cleared_at == T0 + timedelta(minutes=9)
    assert rtn.acknowledged_at is None
    assert db.alarms.find_open("pump_vibration_high", "p1") == rtn
    again = db.alarms.add_occurrence(alarm_id, T0 + timedelta(minutes=20))
    assert (again.occurrences, again.cleared_at) == (2, None)


def test_find_open_returns_the_newest_open_episode_of_rule_and_asset(db: Database) -> None:
    old = raise_pump_alarm(db, T0)
    db.alarms.set_state(old, AlarmState.NORMAL, T0 + timedelta(minutes=1), "rules")
    new = raise_pump_alarm(db, T0 + timedelta(hours=1))
    raise_pump_alarm(db, T0 + timedelta(hours=2), asset="p2")
    raise_pump_alarm(db, T0 + timedelta(hours=3), rule="other")
    found = db.alarms.find_open("pump_vibration_high", "p1")
    assert found is not None
    assert found.id == new
    assert db.alarms.find_open("pump_vibration_high", "p9") is None


def test_comment_link_and_listing(db: Database) -> None:
    a1 = raise_pump_alarm(db, T0, site="s1")
    a2 = raise_pump_alarm(db, T0 + timedelta(minutes=1), asset="p2", site="s2")
    a3 = raise_pump_alarm(db, T0 + timedelta(minutes=2), asset="p3", site="s1")
    db.alarms.set_state(a3, AlarmState.RTN_UNACKNOWLEDGED, T0 + timedelta(minutes=3), "rules")
    db.alarms.comment(a1, T0 + timedelta(minutes=4), "ops1", "technician called")
    wo, _ = create_work_order(db)
    db.alarms.link_work_order(a2, wo.id)

    assert db.alarms.history(a1)[-1] == AlarmEvent(
        a1, T0 + timedelta(minutes=4), "ops1", AlarmState.UNACKNOWLEDGED, AlarmState.UNACKNOWLEDGED,
        "technician called")
    assert db.alarms.get(a2).work_order_id == wo.id
    assert [a.id for a in db.alarms.list()] == [a3, a2, a1]
    assert [a.id for a in db.alarms.list(active_only=True)] == [a2, a1]
    assert [a.id for a in db.alarms.list(site_id="s1")] == [a3, a1]
    assert [a.id for a in db.alarms.list(limit=1)] == [a3]


def test_unknown_alarm_raises_not_found(db: Database) -> None:
    for call in (lambda: db.alarms.get(999), lambda: db.alarms.history(999),
                 lambda: db.alarms.set_state(999, AlarmState.NORMAL, T0, "x"),
                 lambda: db.alarms.add_occurrence(999, T0), lambda: db.alarms.comment(999, T0, "x", "y"),
                 lambda: db.alarms.link_work_order(999, 1)):
        with pytest.raises(NotFound):
            call()


# --- work orders --------------------------------------------------------------------------------------

def test_create_records_first_event_and_get_returns_it(db: Database) -> None:
    wo, created = db.work_orders.create(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "leaking tap", "s1",
                                        None, T0, T0 + timedelta(days=2), "flat 4", actor="frontdesk",
                                        source=WorkOrderSource.REQUEST, channel=RequestChannel.PHONE,
                                        requester="Ms Wang", caller_phone="555-0101", address="flat 4",
                                        related_assets=("p1", "p2"))
    assert created
    assert (wo.status, wo.version, wo.alarm_id) == (WorkOrderStatus.REQUESTED, 1, None)
    assert (wo.source, wo.channel, wo.requester, wo.caller_phone, wo.related_assets) == (
        WorkOrderSource.REQUEST, RequestChannel.PHONE, "Ms Wang", "555-0101", ("p1", "p2"))
    assert db.work_orders.get(wo.id) == wo
    assert db.work_orders.history(wo.id) == [
        WorkOrderEvent(wo.id, T0, "frontdesk", None, WorkOrderStatus.REQUESTED)]
    second, created_second = create_work_order(db)  # no alarm: never deduplicated
    assert created_second
    assert second.id != wo.id
    assert db.work_orders.count() == 2


def test_create_is_idempotent_per_alarm_and_links_the_alarm(db: Database) -> None:
    alarm_id = raise_pump_alarm(db)
    first, created = create_work_order(db, alarm_id)
    again, created_again = create_work_order(db, alarm_id, opened_at=T0 + timedelta(minutes=5))
    assert (created, created_again) == (True, False)
    assert again == first
    assert (first.source, first.source_ref) == (WorkOrderSource.ALARM, f"alarm:{alarm_id}")
    assert db.alarms.get(alarm_id).work_order_id == first.id
    assert db.work_orders.count() == 1
    assert len(db.work_orders.history(first.id)) == 1


def test_concurrent_create_for_one_alarm_makes_one_work_order(db: Database) -> None:
    alarm_id = raise_pump_alarm(db)
    results = in_threads(6, lambda: create_work_order(db, alarm_id))
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert len({wo.id for wo, _ in results}) == 1


def test_database_refuses_a_second_work_order_for_an_alarm(db: Database) -> None:
    alarm_id = raise_pump_alarm(db)
    create_work_order(db, alarm_id)
    insert = text("INSERT INTO work_orders (kind, priority, status, title, description, site_id, opened_at, "
                  "due_at, alarm_id) VALUES ('corrective', 'urgent', 'requested', 'dup', '', 's1', :at, :at, "
                  ":alarm)")
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(insert, {"at": T0, "alarm": alarm_id})
    with db.engine.begin() as connection:  # rows without an alarm are not constrained
        connection.execute(insert, {"at": T0, "alarm": None})
        connection.execute(insert, {"at": T0, "alarm": None})
    assert db.work_orders.count() == 3


def test_create_for_unknown_alarm_raises_not_found(db: Database) -> None:
    with pytest.raises(NotFound, match="alarm"):
        create_work_order(db, 12345)


def test_change_is_one_compare_and_set_recording_the_event(db: Database) -> None:
    wo, _ = create_work_order(db)
    at = T0 + timedelta(minutes=1)
    dispatched = db.work_orders.change(wo.id, WorkOrderStatus.REQUESTED, at, "planner",
                                       to_status=WorkOrderStatus.DISPATCHED, expected_version=1, note="nearest",
                                       data={"proposed": "tech7"}, assignee="tech7", dispatched_at=at)
    assert (dispatched.status, dispatched.assignee, dispatched.dispatched_at, dispatched.version) == (
        WorkOrderStatus.DISPATCHED, "tech7", at, 2)
    commented = db.work_orders.change(wo.id, WorkOrderStatus.DISPATCHED, at, "desk",
                                      action=WorkOrderAction.COMMENT, note="resident home after 6")
    assert (commented.status, commented.version) == (WorkOrderStatus.DISPATCHED, 3)
    cancelled = db.work_orders.change(wo.id, WorkOrderStatus.DISPATCHED, T0 + timedelta(hours=1), "desk",
                                      to_status=WorkOrderStatus.CANCELLED, note="duplicate")
    assert cancelled.closed_at == T0 + timedelta(hours=1)
    assert db.work_orders.history(wo.id)[1:] == [
        WorkOrderEvent(wo.id, at, "planner", WorkOrderStatus.REQUESTED, WorkOrderStatus.DISPATCHED, "nearest",
                       WorkOrderAction.TRANSITION, {"proposed": "tech7"}),
        WorkOrderEvent(wo.id, at, "desk", WorkOrderStatus.DISPATCHED, WorkOrderStatus.DISPATCHED,
                       "resident home after 6", WorkOrderAction.COMMENT, {}),
        WorkOrderEvent(wo.id, T0 + timedelta(hours=1), "desk", WorkOrderStatus.DISPATCHED,
                       WorkOrderStatus.CANCELLED, "duplicate"),
    ]


@pytest.mark.parametrize(("expected_status", "expected_version"), [
    (WorkOrderStatus.DISPATCHED, None), (WorkOrderStatus.REQUESTED, 2), (WorkOrderStatus.REQUESTED, None)])
def test_change_from_a_stale_read_is_a_conflict_and_changes_nothing(
        db: Database, expected_status: WorkOrderStatus, expected_version: int | None) -> None:
    wo, _ = create_work_order(db)
    if expected_version is None and expected_status is WorkOrderStatus.REQUESTED:
        db.work_orders.change(wo.id, WorkOrderStatus.REQUESTED, T0, "x", to_status=WorkOrderStatus.ACCEPTED)
    before = db.work_orders.get(wo.id)
    with pytest.raises(Conflict, match=f"work order {wo.id} changed meanwhile"):
        db.work_orders.change(wo.id, expected_status, T0, "y", to_status=WorkOrderStatus.ON_SITE,
                              expected_version=expected_version)
    assert db.work_orders.get(wo.id) == before
    assert len(db.work_orders.history(wo.id)) == before.version
    with pytest.raises(NotFound):
        db.work_orders.change(999, WorkOrderStatus.REQUESTED, T0, "x", to_status=WorkOrderStatus.CANCELLED)


def test_concurrent_changes_at_one_version_let_exactly_one_win(db: Database) -> None:
    wo, _ = create_work_order(db)

    def accept() -> str:
        try:
            db.work_orders.change(wo.id, WorkOrderStatus.REQUESTED, T0, "tech", expected_version=1,
                                  to_status=WorkOrderStatus.ACCEPTED)
        except Conflict:
            return "conflict"
        return "won"

    assert sorted(in_threads(4, accept)) == ["conflict"] * 3 + ["won"]
    assert db.work_orders.get(wo.id).version == 2
    assert len(db.work_orders.history(wo.id)) == 2


def test_recurrence_counts_on_the_open_order_of_the_rule(db: Database) -> None:
    alarm_id = raise_pump_alarm(db)
    wo, _ = create_work_order(db, alarm_id)
    assert db.work_orders.open_for_rule("pump_vibration_high", "p1") == wo
    again = db.work_orders.add_recurrence(wo.id, T0 + timedelta(hours=1), "rules", "again", {"alarm_id": 9})
    assert (again.recurrences, again.version, again.status) == (1, 2, WorkOrderStatus.REQUESTED)
    assert db.work_orders.history(wo.id)[-1].action is WorkOrderAction.RECURRENCE
    assert db.work_orders.open_for_rule("pump_vibration_high", "p2") is None
    db.work_orders.change(wo.id, WorkOrderStatus.REQUESTED, T0, "x", to_status=WorkOrderStatus.CANCELLED)
    assert db.work_orders.open_for_rule("pump_vibration_high", "p1") is None


def test_list_filters_and_orders_newest_first(db: Database) -> None:
    w1, _ = create_work_order(db, site="s1", asset="p1", opened_at=T0)
    w2, _ = create_work_order(db, site="s2", asset="p2", opened_at=T0 + timedelta(hours=1))
    w3, _ = create_work_order(db, site="s1", asset=None, opened_at=T0 + timedelta(hours=2))
    db.work_orders.change(w2.id, WorkOrderStatus.REQUESTED, T0 + timedelta(hours=3), "x",
                          to_status=WorkOrderStatus.CANCELLED)
    assert [w.id for w in db.work_orders.list()] == [w3.id, w2.id, w1.id]
    assert [w.id for w in db.work_orders.list(open_only=True)] == [w3.id, w1.id]
    assert [w.id for w in db.work_orders.list(status=WorkOrderStatus.CANCELLED)] == [w2.id]
    assert [w.id for w in db.work_orders.list(site_id="s1")] == [w3.id, w1.id]
    assert [w.id for w in db.work_orders.list(asset_id="p1")] == [w1.id]
    assert [w.id for w in db.work_orders.list(limit=2)] == [w3.id, w2.id]
    with pytest.raises(NotFound):
        db.work_orders.get(999)
    with pytest.raises(NotFound):
        db.work_orders.history(999)


def test_pages_walk_every_order_once_in_a_stable_order_with_ties(db: Database) -> None:
    # Three orders share one opened_at: the id breaks the tie, so no page repeats or skips one.
    ids = [create_work_order(db, opened_at=T0 + timedelta(minutes=i // 3))[0].id for i in range(8)]
    seen: list[int] = []
    cursor = None
    while True:
        page, cursor = db.work_orders.page(WorkOrderFilter(), limit=3, after=cursor)
        seen += [w.id for w in page]
        if cursor is None:
            break
    assert seen == sorted(ids, key=lambda i: (-(ids.index(i) // 3), -i))
    assert db.work_orders.total(WorkOrderFilter()) == 8


def test_filters_by_every_field_and_overdue(db: Database) -> None:
    a, _ = db.work_orders.create(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "tap", "s1", None, T0,
                                 T0 + timedelta(days=2), source=WorkOrderSource.REQUEST, related_assets=("p7",))
    b, _ = create_work_order(db, site="s2", asset="p2")  # corrective, urgent, due T0 + 4 h
    db.work_orders.change(b.id, WorkOrderStatus.REQUESTED, T0, "d", to_status=WorkOrderStatus.DISPATCHED,
                          assignee="tech7")

    def ids(**where: Any) -> list[int]:
        return [w.id for w in db.work_orders.page(WorkOrderFilter(**where))[0]]

    assert ids(assignee="tech7") == [b.id]
    assert ids(kind=WorkOrderKind.REQUEST) == [a.id]
    assert ids(priority=WorkOrderPriority.URGENT) == [b.id]
    assert ids(source=WorkOrderSource.REQUEST) == [a.id]
    assert ids(asset_id="p7") == [a.id]  # a site-level order found by one of its assets
    assert ids(overdue_at=T0 + timedelta(hours=5)) == [b.id]
    assert ids(overdue_at=T0 + timedelta(days=3)) == [b.id, a.id]
    assert ids(statuses=[WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED]) == [b.id]
    assert db.work_orders.total(WorkOrderFilter(site_id="s1")) == 1


# --- forecasts and dead letters -----------------------------------------------------------------------

def test_forecasts_latest_per_asset_and_history(db: Database) -> None:
    def forecast(asset: str, hours: int, health: float) -> Forecast:
        return Forecast(asset, T0 + timedelta(hours=hours), health, 40.0 * health, "vibration_mm_s", "wear-v1",
                        {"slope": -0.01 * hours})

    for asset, hours, health in (("p1", 0, 0.9), ("p1", 2, 0.7), ("p1", 1, 0.8), ("p2", 0, 0.5)):
        db.forecasts.add(forecast(asset, hours, health))
    db.forecasts.add(Forecast("e1", T0, 1.0, None, "door_close_s", "wear-v1"))
    assert db.forecasts.latest() == [Forecast("e1", T0, 1.0, None, "door_close_s", "wear-v1"),
                                     forecast("p1", 2, 0.7), forecast("p2", 0, 0.5)]
    assert db.forecasts.latest("p2") == [forecast("p2", 0, 0.5)]
    assert [f.health for f in db.forecasts.history("p1")] == [0.7, 0.8, 0.9]
    assert [f.health for f in db.forecasts.history("p1", limit=1)] == [0.7]
    assert db.forecasts.count() == 5


def test_dead_letters_store_count_and_delete(db: Database) -> None:
    big = bytes(range(256)) * 40
    stored = db.dead_letters.add(DeadLetter(0, T0, "facmon/v1/s1/pump/p1/telemetry", "invalid_json", "line 1",
                                            big))
    assert stored.id > 0
    assert stored.payload == big[:DEAD_LETTER_PAYLOAD_BYTES]
    other = db.dead_letters.add(DeadLetter(0, T0, "x/y", "bad_topic", "", b"\x00\xff"))
    third = db.dead_letters.add(DeadLetter(0, T0, "x/z", "bad_topic", "", b""))
    assert db.dead_letters.list() == [third, other, stored]
    assert db.dead_letters.list(reason="bad_topic", limit=1) == [third]
    assert db.dead_letters.counts() == {"invalid_json": 1, "bad_topic": 2}
    assert db.dead_letters.delete([stored.id, third.id, 999]) == 2
    assert db.dead_letters.delete([]) == 0
    assert db.dead_letters.list() == [other]
    assert db.dead_letters.count() == 1


# --- time ---------------------------------------------------------------------------------------------

def test_datetimes_come_back_aware_utc_with_microseconds(db: Database) -> None:
    paris = timezone(timedelta(hours=1))
    started = datetime(2026, 11, 27, 9, 30, 15, 987654, tzinfo=paris)
    alarm, _ = db.alarms.raise_alarm("r1", "p1", "s1", Severity.LOW, "m", started)
    stored = db.alarms.get(alarm.id)
    assert stored.started_at == started
    assert stored.started_at.tzinfo == UTC
    assert stored.started_at.utcoffset() == timedelta(0)
    assert stored.started_at.isoformat() == "2026-11-27T08:30:15.987654+00:00"
    # The same instant written in another zone is the same episode.
    again, created = db.alarms.raise_alarm("r1", "p1", "s1", Severity.LOW, "m", started.astimezone(UTC))
    assert (again.id, created) == (alarm.id, False)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        db.alarms.raise_alarm("r1", "p1", "s1", Severity.LOW, "m", datetime(2026, 1, 1))  # noqa: DTZ001
