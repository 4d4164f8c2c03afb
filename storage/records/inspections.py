"""Inspection rounds and their recorded items (tables inspection_rounds, inspection_results).

The database keeps a schedule idempotent: a round's key (template, item set, site, asset, due time) is
unique, and adding planned rounds inserts with ON CONFLICT DO NOTHING. A site-wide round is stored with
asset_id "" rather than NULL, because NULLs never collide in a unique index (SQLite and PostgreSQL alike);
it reads back as None. Status changes are compare-and-set: 0 rows changed is a Conflict.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Update, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.inspections import InspectionResult, InspectionRound, PlannedRound, RoundStatus
from storage.records.models import InspectionResultRow, InspectionRoundRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row

SITE_WIDE = ""  # asset_id of a site-wide round or item
_CHUNK = 500  # rows per INSERT: well under both backends' bound-parameter limits


def _asset(value: str | None) -> str | None:
    return None if value == SITE_WIDE else value


def round_from_row(row: InspectionRoundRow) -> InspectionRound:
    return InspectionRound(row.id, row.template, row.item_set, row.site_id, _asset(row.asset_id), row.due_at,
                           RoundStatus(row.status), row.assignee, row.started_at, row.completed_at)


def result_from_row(row: InspectionResultRow) -> InspectionResult:
    return InspectionResult(row.id, row.round_id, row.item, _asset(row.asset_id), row.passed, row.value, row.note,
                            row.recorded_by, row.recorded_at, row.work_order_id)


def _rows_changed(session: Session, statement: Update) -> int:
    """How many rows an UPDATE changed (0: the compare-and-set found the row moved on)."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE


@dataclass(frozen=True, slots=True)
class RoundFilter:
    """What a list of rounds is narrowed to; due times over [since, until)."""

    site_id: str | None = None
    statuses: Collection[RoundStatus] = ()
    since: datetime | None = None
    until: datetime | None = None
    assignee: str | None = None

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        if self.site_id is not None:
            found.append(InspectionRoundRow.site_id == self.site_id)
        if self.statuses:
            found.append(InspectionRoundRow.status.in_([s.value for s in self.statuses]))
        if self.since is not None:
            found.append(InspectionRoundRow.due_at >= self.since)
        if self.until is not None:
            found.append(InspectionRoundRow.due_at < self.until)
        if self.assignee is not None:
            found.append(InspectionRoundRow.assignee == self.assignee)
        return found


