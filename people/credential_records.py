"""Repositories of what proves who someone is: password hashes and lockout, browser sessions, personal API
tokens and the OIDC subject a user is linked to (tables of migration 0007).

Secrets never reach the database: a session cookie and a token's secret are stored as their SHA-256, a
password as its Argon2id hash (``people.accounts`` makes them).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Executable, delete, select, update
from sqlalchemy.orm import Session

from people.model import User
from people.records import require_user, user_of
from storage.records.models import ApiTokenRow, UserRow, UserSessionRow
from storage.records.sessions import Repository


@dataclass(frozen=True, slots=True)
class LoginState:
    user: User
    password_hash: str | None
    failed_logins: int
    locked_until: datetime | None
    oidc_subject: str | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    user: User
    csrf_token: str
    via: str  # password | oidc
    expires_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A personal API token as its owner sees it (never its secret)."""

    id: str
    user_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def _token(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.user_id, row.name, frozenset(row.scopes), row.created_at, row.expires_at,
                     row.last_used_at, row.revoked_at)


def _count(session: Session, statement: Executable) -> int:
    """The rows an UPDATE or DELETE touched."""
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]  # a CursorResult


class CredentialRepository(Repository):
    """Passwords, the failed-sign-in counter and lock, and OIDC subjects, on the users table."""

    def login_state(self, user_id: str) -> LoginState | None:
        with self._transaction() as session:
            row = session.get(UserRow, user_id)
            if row is None:
                return None
            return LoginState(user_of(row), row.password_hash, row.failed_logins, row.locked_until,
                              row.oidc_subject)

    def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        """Replace the hash (NotFound for an unknown user) and clear any lock."""
        with self._transaction() as session:
            row = require_user(session, user_id)
            row.password_hash, row.failed_logins, row.locked_until = password_hash, 0, None

    def record_failure(self, user_id: str, max_failed: int, lock_until: datetime) -> datetime | None:
        """Count one wrong password (atomically, in SQL); at ``max_failed`` in a row the account locks until
        ``lock_until`` and the count starts again. Returns the lock's end if this failure locked it."""
        with self._transaction() as session:
            failed = session.scalar(update(UserRow).where(UserRow.id == user_id)
                                    .values(failed_logins=UserRow.failed_logins + 1)
                                    .returning(UserRow.failed_logins))
            if failed is None or failed < max_failed:
                return None
            session.execute(update(UserRow).where(UserRow.id == user_id)
                            .values(failed_logins=0, locked_until=lock_until))
            return lock_until

    def record_success(self, user_id: str, rehashed: str | None = None) -> None:
        """A right password: the count starts again; ``rehashed`` replaces an outdated hash."""
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if rehashed is not None:
            values["password_hash"] = rehashed
        with self._transaction() as session:
            session.execute(update(UserRow).where(UserRow.id == user_id).values(**values))

    def find_by_subject(self, subject: str) -> User | None:
        with self._transaction() as session:
            row = session.scalar(select(UserRow).where(UserRow.oidc_subject == subject))
            return None if row is None else user_of(row)

    def link_subject(self, user_id: str, subject: str) -> None:
        with self._transaction() as session:
            require_user(session, user_id).oidc_subject = subject


class SessionRepository(Repository):
    def open(self, id_hash: str, user_id: str, csrf_token: str, via: str, at: datetime,
             expires_at: datetime) -> None:
        with self._transaction() as session:
            session.add(UserSessionRow(id_hash=id_hash, user_id=user_id, csrf_token=csrf_token, via=via,
                                       created_at=at, expires_at=expires_at, last_seen_at=at))

    def find(self, id_hash: str) -> SessionRecord | None:
        with self._transaction() as session:
            row = session.get(UserSessionRow, id_hash)
            if row is None:
                return None
            user = user_of(require_user(session, row.user_id))
            return SessionRecord(user, row.csrf_token, row.via, row.expires_at, row.last_seen_at)

    def touch(self, id_hash: str, at: datetime) -> None:
        with self._transaction() as session:
            session.execute(update(UserSessionRow).where(UserSessionRow.id_hash == id_hash)
                            .values(last_seen_at=at))

    def close(self, id_hash: str) -> None:
        with self._transaction() as session:
            session.execute(delete(UserSessionRow).where(UserSessionRow.id_hash == id_hash))

    def close_all(self, user_id: str) -> int:
        with self._transaction() as session:
            return _count(session, delete(UserSessionRow).where(UserSessionRow.user_id == user_id))

    def purge(self, before: datetime) -> int:
        """Forget sessions that expired before ``before``."""
        with self._transaction() as session:
            return _count(session, delete(UserSessionRow).where(UserSessionRow.expires_at < before))


class TokenRepository(Repository):
    def add(self, token: TokenInfo, secret_hash: str) -> TokenInfo:
        with self._transaction() as session:
            require_user(session, token.user_id)
            row = ApiTokenRow(id=token.id, user_id=token.user_id, name=token.name, secret_hash=secret_hash,
                              scopes=sorted(token.scopes), created_at=token.created_at,
                              expires_at=token.expires_at)
            session.add(row)
            session.flush()
            return _token(row)

    def find(self, token_id: str) -> tuple[TokenInfo, str, User] | None:
        """The token, its secret's hash and its owner."""
        with self._transaction() as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                return None
            return _token(row), row.secret_hash, user_of(require_user(session, row.user_id))

    def used(self, token_id: str, at: datetime) -> None:
        with self._transaction() as session:
            session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=at))

    def list(self, user_id: str | None = None) -> builtins.list[TokenInfo]:
        query = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if user_id is not None:
            query = query.where(ApiTokenRow.user_id == user_id)
        with self._transaction() as session:
            return [_token(row) for row in session.scalars(query)]

    def revoke(self, token_id: str, at: datetime, user_id: str | None = None) -> bool:
        """Revoke one token (of ``user_id`` only, if given); False if there is no such live token."""
        query = update(ApiTokenRow).where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
        if user_id is not None:
            query = query.where(ApiTokenRow.user_id == user_id)
        with self._transaction() as session:
            return _count(session, query.values(revoked_at=at)) == 1

    def revoke_all(self, user_id: str, at: datetime) -> int:
        with self._transaction() as session:
            return _count(session, update(ApiTokenRow).where(ApiTokenRow.user_id == user_id,
                                                            ApiTokenRow.revoked_at.is_(None))
                          .values(revoked_at=at))
