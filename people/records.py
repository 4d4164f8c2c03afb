"""Repositories over the people tables (users, technicians, shifts), on SQLite and PostgreSQL alike.

They share the records database's engine (``PeopleRecords(db)``); ``storage`` cannot know this package,
so the bundle is built here rather than hung on ``storage.records.Database``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from core.errors import InvalidRequest, NotFound
from people.model import Role, Shift, Skill, Technician, User
from people.roster import Roster
from storage.records import Database
from storage.records.models import ShiftRow, TechnicianRow, UserRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row


def user_of(row: UserRow) -> User:
    return User(row.id, row.name, frozenset(Role(r) for r in row.roles), row.phone, row.email, row.active,
                row.supervisor_id, row.created_at, row.locale, frozenset(row.sites))


def _technician(row: TechnicianRow) -> Technician:
    return Technician(row.user_id, frozenset(Skill(s) for s in row.skills),
                      {code: date.fromisoformat(expiry) for code, expiry in row.certificates.items()},
                      frozenset(row.sites), row.zone)


def _shift(row: ShiftRow) -> Shift:
    return Shift(row.user_id, row.starts_at, row.ends_at, row.on_call, row.id)


def require_user(session: Session, user_id: str) -> UserRow:
    return get_row(session, UserRow, user_id, "user")


class UserRepository(Repository):
    def upsert(self, user: User, at: datetime) -> User:
        """Insert or replace ``user``; ``at`` is its creation time if it is new."""
        with self._transaction() as session:
            row = session.get(UserRow, user.id)
            if row is None:
                row = UserRow(id=user.id, created_at=at)
                session.add(row)
            row.name, row.roles, row.phone, row.email = user.name, sorted(user.roles), user.phone, user.email
            row.active, row.supervisor_id = user.active, user.supervisor_id
            row.locale, row.sites = user.locale, sorted(user.sites)
            session.flush()
            return user_of(row)

    def get(self, user_id: str) -> User:
        with self._transaction() as session:
            return user_of(require_user(session, user_id))

    def find(self, user_id: str) -> User | None:
        with self._transaction() as session:
            row = session.get(UserRow, user_id)
            return None if row is None else user_of(row)

    def list(self, role: Role | None = None, active_only: bool = False) -> builtins.list[User]:
        """Users by id; ``role`` keeps those holding it (filtered here: roles are a JSON list)."""
        query = select(UserRow).order_by(UserRow.id)
        if active_only:
            query = query.where(UserRow.active.is_(True))
        with self._transaction() as session:
            users = [user_of(row) for row in session.scalars(query)]
        return [user for user in users if role is None or user.has(role)]


class TechnicianRepository(Repository):
    def upsert(self, technician: Technician) -> Technician:
        """Insert or replace what user ``technician.user_id`` may work on (NotFound if no such user)."""
        with self._transaction() as session:
            require_user(session, technician.user_id)
            row = session.get(TechnicianRow, technician.user_id)
            if row is None:
                row = TechnicianRow(user_id=technician.user_id)
                session.add(row)
            row.skills, row.sites, row.zone = sorted(technician.skills), sorted(technician.sites), technician.zone
            row.certificates = {code: expiry.isoformat() for code, expiry in sorted(technician.certificates.items())}
            session.flush()
            return _technician(row)

    def find(self, user_id: str) -> Technician | None:
        with self._transaction() as session:
            row = session.get(TechnicianRow, user_id)
            return None if row is None else _technician(row)

    def list(self, active_only: bool = True) -> builtins.list[Technician]:
        """Technicians by user id; by default only those whose user is active."""
        with self._transaction() as session:
            return [_technician(row) for row in session.scalars(_technicians(active_only).order_by(UserRow.id))]

    def page(self, active_only: bool, limit: int = 50, after: str | None = None,
             ) -> tuple[builtins.list[Technician], str | None]:
        """As ``list``, ``limit`` at most after the user ``after``; the user to resume after (None on the last
        page)."""
        query = _technicians(active_only)
        if after is not None:
            query = query.where(UserRow.id > after)
        with self._reading() as session:
            found = [_technician(row) for row in session.scalars(query.order_by(UserRow.id).limit(limit + 1))]
        return found[:limit], found[limit - 1].user_id if len(found) > limit else None

    def total(self, active_only: bool) -> int:
        query = _technicians(active_only).with_only_columns(func.count(), maintain_column_froms=True)
        with self._reading() as session:
            return session.scalar(query) or 0


class ShiftRepository(Repository):
    def add(self, shift: Shift) -> Shift:
        """Store one shift (InvalidRequest unless it ends after it starts; NotFound for an unknown user)."""
        return self.add_many([shift])[0]

    def add_many(self, shifts: Iterable[Shift]) -> builtins.list[Shift]:
        with self._transaction() as session:
            rows = [self._row(session, shift) for shift in shifts]
            session.add_all(rows)
            session.flush()
            return [_shift(row) for row in rows]

    def replace(self, since: datetime, until: datetime, user_ids: Iterable[str],
                shifts: Iterable[Shift]) -> builtins.list[Shift]:
        """Replace the shifts of ``user_ids`` starting in [since, until) by ``shifts``, in one transaction
        (loading a roster twice gives the same shifts, not two of each)."""
        with self._transaction() as session:
            session.execute(delete(ShiftRow).where(ShiftRow.user_id.in_(list(user_ids)),
                                                   ShiftRow.starts_at >= since, ShiftRow.starts_at < until))
            rows = [self._row(session, shift) for shift in shifts]
            session.add_all(rows)
            session.flush()
            return [_shift(row) for row in rows]

    def between(self, since: datetime, until: datetime, user_id: str | None = None) -> builtins.list[Shift]:
        """Shifts overlapping [since, until] (a shift covering an instant: ``between(at, at)``), by start."""
        query = _overlapping(select(ShiftRow), since, until, user_id).order_by(ShiftRow.starts_at, ShiftRow.id)
        with self._transaction() as session:
            return [_shift(row) for row in session.scalars(query)]

    def page(self, since: datetime, until: datetime, user_id: str | None, limit: int = 50,
             after: tuple[datetime, int] | None = None) -> tuple[builtins.list[Shift], tuple[datetime, int] | None]:
        """As ``between``, ``limit`` at most after the cursor ``after`` (start, id); the cursor of the next page
        (None on the last)."""
        query = keyset(_overlapping(select(ShiftRow), since, until, user_id), ShiftRow.starts_at, ShiftRow.id, limit,
                       after, newest_first=False)
        with self._reading() as session:
            rows, last = split(list(session.scalars(query)), limit, lambda row: (row.starts_at, row.id))
            return [_shift(row) for row in rows], last

    def total(self, since: datetime, until: datetime, user_id: str | None) -> int:
        query = _overlapping(select(func.count()).select_from(ShiftRow), since, until, user_id)
        with self._reading() as session:
            return session.scalar(query) or 0

    @staticmethod
    def _row(session: Session, shift: Shift) -> ShiftRow:
        if shift.ends_at <= shift.starts_at:
            raise InvalidRequest(f"a shift must end after it starts ({shift.user_id}, {shift.starts_at.isoformat()})")
        if session.get(UserRow, shift.user_id) is None:
            raise NotFound(f"user {shift.user_id!r} not found")
        return ShiftRow(user_id=shift.user_id, starts_at=shift.starts_at, ends_at=shift.ends_at,
                        on_call=shift.on_call)


class PeopleRecords:
    """The people repositories on the engine of ``db`` (each method its own short transaction)."""

    def __init__(self, db: Database) -> None:
        self.users = UserRepository(db.sessions)
        self.technicians = TechnicianRepository(db.sessions)
        self.shifts = ShiftRepository(db.sessions)

    def install(self, roster: Roster, since: date, until: date, at: datetime) -> builtins.list[Shift]:
        """Store the roster's users and technicians, and its shifts for the days [since, until): loading
        the same roster again changes nothing."""
        for user in roster.users:
            self.users.upsert(user, at)
        for technician in roster.technicians:
            self.technicians.upsert(technician)
        shifts = roster.expand(since, until)
        window = (_midnight(since, roster), _midnight(until, roster))
        return self.shifts.replace(*window, [t.user_id for t in roster.technicians], shifts)


def _midnight(day: date, roster: Roster) -> datetime:
    return datetime.combine(day, time(), roster.zone_info).astimezone(UTC)


def _technicians(active_only: bool) -> Select[Any]:
    """The technicians' rows with their users' (only active users' when ``active_only``)."""
    query = select(TechnicianRow).join(UserRow, UserRow.id == TechnicianRow.user_id)
    return query.where(UserRow.active.is_(True)) if active_only else query


def _overlapping(query: Select[Any], since: datetime, until: datetime, user_id: str | None) -> Select[Any]:
    """``query`` narrowed to shifts overlapping [since, until] (of ``user_id`` only, if given)."""
    query = query.where(ShiftRow.starts_at <= until, ShiftRow.ends_at > since)
    return query if user_id is None else query.where(ShiftRow.user_id == user_id)
