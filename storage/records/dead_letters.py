"""Rejected device messages, kept with their reason for inspection and reprocessing."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Collection

from sqlalchemy import delete, func, select

from core.domain import DEAD_LETTER_PAYLOAD_BYTES, DeadLetter
from storage.records.models import DeadLetterRow
from storage.records.sessions import Repository


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
        query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
        if reason is not None:
            query = query.where(DeadLetterRow.reason == reason)
        with self._transaction() as session:
            return [_letter(row) for row in session.scalars(query)]

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
