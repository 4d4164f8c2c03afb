"""The audit log: one row per write through the API or the CLI (who, what, on which record, before and after),
appended and never changed, and read back newest first with filters and a stable cursor."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, insert, select, tuple_

from storage.records.models import AuditRow
from storage.records.sessions import Repository


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded write. ``before``/``after`` are the record as JSON (None: created / deleted / not known);
    ``status`` is the HTTP status the write answered (None from the CLI)."""

    at: datetime
    actor: str
    via: str
    action: str  # "<target type>.<verb>", e.g. "alarm.acknowledge"; "http.<METHOD>" for the fallback
    target_type: str | None = None
    target_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request_id: str | None = None
    status: int | None = None
    id: int | None = None  # set once stored


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What a read of the log is narrowed to; times over [since, until); ``action`` matches a prefix
    ("alarm." for every alarm action)."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions: list[Any] = []
        for column, value in ((AuditRow.actor, self.actor), (AuditRow.target_type, self.target_type),
                              (AuditRow.target_id, self.target_id)):
            if value is not None:
                conditions.append(column == value)
        if self.action is not None:
            conditions.append(AuditRow.action.startswith(self.action, autoescape=True))
        if self.since is not None:
            conditions.append(AuditRow.at >= self.since)
        if self.until is not None:
            conditions.append(AuditRow.at < self.until)
        return query.where(and_(*conditions)) if conditions else query


Cursor = tuple[datetime, int]  # (at, id) of the last entry of the previous page


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(at=row.at, actor=row.actor, via=row.via, action=row.action, target_type=row.target_type,
                      target_id=row.target_id, before=row.before, after=row.after, request_id=row.request_id,
                      status=row.status, id=row.id)


class AuditRepository(Repository):
    def append(self, entry: AuditEntry) -> int:
        """Store ``entry``; its id."""
        values = {name: getattr(entry, name) for name in AuditEntry.__slots__ if name != "id"}
        with self._transaction() as session:
            return int(session.execute(insert(AuditRow).values(**values).returning(AuditRow.id)).scalar_one())

    def page(self, where: AuditFilter, limit: int = 50,
             after: Cursor | None = None) -> tuple[builtins.list[AuditEntry], Cursor | None]:
        """One page of entries, newest first (at, then id), and the cursor of the next (None on the last)."""
        query = where.apply(select(AuditRow))
        if after is not None:
            query = query.where(tuple_(AuditRow.at, AuditRow.id) < tuple_(*after))
        query = query.order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit + 1)
        with self._transaction() as session:
            rows = builtins.list(session.scalars(query))
        entries = [_entry(row) for row in rows[:limit]]
        last = entries[-1] if len(rows) > limit and entries else None
        return entries, None if last is None or last.id is None else (last.at, last.id)

    def total(self, where: AuditFilter) -> int:
        with self._transaction() as session:
            return session.scalar(where.apply(select(func.count()).select_from(AuditRow))) or 0
