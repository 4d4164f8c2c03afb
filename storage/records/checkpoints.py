"""Rule-engine checkpoints: the engine's JSON snapshot saved under a name, so a restart continues it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.records.models import RuleCheckpointRow
from storage.records.sessions import Repository


class CheckpointRepository(Repository):
    def save(self, name: str, snapshot: dict[str, Any], at: datetime) -> None:
        """Replace the checkpoint ``name`` (one row per engine)."""
        with self._transaction() as session:
            row = session.get(RuleCheckpointRow, name)
            if row is None:
                session.add(RuleCheckpointRow(name=name, saved_at=at, snapshot=snapshot))
            else:
                row.saved_at, row.snapshot = at, snapshot

    def load(self, name: str) -> tuple[dict[str, Any], datetime] | None:
        """The saved snapshot and when it was saved, or None if there is none."""
        with self._transaction() as session:
            row = session.get(RuleCheckpointRow, name)
            return None if row is None else (dict(row.snapshot), row.saved_at)
