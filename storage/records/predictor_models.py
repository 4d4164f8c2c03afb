"""Trained predictor models, versioned per name: the next version on add, one active version per name."""

from __future__ import annotations

import builtins

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.domain import ModelRecord
from core.errors import NotFound
from storage.records.models import PredictorModelRow
from storage.records.sessions import Repository


def _record(row: PredictorModelRow) -> ModelRecord:
    return ModelRecord(row.name, row.version, row.trained_at, row.window_start, row.window_end,
                       {key: float(value) for key, value in row.metrics.items()}, row.format, row.blob,
                       row.active, row.id)


class ModelRepository(Repository):
    def add(self, record: ModelRecord) -> ModelRecord:
        """Store ``record`` as the next version of its name (its ``version`` and ``id`` are ignored). If it is
        active, the name's other versions are deactivated in the same transaction."""
        with self._transaction() as session:
            # The UNIQUE (name, version) constraint turns a concurrent add of the same version into an error
            # instead of two rows with one number.
            newest = session.scalar(select(func.max(PredictorModelRow.version))
                                    .where(PredictorModelRow.name == record.name))
            if record.active:
                self._deactivate(session, record.name)
            row = PredictorModelRow(name=record.name, version=(newest or 0) + 1, trained_at=record.trained_at,
                                    window_start=record.window_start, window_end=record.window_end,
                                    metrics=dict(record.metrics), format=record.format, blob=record.blob,
                                    active=record.active)
            session.add(row)
            session.flush()
            return _record(row)

    def active(self, name: str) -> ModelRecord | None:
        """The active version of ``name`` (the newest if several are marked active), or None."""
        query = (select(PredictorModelRow).where(PredictorModelRow.name == name, PredictorModelRow.active)
                 .order_by(PredictorModelRow.version.desc()).limit(1))
        with self._transaction() as session:
            row = session.scalar(query)
            return None if row is None else _record(row)

    def list(self, name: str | None = None) -> builtins.list[ModelRecord]:
        """Every stored version (of ``name`` only, if given), by name then version."""
        query = select(PredictorModelRow).order_by(PredictorModelRow.name, PredictorModelRow.version)
        if name is not None:
            query = query.where(PredictorModelRow.name == name)
        with self._transaction() as session:
            return [_record(row) for row in session.scalars(query)]

    def activate(self, name: str, version: int) -> ModelRecord:
        """Make ``version`` the one active version of ``name``; NotFound if it does not exist."""
        with self._transaction() as session:
            row = session.scalar(select(PredictorModelRow).where(PredictorModelRow.name == name,
                                                                 PredictorModelRow.version == version))
            if row is None:
                raise NotFound(f"model {name} version {version} not found")
            self._deactivate(session, name)
            row.active = True
            session.flush()
            return _record(row)

    @staticmethod
    def _deactivate(session: Session, name: str) -> None:
        session.execute(update(PredictorModelRow).where(PredictorModelRow.name == name).values(active=False))
