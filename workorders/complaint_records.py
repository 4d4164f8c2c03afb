"""Complaints and their recorded history over the tables ``complaints`` and ``complaint_events``.

Every change is one unit of work: a compare-and-set on the complaint's status (and version, when the
caller read one), the new fields, ``version + 1`` and the event that records who, when and why; of two
people answering the same complaint at once, one wins and the other gets ``Conflict``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.orm import Session

from core.domain import RequestChannel
from core.errors import Conflict
from storage.records import Database
from storage.records.models import ComplaintEventRow, ComplaintRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row
from workorders.complaints import Complaint, ComplaintCategory, ComplaintEvent, ComplaintStatus


def complaint_from_row(row: ComplaintRow) -> Complaint:
    return Complaint(
        id=row.id, site_id=row.site_id, channel=RequestChannel(row.channel),
        category=ComplaintCategory(row.category), status=ComplaintStatus(row.status), complainant=row.complainant,
        phone=row.phone, description=row.description, received_at=row.received_at,
        respond_due_at=row.respond_due_at, responded_at=row.responded_at, answer=row.answer,
        satisfaction=row.satisfaction, follow_up_comment=row.follow_up_comment, closed_at=row.closed_at,
        work_order_ids=tuple(row.work_order_ids or ()), version=row.version, reporter_id=row.reporter_id,
    )


def _event(row: ComplaintEventRow) -> ComplaintEvent:
    return ComplaintEvent(row.complaint_id, row.at, row.actor,
                          None if row.from_status is None else ComplaintStatus(row.from_status),
                          ComplaintStatus(row.to_status), row.note)


def _row(session: Session, complaint_id: int) -> ComplaintRow:
    return get_row(session, ComplaintRow, complaint_id, "complaint")


def _column_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value.value if hasattr(value, "value") else value


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    """What a list of complaints is narrowed to; every field optional."""

    site_id: str | None = None
    status: ComplaintStatus | None = None
    overdue_at: datetime | None = None  # only those still awaiting a first response due before this
    reporter_id: str | None = None  # only those filed by this signed-in resident

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions = []
        if self.site_id is not None:
            conditions.append(ComplaintRow.site_id == self.site_id)
        if self.status is not None:
            conditions.append(ComplaintRow.status == self.status.value)
        if self.reporter_id is not None:
            conditions.append(ComplaintRow.reporter_id == self.reporter_id)
        if self.overdue_at is not None:  # the same rule as complaints.is_overdue, as SQL
            conditions.extend([ComplaintRow.status == ComplaintStatus.RECEIVED.value,
                               ComplaintRow.respond_due_at < self.overdue_at])
        return query.where(and_(*conditions)) if conditions else query


class ComplaintRepository(Repository):
    @classmethod
    def of(cls, db: Database) -> ComplaintRepository:
        """The repository on ``db``'s sessions (one session factory per database)."""
        return cls(db.sessions)

    def create(self, site_id: str, channel: RequestChannel, category: ComplaintCategory, complainant: str,
               description: str, received_at: datetime, respond_due_at: datetime, actor: str,
               phone: str | None = None) -> Complaint:
        """Register a complaint (RECEIVED, first event None -> RECEIVED)."""
        with self._transaction() as session:
            row = ComplaintRow(site_id=site_id, channel=channel.value, category=category.value,
                               status=ComplaintStatus.RECEIVED.value, complainant=complainant, phone=phone,
                               description=description, received_at=received_at, respond_due_at=respond_due_at,
                               answer="", follow_up_comment="", work_order_ids=[], version=1)
            session.add(row)
            session.flush()
            session.add(ComplaintEventRow(complaint_id=row.id, at=received_at, actor=actor, from_status=None,
                                          to_status=ComplaintStatus.RECEIVED.value, note=""))
            return complaint_from_row(row)

    def get(self, complaint_id: int) -> Complaint:
        with self._transaction() as session:
            return complaint_from_row(_row(session, complaint_id))

    def page(self, where: ComplaintFilter, limit: int = 50, after: tuple[datetime, int] | None = None,
             ) -> tuple[builtins.list[Complaint], tuple[datetime, int] | None]:
        """Newest first (received_at, then id), ``limit`` at most after the cursor ``after``; the cursor of
        the next page (None on the last)."""
        query = keyset(where.apply(select(ComplaintRow)), ComplaintRow.received_at, ComplaintRow.id, limit, after,
                       newest_first=True)
        with self._reading() as session:
            complaints = [complaint_from_row(row) for row in session.scalars(query)]
        return split(complaints, limit, lambda complaint: (complaint.received_at, complaint.id))

    def total(self, where: ComplaintFilter) -> int:
        with self._reading() as session:
            return session.scalar(where.apply(select(func.count()).select_from(ComplaintRow))) or 0

    def change(self, complaint_id: int, expected_status: ComplaintStatus, at: datetime, actor: str, *,
               to_status: ComplaintStatus | None = None, expected_version: int | None = None, note: str = "",
               **fields: Any) -> Complaint:
        """Change a complaint in one unit of work (see the module docstring); the lifecycle is checked by
        the caller. Changed by someone else first: ``Conflict``; unknown: ``NotFound``."""
        status = expected_status if to_status is None else to_status
        values = {name: _column_value(value) for name, value in fields.items()}
        values.update(status=status.value, version=ComplaintRow.version + 1)
        guard = [ComplaintRow.id == complaint_id, ComplaintRow.status == expected_status.value]
        if expected_version is not None:
            guard.append(ComplaintRow.version == expected_version)
        with self._transaction() as session:
            result = session.execute(update(ComplaintRow).where(*guard).values(values)
                                     .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
                current = _row(session, complaint_id)  # NotFound if it does not exist
                raise Conflict(f"complaint {complaint_id} changed meanwhile: it is {current.status!r} at "
                               f"version {current.version}, not {expected_status.value!r}"
                               + ("" if expected_version is None else f" at version {expected_version}"))
            session.add(ComplaintEventRow(complaint_id=complaint_id, at=at, actor=actor,
                                          from_status=expected_status.value, to_status=status.value, note=note))
            session.flush()
            row = _row(session, complaint_id)
            session.refresh(row)
            return complaint_from_row(row)

    def history(self, complaint_id: int) -> builtins.list[ComplaintEvent]:
        """The complaint's events, oldest first (NotFound for an unknown complaint)."""
        query = (select(ComplaintEventRow).where(ComplaintEventRow.complaint_id == complaint_id)
                 .order_by(ComplaintEventRow.id))
        with self._transaction() as session:
            _row(session, complaint_id)
            return [_event(row) for row in session.scalars(query)]
