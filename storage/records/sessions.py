"""The base of every repository: one short session per call, database errors translated once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import NotFound, ServiceUnavailable

RowT = TypeVar("RowT")
READ_ONLY = "facmon_read_only"  # an execution option: this transaction will not write


class Repository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A session in a transaction, committed on success; an unreachable database is retryable."""
        try:
            with self._sessions.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as error:
            raise ServiceUnavailable(f"records database: {error.orig}") from error

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite a deferred one, so readers do not queue for the write
        lock that every other transaction takes at its start (``Database``)."""
        with self._transaction() as session:
            session.connection(execution_options={READ_ONLY: True})
            yield session


def get_row(session: Session, model: type[RowT], key: Any, what: str) -> RowT:
    """The row of ``model`` with primary key ``key``; NotFound ("{what} {key} not found") if none."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} not found")
    return row
