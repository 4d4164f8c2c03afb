"""Work orders and their recorded history.

The database enforces what must never happen twice: at most one work order per alarm (a partial unique
index), and no lost update: every change is a compare-and-set on the order's status and version, so of
two people accepting the same order at once one wins and the other gets ``Conflict``.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Select, String, and_, cast, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.domain import (
    PartUsed,
    RequestChannel,
    WaitingFor,
    WorkOrder,
    WorkOrderAction,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderSource,
    WorkOrderStatus,
)
from core.errors import Conflict, NotFound
from storage.records.models import AlarmRow, WorkOrderEventRow, WorkOrderRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row

TERMINAL_STATUSES = [status.value for status in WorkOrderStatus if status.is_terminal]
NOT_TERMINAL_STATUSES = [status.value for status in WorkOrderStatus if not status.is_terminal]
OPEN_STATUSES = [status.value for status in WorkOrderStatus if status.is_open]


E = TypeVar("E", bound=enum.Enum)


def _enum_or_none(kind: type[E], value: str | None) -> E | None:
    return None if value is None else kind(value)


_COLUMNS = tuple(WorkOrderRow.__table__.columns)


def work_order_from_row(row: WorkOrderRow | Row[Any]) -> WorkOrder:
    """The work order of an ORM row or of a plain row of ``_COLUMNS`` (same attribute names)."""
    return WorkOrder(
        id=row.id, kind=WorkOrderKind(row.kind), priority=WorkOrderPriority(row.priority),
        status=WorkOrderStatus(row.status), title=row.title, asset_id=row.asset_id, site_id=row.site_id,
        opened_at=row.opened_at, due_at=row.due_at, description=row.description, assignee=row.assignee,
        alarm_id=row.alarm_id, closed_at=row.closed_at, cause=row.cause, remedy=row.remedy,
        source=WorkOrderSource(row.source), source_ref=row.source_ref,
        channel=_enum_or_none(RequestChannel, row.channel), requester=row.requester, reporter_id=row.reporter_id,
        caller_phone=row.caller_phone, address=row.address, related_assets=tuple(row.related_assets or ()),
        recurrences=row.recurrences, version=row.version, waiting_for=_enum_or_none(WaitingFor, row.waiting_for),
        failure_code=row.failure_code,
        parts=tuple(PartUsed(str(p["part"]), float(p.get("quantity", 1))) for p in row.parts or ()),
        labour_hours=row.labour_hours, completion_notes=row.completion_notes, satisfaction=row.satisfaction,
        follow_up_comment=row.follow_up_comment, dispatched_at=row.dispatched_at, accepted_at=row.accepted_at,
        on_site_at=row.on_site_at, restored_at=row.restored_at, completed_at=row.completed_at,
        verified_at=row.verified_at, followed_up_at=row.followed_up_at,
    )


def _event(row: WorkOrderEventRow) -> WorkOrderEvent:
    return WorkOrderEvent(row.work_order_id, row.at, row.actor,
                          None if row.from_status is None else WorkOrderStatus(row.from_status),
                          WorkOrderStatus(row.to_status), row.note, WorkOrderAction(row.action), dict(row.data or {}))


def _row(session: Session, work_order_id: int) -> WorkOrderRow:
    return get_row(session, WorkOrderRow, work_order_id, "work order")


def _column_value(value: Any) -> Any:
    """A field of ``WorkOrder`` as its column stores it (enums by value, parts and tuples as JSON lists)."""
    if isinstance(value, tuple):
        return [{"part": v.part, "quantity": v.quantity} if isinstance(v, PartUsed) else v for v in value]
    return value.value if hasattr(value, "value") else value


@dataclass(frozen=True, slots=True)
class WorkOrderFilter:
    """What a list of work orders is narrowed to; every field optional."""

    status: WorkOrderStatus | None = None
    statuses: Sequence[WorkOrderStatus] = ()
    site_id: str | None = None
    asset_id: str | None = None  # the order's asset, or one of a site-level order's related assets
    assignee: str | None = None
    kind: WorkOrderKind | None = None
    priority: WorkOrderPriority | None = None
    source: WorkOrderSource | None = None
    open_only: bool = False  # leave out closed and cancelled
    overdue_at: datetime | None = None  # only orders still open whose due time passed before this
    opened_since: datetime | None = None
    opened_until: datetime | None = None
    owner: str | None = None  # only orders assigned to or filed by this user (a technician's, a resident's)

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions = []
        if self.status is not None:
            conditions.append(WorkOrderRow.status == self.status.value)
        if self.statuses:
            conditions.append(WorkOrderRow.status.in_([s.value for s in self.statuses]))
        if self.site_id is not None:
            conditions.append(WorkOrderRow.site_id == self.site_id)
        if self.asset_id is not None:
            # A site-level order names its assets in a JSON list, matched as text ('"p1"' within it).
            conditions.append(or_(WorkOrderRow.asset_id == self.asset_id,
                                  cast(WorkOrderRow.related_assets, String).contains(f'"{self.asset_id}"')))
        for column, value in ((WorkOrderRow.assignee, self.assignee), (WorkOrderRow.kind, self.kind),
                              (WorkOrderRow.priority, self.priority), (WorkOrderRow.source, self.source)):
            if value is not None:
                conditions.append(column == _column_value(value))
        if self.open_only:
            # IN the other states rather than NOT IN the terminal ones: the same rows, and the status index
            # serves it (a few thousand open orders of 200k instead of a scan; facmon bench api).
            conditions.append(WorkOrderRow.status.in_(NOT_TERMINAL_STATUSES))
        if self.overdue_at is not None:
            conditions.extend([WorkOrderRow.status.in_(OPEN_STATUSES), WorkOrderRow.due_at < self.overdue_at])
        if self.opened_since is not None:
            conditions.append(WorkOrderRow.opened_at >= self.opened_since)
        if self.opened_until is not None:
            conditions.append(WorkOrderRow.opened_at < self.opened_until)
        if self.owner is not None:
            conditions.append(or_(WorkOrderRow.assignee == self.owner, WorkOrderRow.reporter_id == self.owner))
        return query.where(and_(*conditions)) if conditions else query


Cursor = tuple[datetime, int]  # (opened_at, id) of the last order of the previous page


class WorkOrderRepository(Repository):
    def create(self, kind: WorkOrderKind, priority: WorkOrderPriority, title: str, site_id: str,
               asset_id: str | None, opened_at: datetime, due_at: datetime, description: str = "",
               alarm_id: int | None = None, actor: str = "system", **fields: Any) -> tuple[WorkOrder, bool]:
        """Open a work order (status REQUESTED, first event None -> REQUESTED).

        ``fields``: more columns of ``WorkOrder`` (source, source_ref, channel, requester, caller_phone,
        address, related_assets, assignee ...). With ``alarm_id``: ``(existing, False)`` if that alarm
        already has one (partial unique index), and the alarm is linked to the new work order in the same
        transaction. An unknown alarm raises NotFound.
        """
        if alarm_id is not None:
            fields.setdefault("source", WorkOrderSource.ALARM)
            fields.setdefault("source_ref", f"alarm:{alarm_id}")
        with self._transaction() as session:
            try:
                # A savepoint: a second order for the alarm leaves an enclosing unit of work usable.
                with session.begin_nested():
                    columns = {"parts": [], "related_assets": [],
                               **{name: _column_value(value) for name, value in fields.items()}}
                    row = WorkOrderRow(kind=kind.value, priority=priority.value,
                                       status=WorkOrderStatus.REQUESTED.value, title=title, description=description,
                                       site_id=site_id, asset_id=asset_id, opened_at=opened_at, due_at=due_at,
                                       alarm_id=alarm_id, version=1, recurrences=0, **columns)
                    session.add(row)
                    session.flush()
                    session.add(WorkOrderEventRow(work_order_id=row.id, at=opened_at, actor=actor, from_status=None,
                                                  to_status=WorkOrderStatus.REQUESTED.value, note="", data={}))
                    if alarm_id is not None:
                        session.execute(update(AlarmRow).where(AlarmRow.id == alarm_id)
                                        .values(work_order_id=row.id))
                return work_order_from_row(row), True
            except IntegrityError:
                if alarm_id is None:
                    raise
                return self._existing_for_alarm(session, alarm_id), False

    @staticmethod
    def _existing_for_alarm(session: Session, alarm_id: int) -> WorkOrder:
        row = session.scalars(select(WorkOrderRow).where(WorkOrderRow.alarm_id == alarm_id)).one_or_none()
        if row is None:  # not a duplicate, so the foreign key failed: no such alarm
            raise NotFound(f"alarm {alarm_id} not found")
        return work_order_from_row(row)

    def get(self, work_order_id: int) -> WorkOrder:
        # A plain SELECT of the columns: cheaper than loading an ORM object on the hot path of every step.
        with self._reading() as session:
            row = session.execute(select(*_COLUMNS).where(WorkOrderRow.id == work_order_id)).one_or_none()
        if row is None:
            raise NotFound(f"work order {work_order_id} not found")
        return work_order_from_row(row)

    def list(self, status: WorkOrderStatus | None = None, site_id: str | None = None,
             asset_id: str | None = None, open_only: bool = False, limit: int = 200) -> builtins.list[WorkOrder]:
        """Newest first; ``open_only`` leaves out CLOSED and CANCELLED."""
        return self.page(WorkOrderFilter(status=status, site_id=site_id, asset_id=asset_id, open_only=open_only),
                         limit)[0]

    def page(self, where: WorkOrderFilter, limit: int = 50,
             after: Cursor | None = None) -> tuple[builtins.list[WorkOrder], Cursor | None]:
        """One page of orders, newest first (opened_at, then id: a stable order), and the cursor of the next
        page (None on the last one)."""
        with self._reading() as session:
            return self._page(session, where, limit, after)

    def page_and_total(self, where: WorkOrderFilter, limit: int = 50, after: Cursor | None = None
                       ) -> tuple[builtins.list[WorkOrder], Cursor | None, int]:
        """``page`` and ``total`` read in one transaction: one snapshot, so the count fits the page."""
        with self._reading() as session:
            return *self._page(session, where, limit, after), self._total(session, where)

    def total(self, where: WorkOrderFilter) -> int:
        """How many orders match ``where`` (for a list's total)."""
        with self._reading() as session:
            return self._total(session, where)

    @staticmethod
    def _page(session: Session, where: WorkOrderFilter, limit: int,
              after: Cursor | None) -> tuple[builtins.list[WorkOrder], Cursor | None]:
        query = keyset(where.apply(select(WorkOrderRow)), WorkOrderRow.opened_at, WorkOrderRow.id, limit, after,
                       newest_first=True)
        orders = [work_order_from_row(row) for row in session.scalars(query)]
        return split(orders, limit, lambda order: (order.opened_at, order.id))

    @staticmethod
    def _total(session: Session, where: WorkOrderFilter) -> int:
        return session.scalar(where.apply(select(func.count()).select_from(WorkOrderRow))) or 0

    def change(self, work_order_id: int, expected_status: WorkOrderStatus, at: datetime, actor: str, *,
               to_status: WorkOrderStatus | None = None, expected_version: int | None = None,
               action: WorkOrderAction = WorkOrderAction.TRANSITION, note: str = "",
               data: Mapping[str, Any] | None = None, **fields: Any) -> WorkOrder:
        """Change an order in one unit of work: a compare-and-set on its status (and version, if given),
        the new field values, ``version + 1``, and the event that records who, when and why.

        The lifecycle is not checked here (``workorders.lifecycle`` decides what is allowed). Someone
        else changed the order first: ``Conflict``; unknown order: ``NotFound``.
        """
        status = expected_status if to_status is None else to_status
        values = {name: _column_value(value) for name, value in fields.items()}
        values.update(status=status.value, version=WorkOrderRow.version + 1)
        if status.is_terminal and to_status is not None:
            values["closed_at"] = at
        guard = [WorkOrderRow.id == work_order_id, WorkOrderRow.status == expected_status.value]
        if expected_version is not None:
            guard.append(WorkOrderRow.version == expected_version)
        # Two statements: the compare-and-set hands back the changed row (RETURNING), then the event.
        with self._transaction() as session:
            row = session.execute(update(WorkOrderRow).where(*guard).values(values).returning(*_COLUMNS)
                                  .execution_options(synchronize_session=False)).one_or_none()
            if row is None:
                current = _row(session, work_order_id)  # NotFound if it does not exist
                raise Conflict(f"work order {work_order_id} changed meanwhile: it is {current.status!r} at "
                               f"version {current.version}, not {expected_status.value!r}"
                               + ("" if expected_version is None else f" at version {expected_version}"))
            session.execute(insert(WorkOrderEventRow).values(
                work_order_id=work_order_id, at=at, actor=actor, from_status=expected_status.value,
                to_status=status.value, note=note, action=action.value, data=dict(data or {})))
            return work_order_from_row(row)

    def add_recurrence(self, work_order_id: int, at: datetime, actor: str, note: str,
                       data: Mapping[str, Any] | None = None) -> WorkOrder:
        """Count one more episode of the same fault on this open order, with an event saying so."""
        with self._transaction() as session:
            row = _row(session, work_order_id)
            row.recurrences += 1
            row.version += 1
            session.add(WorkOrderEventRow(work_order_id=work_order_id, at=at, actor=actor, from_status=row.status,
                                          to_status=row.status, note=note, action=WorkOrderAction.RECURRENCE.value,
                                          data=dict(data or {})))
            return work_order_from_row(row)

    def open_for_rule(self, rule_id: str, asset_id: str) -> WorkOrder | None:
        """The newest open order opened by an alarm of ``rule_id`` on ``asset_id`` (a recurring fault)."""
        query = (select(WorkOrderRow).join(AlarmRow, AlarmRow.id == WorkOrderRow.alarm_id)
                 .where(AlarmRow.rule_id == rule_id, AlarmRow.asset_id == asset_id,
                        WorkOrderRow.status.in_(OPEN_STATUSES))
                 .order_by(WorkOrderRow.id.desc()).limit(1))
        with self._transaction() as session:
            row = session.scalars(query).first()
            return None if row is None else work_order_from_row(row)

    def history(self, work_order_id: int) -> builtins.list[WorkOrderEvent]:
        """The work order's events, oldest first (raises NotFound for an unknown work order)."""
        query = (select(WorkOrderEventRow).where(WorkOrderEventRow.work_order_id == work_order_id)
                 .order_by(WorkOrderEventRow.id))
        with self._reading() as session:
            _row(session, work_order_id)
            return [_event(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(WorkOrderRow)) or 0
