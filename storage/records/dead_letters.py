"""Rejected device messages, kept with their reason for inspection and reprocessing."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select

from core.domain import DEAD_LETTER_PAYLOAD_BYTES, DeadLetter
from storage.records.models import DeadLetterRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository

LetterCursor = tuple[datetime, int]  # (received_at, id) of the last letter of the previous page


def _letter(row: DeadLetterRow) -> DeadLetter:
    return DeadLetter(row.id, row.received_at, row.topic, row.reason, row.detail, row.payload)


class DeadLetterRepository(Repository):
    def add(self, letter: DeadLetter) -> DeadLetter:
        """Store the letter (payload cut to DEAD_LETTER_PAYLOAD_BYTES); returns it with its new id."""
        payload = bytes(letter.payload[:DEAD_LETTER_PAYLOAD_BYTES])
        with self._transaction() as session:
            row = DeadLetterRow(received_at=letter.received_at, topic=letter.topic, reason=letter.reason,
                                detail=letter.detail, payload=payload)
            session.add(row)
            session.flush()
            return dataclasses.replace(letter, id=row.id, payload=payload)

    def list(self, reason: str | None = None, limit: int = 100) -> builtins.list[DeadLetter]:
        """Newest first."""
        return self.page(reason, limit)[0]

    def page(self, reason: str | None = None, limit: int = 50,
             after: LetterCursor | None = None) -> tuple[builtins.list[DeadLetter], LetterCursor | None]:
        """One page of letters, newest first (received_at, then id: a stable order), and the cursor of the
        next page (None on the last one)."""
        query = select(DeadLetterRow)
        if reason is not None:
            query = query.where(DeadLetterRow.reason == reason)
        query = keyset(query, DeadLetterRow.received_at, DeadLetterRow.id, limit, after, newest_first=True)
        with self._transaction() as session:
            letters = [_letter(row) for row in session.scalars(query)]
        return split(letters, limit, lambda letter: (letter.received_at, letter.id))

    def total(self, reason: str | None = None) -> int:
        """How many letters (of ``reason``) are stored."""
        query = select(func.count()).select_from(DeadLetterRow)
        if reason is not None:
            query = query.where(DeadLetterRow.reason == reason)
        with self._transaction() as session:
            return session.scalar(query) or 0

    def counts(self) -> dict[str, int]:
        """Stored letters per reason."""
        query = select(DeadLetterRow.reason, func.count()).group_by(DeadLetterRow.reason)
        with self._transaction() as session:
            return {reason: int(count) for reason, count in session.execute(query).all()}

    def delete(self, ids: Collection[int]) -> int:
        if not ids:
            return 0
        with self._transaction() as session:
            result = session.execute(delete(DeadLetterRow).where(DeadLetterRow.id.in_(list(ids))))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def count(self) -> int:
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(DeadLetterRow)) or 0
