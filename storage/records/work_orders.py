"""Work orders and their recorded history; at most one work order per alarm, enforced by the database."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.domain import WorkOrder, WorkOrderEvent, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.errors import NotFound
from storage.records.models import AlarmRow, WorkOrderEventRow, WorkOrderRow
from storage.records.sessions import Repository, get_row

TERMINAL_STATUSES = [status.value for status in WorkOrderStatus if status.is_terminal]


def work_order_from_row(row: WorkOrderRow) -> WorkOrder:
    return WorkOrder(row.id, WorkOrderKind(row.kind), WorkOrderPriority(row.priority),
                     WorkOrderStatus(row.status), row.title, row.asset_id, row.site_id, row.opened_at,
                     row.due_at, row.description, row.assignee, row.alarm_id, row.closed_at, row.cause,
                     row.remedy)


def _event(row: WorkOrderEventRow) -> WorkOrderEvent:
    return WorkOrderEvent(row.work_order_id, row.at, row.actor,
                          None if row.from_status is None else WorkOrderStatus(row.from_status),
                          WorkOrderStatus(row.to_status), row.note)


def _row(session: Session, work_order_id: int) -> WorkOrderRow:
    return get_row(session, WorkOrderRow, work_order_id, "work order")


class WorkOrderRepository(Repository):
    def create(self, kind: WorkOrderKind, priority: WorkOrderPriority, title: str, site_id: str,
               asset_id: str | None, opened_at: datetime, due_at: datetime, description: str = "",
               alarm_id: int | None = None, actor: str = "system") -> tuple[WorkOrder, bool]:
        """Open a work order (status OPEN, first event None -> OPEN).

        With ``alarm_id``: ``(existing, False)`` if that alarm already has one (partial unique index),
        and the alarm is linked to the new work order in the same transaction. An unknown alarm raises
        NotFound.
        """
        try:
            with self._transaction() as session:
                row = WorkOrderRow(kind=kind.value, priority=priority.value, status=WorkOrderStatus.OPEN.value,
                                   title=title, description=description, site_id=site_id, asset_id=asset_id,
                                   opened_at=opened_at, due_at=due_at, alarm_id=alarm_id)
                session.add(row)
                session.flush()
                session.add(WorkOrderEventRow(work_order_id=row.id, at=opened_at, actor=actor, from_status=None,
                                              to_status=WorkOrderStatus.OPEN.value, note=""))
                if alarm_id is not None:
                    session.execute(update(AlarmRow).where(AlarmRow.id == alarm_id)
                                    .values(work_order_id=row.id))
                return work_order_from_row(row), True
        except IntegrityError:
            if alarm_id is None:
                raise
            return self._existing_for_alarm(alarm_id), False

    def _existing_for_alarm(self, alarm_id: int) -> WorkOrder:
        with self._transaction() as session:
            row = session.scalars(select(WorkOrderRow).where(WorkOrderRow.alarm_id == alarm_id)).one_or_none()
            if row is None:  # not a duplicate, so the foreign key failed: no such alarm
                raise NotFound(f"alarm {alarm_id} not found")
            return work_order_from_row(row)

    def get(self, work_order_id: int) -> WorkOrder:
        with self._transaction() as session:
            return work_order_from_row(_row(session, work_order_id))

    def list(self, status: WorkOrderStatus | None = None, site_id: str | None = None,
             asset_id: str | None = None, open_only: bool = False, limit: int = 200) -> builtins.list[WorkOrder]:
        """Newest first; ``open_only`` leaves out CLOSED and CANCELLED."""
        query = select(WorkOrderRow).order_by(WorkOrderRow.opened_at.desc(), WorkOrderRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(WorkOrderRow.status == status.value)
        if site_id is not None:
            query = query.where(WorkOrderRow.site_id == site_id)
        if asset_id is not None:
            query = query.where(WorkOrderRow.asset_id == asset_id)
        if open_only:
            query = query.where(WorkOrderRow.status.not_in(TERMINAL_STATUSES))
        with self._transaction() as session:
            return [work_order_from_row(row) for row in session.scalars(query)]

    def update(self, work_order_id: int, to_status: WorkOrderStatus, at: datetime, actor: str, note: str = "",
               assignee: str | None = None, cause: str | None = None, remedy: str | None = None) -> WorkOrder:
        """Record a status change (not validated here: ``workorders.lifecycle`` decides what is allowed).

        ``assignee``, ``cause`` and ``remedy`` are changed only when given; CLOSED and CANCELLED set
        ``closed_at``.
        """
        with self._transaction() as session:
            row = _row(session, work_order_id)
            session.add(WorkOrderEventRow(work_order_id=work_order_id, at=at, actor=actor,
                                          from_status=row.status, to_status=to_status.value, note=note))
            row.status = to_status.value
            if to_status.is_terminal:
                row.closed_at = at
            if assignee is not None:
                row.assignee = assignee
            if cause is not None:
                row.cause = cause
            if remedy is not None:
                row.remedy = remedy
            return work_order_from_row(row)

    def history(self, work_order_id: int) -> builtins.list[WorkOrderEvent]:
        """The work order's events, oldest first (raises NotFound for an unknown work order)."""
        query = (select(WorkOrderEventRow).where(WorkOrderEventRow.work_order_id == work_order_id)
                 .order_by(WorkOrderEventRow.id))
        with self._transaction() as session:
            _row(session, work_order_id)
            return [_event(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(WorkOrderRow)) or 0