class InspectionRepository(Repository):
    def add_rounds(self, planned: Iterable[PlannedRound], assignee: str | None = None) -> int:
        """Store the rounds not stored yet (status scheduled); how many were new."""
        rows = [{"template": p.template, "item_set": p.item_set, "site_id": p.site_id,
                 "asset_id": p.asset_id or SITE_WIDE, "due_at": p.due_at, "assignee": assignee,
                 "status": RoundStatus.SCHEDULED.value} for p in planned]
        created = 0
        with self._transaction() as session:
            for start in range(0, len(rows), _CHUNK):
                statement = self._insert_new(session).values(rows[start:start + _CHUNK])
                created += len(session.execute(statement.returning(InspectionRoundRow.id)).all())
        return created

    @staticmethod
    def _insert_new(session: Session) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING in the session's dialect (the key is the unique index)."""
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement: Insert = dialect.insert(InspectionRoundRow).on_conflict_do_nothing()
        return statement

    def get(self, round_id: int) -> InspectionRound:
        with self._transaction() as session:
            return round_from_row(get_row(session, InspectionRoundRow, round_id, "inspection round"))

    def list(self, where: RoundFilter, limit: int | None = None) -> builtins.list[InspectionRound]:
        """Rounds by due time (then id); ``limit`` None: all of them."""
        query = (select(InspectionRoundRow).where(*where.conditions())
                 .order_by(InspectionRoundRow.due_at, InspectionRoundRow.id).limit(limit))
        with self._transaction() as session:
            return [round_from_row(row) for row in session.scalars(query)]

    def page(self, where: RoundFilter, limit: int = 50, after: tuple[datetime, int] | None = None,
             ) -> tuple[builtins.list[InspectionRound], tuple[datetime, int] | None]:
        """One page of rounds by due time, then id, and the cursor of the next page (None on the last)."""
        query = keyset(select(InspectionRoundRow).where(*where.conditions()), InspectionRoundRow.due_at,
                       InspectionRoundRow.id, limit, after, newest_first=False)
        with self._transaction() as session:
            rounds = [round_from_row(row) for row in session.scalars(query)]
        return split(rounds, limit, lambda found: (found.due_at, found.id))

    def total(self, where: RoundFilter) -> int:
        query = select(func.count()).select_from(InspectionRoundRow).where(*where.conditions())
        with self._transaction() as session:
            return session.scalar(query) or 0

    def change(self, round_id: int, expected: RoundStatus, **fields: Any) -> InspectionRound:
        """Set ``fields`` (status as RoundStatus) if the round is still ``expected``; Conflict if it moved on."""
        values = {name: value.value if isinstance(value, RoundStatus) else value for name, value in fields.items()}
        with self._transaction() as session:
            row = get_row(session, InspectionRoundRow, round_id, "inspection round")
            done = _rows_changed(session, update(InspectionRoundRow)
                                 .where(InspectionRoundRow.id == round_id, InspectionRoundRow.status == expected.value)
                                 .values(**values))
            if not done:
                raise Conflict(f"inspection round {round_id} is no longer {expected.value!r}; read it again")
            session.refresh(row)
            return round_from_row(row)

    def mark_missed(self, template: str, due_before: datetime) -> int:
        """Mark missed every round of ``template`` not done and due before ``due_before``; how many."""
        open_ = [RoundStatus.SCHEDULED.value, RoundStatus.IN_PROGRESS.value]
        with self._transaction() as session:
            return _rows_changed(session, update(InspectionRoundRow)
                                 .where(InspectionRoundRow.template == template, InspectionRoundRow.status.in_(open_),
                                        InspectionRoundRow.due_at < due_before)
                                 .values(status=RoundStatus.MISSED.value))

    def record(self, round_id: int, item: str, asset_id: str | None, passed: bool, value: float | None,
               note: str, by: str, at: datetime) -> InspectionResult:
        """Record an item of a round (again: the newer reading replaces the older, the work order stays)."""
        try:
            return self._record(round_id, item, asset_id or SITE_WIDE, passed, value, note, by, at)
        except IntegrityError:  # a concurrent first recording of the same item won: update that one
            return self._record(round_id, item, asset_id or SITE_WIDE, passed, value, note, by, at)

    def _record(self, round_id: int, item: str, asset_id: str, passed: bool, value: float | None,
                note: str, by: str, at: datetime) -> InspectionResult:
        with self._transaction() as session:
            row = session.scalars(select(InspectionResultRow).where(
                InspectionResultRow.round_id == round_id, InspectionResultRow.item == item,
                InspectionResultRow.asset_id == asset_id)).one_or_none()
            if row is None:
                row = InspectionResultRow(round_id=round_id, item=item, asset_id=asset_id)
                session.add(row)
            row.passed, row.value, row.note, row.recorded_by, row.recorded_at = passed, value, note, by, at
            session.flush()
            return result_from_row(row)

    def link_work_order(self, result_id: int, work_order_id: int) -> bool:
        """Link a failed item to its work order unless one is linked already (then False)."""
        with self._transaction() as session:
            return bool(_rows_changed(session, update(InspectionResultRow)
                                      .where(InspectionResultRow.id == result_id,
                                             InspectionResultRow.work_order_id.is_(None))
                                      .values(work_order_id=work_order_id)))

    def results(self, round_id: int) -> builtins.list[InspectionResult]:
        """The items recorded in a round, in the order they were first recorded."""
        query = (select(InspectionResultRow).where(InspectionResultRow.round_id == round_id)
                 .order_by(InspectionResultRow.id))
        with self._transaction() as session:
            return [result_from_row(row) for row in session.scalars(query)]
