"""The base of every repository: one short session per call, database errors translated once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ServiceUnavailable


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
