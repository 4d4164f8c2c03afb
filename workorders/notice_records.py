"""Notices over the table ``notices``.

Edits and status changes are compare-and-set on the status (``UPDATE ... WHERE status = :expected``):
an edit racing a publish either lands on the draft or fails with ``Conflict``, never changes what
residents were already shown.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.orm import Session

from core.errors import Conflict
from storage.records import Database
from storage.records.models import NoticeRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row
from workorders.notices import Notice, NoticeStatus, Window


def notice_from_row(row: NoticeRow) -> Notice:
    return Notice(id=row.id, site_id=row.site_id, title=row.title, body=row.body, starts_at=row.starts_at,
                  ends_at=row.ends_at, status=NoticeStatus(row.status), work_order_id=row.work_order_id,
                  created_by=row.created_by, created_at=row.created_at, published_at=row.published_at)


def _row(session: Session, notice_id: int) -> NoticeRow:
    return get_row(session, NoticeRow, notice_id, "notice")


@dataclass(frozen=True, slots=True)
class NoticeFilter:
    """What a list of notices is narrowed to; every field optional."""

    site_id: str | None = None
    status: NoticeStatus | None = None
    at: datetime | None = None  # only notices whose window holds this time
    ends_after: datetime | None = None  # only notices whose window ends after this time

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions = []
        if self.site_id is not None:
            conditions.append(NoticeRow.site_id == self.site_id)
        if self.status is not None:
            conditions.append(NoticeRow.status == self.status.value)
        if self.at is not None:
            conditions.extend([NoticeRow.starts_at <= self.at, NoticeRow.ends_at > self.at])
        if self.ends_after is not None:
            conditions.append(NoticeRow.ends_at > self.ends_after)
        return query.where(and_(*conditions)) if conditions else query


class NoticeRepository(Repository):
    @classmethod
    def of(cls, db: Database) -> NoticeRepository:
        """The repository on ``db``'s sessions (one session factory per database)."""
        return cls(db.sessions)

    def create(self, site_id: str, title: str, body: str, window: Window, created_by: str, created_at: datetime,
               work_order_id: int | None = None) -> Notice:
        """A new draft."""
        with self._transaction() as session:
            row = NoticeRow(site_id=site_id, title=title, body=body, starts_at=window.starts_at,
                            ends_at=window.ends_at, status=NoticeStatus.DRAFT.value, work_order_id=work_order_id,
                            created_by=created_by, created_at=created_at)
            session.add(row)
            session.flush()
            return notice_from_row(row)

    def get(self, notice_id: int) -> Notice:
        with self._transaction() as session:
            return notice_from_row(_row(session, notice_id))

    def list(self, where: NoticeFilter, limit: int = 200) -> builtins.list[Notice]:
        """By window, the soonest first (then id): the order residents read them in."""
        query = where.apply(select(NoticeRow)).order_by(NoticeRow.starts_at, NoticeRow.id).limit(limit)
        with self._transaction() as session:
            return [notice_from_row(row) for row in session.scalars(query)]

    def page(self, where: NoticeFilter, limit: int = 50, after: tuple[datetime, int] | None = None,
             ) -> tuple[builtins.list[Notice], tuple[datetime, int] | None]:
        """As ``list``, ``limit`` at most after the cursor ``after``; the cursor of the next page (None on the
        last)."""
        query = keyset(where.apply(select(NoticeRow)), NoticeRow.starts_at, NoticeRow.id, limit, after,
                       newest_first=False)
        with self._reading() as session:
            notices = [notice_from_row(row) for row in session.scalars(query)]
        return split(notices, limit, lambda notice: (notice.starts_at, notice.id))

    def total(self, where: NoticeFilter) -> int:
        with self._reading() as session:
            return session.scalar(where.apply(select(func.count()).select_from(NoticeRow))) or 0

    def change(self, notice_id: int, expected_status: NoticeStatus, **fields: Any) -> Notice:
        """Set ``fields`` (``status`` given as a NoticeStatus) if the notice is still ``expected_status``;
        else ``Conflict`` (``NotFound`` if unknown)."""
        values = {name: value.value if isinstance(value, NoticeStatus) else value for name, value in fields.items()}
        guard = [NoticeRow.id == notice_id, NoticeRow.status == expected_status.value]
        with self._transaction() as session:
            result = session.execute(update(NoticeRow).where(*guard).values(values)
                                     .execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
                current = _row(session, notice_id)  # NotFound if it does not exist
                raise Conflict(f"notice {notice_id} is {current.status}, not {expected_status.value}")
            row = _row(session, notice_id)
            session.refresh(row)
            return notice_from_row(row)
