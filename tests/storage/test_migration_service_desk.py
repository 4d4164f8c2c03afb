"""Migration 0003 on a database at 0002 holding work orders in the old statuses: nothing is lost."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from core.domain import WorkOrderSource, WorkOrderStatus
from storage.records import Database
from storage.records.database import alembic_config
from storage.records.types import UtcDateTime

service_desk = importlib.import_module("storage.records.migrations.versions.0003_service_desk")

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
# The old loop walked in full; an order in status X has the events of this path up to X's first visit.
OLD_PATH = ["open", "assigned", "in_progress", "on_hold", "in_progress", "completed", "closed"]
OLD_STATUSES = ["open", "assigned", "in_progress", "on_hold", "completed", "closed", "cancelled"]

orders = sa.table("work_orders", *(sa.column(n) for n in (
    "id", "kind", "priority", "status", "title", "description", "site_id", "asset_id", "assignee", "alarm_id",
    "cause", "remedy")), *(sa.column(n, UtcDateTime()) for n in ("opened_at", "due_at", "closed_at")))
events = sa.table("work_order_events", *(sa.column(n) for n in (
    "work_order_id", "actor", "from_status", "to_status", "note")), sa.column("at", UtcDateTime()))
alarms = sa.table("alarms", *(sa.column(n) for n in (
    "id", "rule_id", "asset_id", "site_id", "severity", "state", "message", "occurrences", "work_order_id")),
    sa.column("started_at", UtcDateTime()))


def old_path(status: str) -> list[str]:
    return ["open", "cancelled"] if status == "cancelled" else OLD_PATH[:OLD_PATH.index(status) + 1]


def fill_old_database(connection: sa.Connection) -> dict[int, list[str]]:
    """Orders in every old status (plus one opened by an alarm); returns id -> its path of old statuses."""
    paths: dict[int, list[str]] = {}
    connection.execute(alarms.insert().values(id=1, rule_id="pump_burst_pipe", asset_id="p1", site_id="s1",
                                              severity="critical", state="acknowledged", message="burst",
                                              occurrences=1, work_order_id=None, started_at=T0))
    for number, status in enumerate([*OLD_STATUSES, "in_progress"], start=1):
        path = old_path(status)
        alarm_id = 1 if number == len(OLD_STATUSES) + 1 else None
        final = status in ("closed", "cancelled")
        connection.execute(orders.insert().values(
            id=number, kind="corrective", priority="urgent", status=status, title=f"order {number}",
            description="old", site_id="s1", asset_id="p1", alarm_id=alarm_id,
            assignee="tech7" if "assigned" in path else None,
            cause="worn seal" if "completed" in path else None, remedy="replaced" if "completed" in path else None,
            opened_at=T0, due_at=T0 + timedelta(hours=4),
            closed_at=T0 + timedelta(hours=len(path) - 1) if final else None))
        previous = None
        for hour, to in enumerate(path):
            connection.execute(events.insert().values(work_order_id=number, actor=f"a{hour}", from_status=previous,
                                                      to_status=to, note=f"step {hour}",
                                                      at=T0 + timedelta(hours=hour)))
            previous = to
        paths[number] = path
    connection.execute(alarms.update().where(alarms.c.id == 1).values(work_order_id=len(OLD_STATUSES) + 1))
    return paths


def first_at(path: list[str], status: str) -> datetime | None:
    return T0 + timedelta(hours=path.index(status)) if status in path else None


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def test_upgrade_from_0002_keeps_every_order_and_event_in_the_new_statuses(
        request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0002")
            paths = fill_old_database(connection)
        db.upgrade()

        renamed = service_desk.RENAMED
        assert db.work_orders.count() == len(paths) == 8
        for number, path in paths.items():
            order = db.work_orders.get(number)
            assert order.status == WorkOrderStatus(renamed.get(path[-1], path[-1]))
            history = db.work_orders.history(number)
            assert [(e.from_status, e.to_status, e.actor, e.note, e.at) for e in history] == [
                (None if i == 0 else WorkOrderStatus(renamed.get(path[i - 1], path[i - 1])),
                 WorkOrderStatus(renamed.get(to, to)), f"a{i}", f"step {i}", T0 + timedelta(hours=i))
                for i, to in enumerate(path)]
            assert (order.dispatched_at, order.on_site_at, order.completed_at) == (
                first_at(path, "assigned"), first_at(path, "in_progress"), first_at(path, "completed"))
            assert (order.title, order.description, order.opened_at, order.due_at) == (
                f"order {number}", "old", T0, T0 + timedelta(hours=4))
            assert (order.assignee, order.cause) == (
                "tech7" if "assigned" in path else None, "worn seal" if "completed" in path else None)
            assert (order.closed_at is not None) == order.status.is_terminal
            assert order.version == 1
            alarm_born = number == 8
            assert (order.source, order.source_ref, order.alarm_id) == (
                (WorkOrderSource.ALARM, "alarm:1", 1) if alarm_born else (WorkOrderSource.DESK, None, None))
        assert {db.work_orders.get(n).status for n in paths} == {
            WorkOrderStatus.REQUESTED, WorkOrderStatus.DISPATCHED, WorkOrderStatus.IN_PROGRESS,
            WorkOrderStatus.WAITING, WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED}
        assert db.alarms.get(1).work_order_id == 8
    finally:
        db.dispose()
