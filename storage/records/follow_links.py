"""Residents' follow links and authorship on repair requests and complaints: who filed a record (the
signed-in resident) and the SHA-256 of its follow link's token, over the columns migration 0007 added to
``work_orders`` and ``complaints``. The token itself is never stored."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select, update

from core.errors import NotFound
from storage.records.database import Database
from storage.records.models import ComplaintRow, WorkOrderRow
from storage.records.sessions import Repository

FiledKind = Literal["complaint", "request"]  # sorted: a page orders ties by kind, then id
_TABLES: dict[FiledKind, Any] = {"request": WorkOrderRow, "complaint": ComplaintRow}
_FILED_AT: dict[FiledKind, Any] = {"request": WorkOrderRow.opened_at, "complaint": ComplaintRow.received_at}


@dataclass(frozen=True, slots=True)
class FiledRef:
    """A record a resident filed: its kind, id and when it was filed."""

    kind: FiledKind
    id: int
    at: datetime

    @property
    def key(self) -> tuple[datetime, str, int]:
        return (self.at, self.kind, self.id)


class FollowLinkRepository(Repository):
    @classmethod
    def of(cls, db: Database) -> FollowLinkRepository:
        return cls(db.sessions)

    def stamp(self, kind: FiledKind, record_id: int, token_hash: str, reporter_id: str | None) -> None:
        """Give a freshly filed record its follow link (and its author, when signed in)."""
        table = _TABLES[kind]
        with self._transaction() as session:
            session.execute(update(table).where(table.id == record_id)
                            .values(follow_token_hash=token_hash, reporter_id=reporter_id))

    def find(self, token_hash: str) -> FiledRef:
        """The record whose follow link hashes to ``token_hash`` (NotFound: no such link)."""
        with self._transaction() as session:
            for kind, table in _TABLES.items():
                row = session.execute(select(table.id, _FILED_AT[kind])
                                      .where(table.follow_token_hash == token_hash)).one_or_none()
                if row is not None:
                    return FiledRef(kind, row[0], row[1])
        raise NotFound("no request or complaint has this follow link")

    def reporter_of(self, kind: FiledKind, record_id: int) -> str | None:
        table = _TABLES[kind]
        with self._transaction() as session:
            row = session.execute(select(table.reporter_id).where(table.id == record_id)).one_or_none()
        if row is None:
            raise NotFound(f"{kind} {record_id} not found")
        reporter: str | None = row[0]
        return reporter

    def count_of(self, reporter_id: str) -> int:
        with self._transaction() as session:
            return sum(session.scalar(select(func.count()).select_from(table)
                                      .where(table.reporter_id == reporter_id)) or 0
                       for table in _TABLES.values())

    def page_of(self, reporter_id: str, limit: int,
                after: tuple[datetime, str, int] | None = None) -> builtins.list[FiledRef]:
        """What ``reporter_id`` filed, newest first (then kind, then id: stable), after the key ``after``;
        ``limit + 1`` at most, so the caller knows whether a next page exists."""
        refs: builtins.list[FiledRef] = []
        with self._transaction() as session:
            for kind, table in _TABLES.items():
                at = _FILED_AT[kind]
                query = select(table.id, at).where(table.reporter_id == reporter_id)
                if after is not None:
                    query = query.where(_before(after, kind, at, table.id))
                rows = session.execute(query.order_by(at.desc(), table.id.desc()).limit(limit + 1))
                refs += [FiledRef(kind, row[0], row[1]) for row in rows]
        return sorted(refs, key=lambda ref: ref.key, reverse=True)[:limit + 1]


def _before(after: tuple[datetime, str, int], kind: FiledKind, at: Any, row_id: Any) -> Any:
    """Rows of ``kind`` whose (time, kind, id) sorts before ``after`` in a newest-first page."""
    after_at, after_kind, after_id = after
    if kind < after_kind:
        return at <= after_at
    if kind > after_kind:
        return at < after_at
    return or_(at < after_at, and_(at == after_at, row_id < after_id))
