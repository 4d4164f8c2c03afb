"""Rule-engine checkpoints: a partition's rule state saved under its name, so a restart (or a standby taking
the partition over) continues it. Each save records the lease epoch of its writer: a save from an older
epoch than the stored one is refused (``Fenced``), so an instance that lost its partition cannot overwrite
its successor's state even outside a fenced unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.errors import Fenced
from storage.records.models import RuleCheckpointRow
from storage.records.sessions import Repository


class CheckpointRepository(Repository):
    def save(self, name: str, snapshot: dict[str, Any], at: datetime, epoch: int = 0) -> None:
        """Replace the checkpoint ``name`` (one row per partition); Fenced if it was saved by a later epoch."""
        with self._transaction() as session:
            row = session.get(RuleCheckpointRow, name, with_for_update=True)
            if row is None:
                session.add(RuleCheckpointRow(name=name, saved_at=at, snapshot=snapshot, epoch=epoch))
            elif row.epoch > epoch:
                raise Fenced(f"checkpoint {name}: saved by epoch {row.epoch}, refusing epoch {epoch}")
            else:
                row.saved_at, row.snapshot, row.epoch = at, snapshot, epoch

    def load(self, name: str) -> tuple[dict[str, Any], datetime] | None:
        """The saved snapshot and when it was saved, or None if there is none."""
        with self._reading() as session:
            row = session.get(RuleCheckpointRow, name)
            return None if row is None else (dict(row.snapshot), row.saved_at)

    def epoch(self, name: str) -> int | None:
        """The lease epoch that saved the checkpoint ``name`` (None: no checkpoint)."""
        with self._reading() as session:
            row = session.get(RuleCheckpointRow, name)
            return None if row is None else row.epoch
