"""The base of every repository: one short session per call, database errors translated once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import NotFound, ServiceUnavailable

RowT = TypeVar("RowT")
READ_ONLY = "facmon_read_only"  # an execution option: this transaction will not write


class UnitOfWork:
    """One transaction that several repository calls join (``unit_of_work``), with work to do after it
    commits (publishing events: nothing is announced that was rolled back)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after_commit.append(action)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the unit that may fail alone: on an error its writes and its ``after_commit`` actions
        are undone, the rest of the unit stands (the error propagates)."""
        registered = len(self._after_commit)
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            del self._after_commit[registered:]
            raise

    def committed(self) -> None:
        for action in self._after_commit:
            action()


# The unit of work open on this thread (or task), if any: repository calls join it instead of committing.
_CURRENT: ContextVar[UnitOfWork | None] = ContextVar("facmon_unit_of_work", default=None)


def current_unit_of_work() -> UnitOfWork | None:
    return _CURRENT.get()


def when_committed(action: Callable[[], object]) -> None:
    """Run ``action`` after the unit of work open on this thread commits, or now if none is open (a bus
    event for a write: never announced if the write is rolled back)."""
    work = _CURRENT.get()
    if work is None:
        action()
        return

    def run() -> None:
        action()

    work.after_commit(run)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session], check: Callable[[Session], None] | None = None
                 ) -> Iterator[UnitOfWork]:
    """Every repository call inside joins one transaction, committed at the end or rolled back on an error.

    ``check`` runs first inside the transaction (the partition fence: it raises if the lease moved on). A
    nested call joins the outer unit. After the commit, the unit's ``after_commit`` actions run in order."""
    outer = _CURRENT.get()
    if outer is not None:
        yield outer
        return
    try:
        with sessions.begin() as session:
            work = UnitOfWork(session)
            token = _CURRENT.set(work)
            try:
                if check is not None:
                    check(session)
                yield work
            finally:
                _CURRENT.reset(token)
    except (OperationalError, InterfaceError) as error:
        raise ServiceUnavailable(f"records database: {error.orig}") from error
    work.committed()


class Repository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A session in a transaction, committed on success; an unreachable database is retryable. Inside a
        ``unit_of_work`` the call joins its transaction (committed, or rolled back, with the unit)."""
        work = _CURRENT.get()
        if work is not None:
            yield work.session
            return
        try:
            with self._sessions.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as error:
            raise ServiceUnavailable(f"records database: {error.orig}") from error

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite a deferred one, so readers do not queue for the write
        lock that every other transaction takes at its start (``Database``)."""
        if _CURRENT.get() is not None:
            with self._transaction() as session:
                yield session
            return
        with self._transaction() as session:
            session.connection(execution_options={READ_ONLY: True})
            yield session


def get_row(session: Session, model: type[RowT], key: Any, what: str) -> RowT:
    """The row of ``model`` with primary key ``key``; NotFound ("{what} {key} not found") if none."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} not found")
    return row
