"""Accounts: who may sign in and how they prove it. Passwords (Argon2id, argon2-cffi), lockout after wrong
passwords in a row, browser sessions with their CSRF token, personal API tokens with scopes and expiry.

Session cookies and token secrets are random (``secrets``) and stored only as their SHA-256: a copy of the
database signs no one in. Times come from the clock given (wall time in production, also under the demo's
accelerated clock, so a session lasts real hours).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.clock import Clock
from core.errors import FacmonError, InvalidRequest, NotFound
from core.settings import AuthSettings
from people.access import Permission, Principal, permissions_of
from people.credential_records import (
    CredentialRepository,
    SessionRepository,
    TokenInfo,
    TokenRepository,
)
from people.model import Role, User
from people.records import UserRepository
from storage.records import Database

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "fm"


class SignInRefused(FacmonError):
    """Wrong user name or password, a disabled account, or an unknown token (never says which)."""


class LockedOut(SignInRefused):
    """Too many wrong passwords in a row: the account is locked for ``retry_after_s``."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    session_ttl: timedelta = timedelta(hours=12)
    session_idle: timedelta = timedelta(hours=2)
    max_failed_logins: int = 5
    lockout: timedelta = timedelta(minutes=15)
    token_max: timedelta = timedelta(days=365)


def policy_of(settings: AuthSettings) -> AccountPolicy:
    return AccountPolicy(timedelta(seconds=settings.session_ttl_s), timedelta(seconds=settings.session_idle_s),
                         settings.max_failed_logins, timedelta(seconds=settings.lockout_s),
                         timedelta(days=settings.token_max_days))


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """A signed-in browser: ``secret`` goes into the HttpOnly cookie, ``csrf_token`` into the readable one."""

    secret: str
    csrf_token: str
    user: User
    via: str
    expires_at: datetime


TOKEN_CACHE = timedelta(seconds=10)  # how long a verified token is believed without reading it again
TOKEN_CACHE_SIZE = 10_000


def digest(secret: str) -> str:
    """SHA-256 (hex) of a high-entropy secret: enough for random values, unlike for passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password(password: str) -> None:
    """InvalidRequest for a password too short to keep."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def principal_of(user: User, via: str, scopes: frozenset[str] | None = None) -> Principal:
    """The identity ``user`` acts as; a token's ``scopes`` narrow the roles' permissions, never widen them."""
    permissions = permissions_of(user.roles)
    if scopes is not None:
        permissions &= frozenset(permission for permission in Permission if permission.value in scopes)
    return Principal(user.id, user.name, user.roles, permissions, via, user.sites, user.locale)


class Accounts:
    """Sign-in, sessions and tokens over the records of ``db``."""

    def __init__(self, db: Database, clock: Clock, policy: AccountPolicy | None = None) -> None:
        self.users = UserRepository(db.sessions)
        self.credentials = CredentialRepository(db.sessions)
        self.sessions = SessionRepository(db.sessions)
        self.tokens = TokenRepository(db.sessions)
        self.clock = clock
        self.policy = policy or AccountPolicy()
        self._hasher = PasswordHasher()  # RFC 9106's second recommended Argon2id parameters
        self._decoy: str | None = None  # a hash to verify against for unknown users (same time spent)
        # Tokens recently verified: digest(token) -> (token id, user id, principal, valid until, on our
        # clock). Saves two reads per API call; any change to users or tokens made here clears it, so a
        # revoked token or disabled user is refused at once here, and within TOKEN_CACHE on other replicas.
        self._verified: dict[str, tuple[str, str, Principal, datetime]] = {}

    # --- users ------------------------------------------------------------------------------------------

    def add_user(self, user: User, password: str | None = None) -> User:
        """Store a new user (InvalidRequest if the id is taken or the password too short), with a password
        if given; nothing is stored when it is refused."""
        if self.users.find(user.id) is not None:
            raise InvalidRequest(f"user {user.id!r} already exists")
        if password is not None:
            check_password(password)
        stored = self.users.upsert(user, self.clock.now())
        if password is not None:
            self.set_password(user.id, password)
        return stored

    def set_password(self, user_id: str, password: str) -> None:
        """Replace the password (at least MIN_PASSWORD_LENGTH characters); unlocks the account and ends
        its sessions, so an attacker holding one is out."""
        check_password(password)
        self.credentials.set_password_hash(user_id, self._hasher.hash(password))
        self.sessions.close_all(user_id)

    def update_user(self, user: User) -> User:
        """Store a user's changed fields (roles, name, contact ...), or a new user without a password."""
        self._verified.clear()  # the roles narrow every token's scopes
        return self.users.upsert(user, self.clock.now())

    def set_active(self, user_id: str, active: bool) -> User:
        """Enable or disable a user; disabling ends their sessions and revokes their tokens."""
        self._verified.clear()
        user = self.users.upsert(replace(self.users.get(user_id), active=active), self.clock.now())
        if not active:
            self.sessions.close_all(user_id)
            self.tokens.revoke_all(user_id, self.clock.now())
        return user

    # --- passwords and sessions ------------------------------------------------------------------------

    def sign_in(self, username: str, password: str, via: str = "password") -> SessionGrant:
        """A session for ``username`` if ``password`` is right; SignInRefused or LockedOut otherwise."""
        now = self.clock.now()
        state = self.credentials.login_state(username)
        if state is None or state.password_hash is None or not state.user.active:
            self._decoy = self._decoy or self._hasher.hash(secrets.token_urlsafe(16))
            self._verify(self._decoy, password)  # same work as for a real user: timing tells nothing
            raise SignInRefused("wrong user name or password")
        if state.locked_until is not None and state.locked_until > now:
            raise LockedOut((state.locked_until - now).total_seconds())
        if not self._verify(state.password_hash, password):
            locked = self.credentials.record_failure(username, self.policy.max_failed_logins,
                                                     now + self.policy.lockout)
            if locked is not None:
                raise LockedOut(self.policy.lockout.total_seconds())
            raise SignInRefused("wrong user name or password")
        rehashed = self._hasher.hash(password) if self._hasher.check_needs_rehash(state.password_hash) else None
        self.credentials.record_success(username, rehashed)
        return self.open_session(state.user, via)

    def open_session(self, user: User, via: str) -> SessionGrant:
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = now + self.policy.session_ttl
        self.sessions.open(digest(secret), user.id, csrf, via, now, expires)
        return SessionGrant(secret, csrf, user, via, expires)

    def session(self, secret: str) -> SessionGrant | None:
        """The live session of cookie value ``secret`` (None if unknown, expired, idle too long or its
        user disabled); using it keeps it from going idle."""
        id_hash, now = digest(secret), self.clock.now()
        record = self.sessions.find(id_hash)
        if record is None:
            return None
        if (record.expires_at <= now or now - record.last_seen_at > self.policy.session_idle
                or not record.user.active):
            self.sessions.close(id_hash)
            return None
        if now - record.last_seen_at > timedelta(minutes=1):  # one write a minute, not one per request
            self.sessions.touch(id_hash, now)
        return SessionGrant(secret, record.csrf_token, record.user, record.via, record.expires_at)

    def sign_out(self, secret: str) -> None:
        self.sessions.close(digest(secret))

    def user_for_subject(self, subject: str, username: str | None, name: str | None,
                         default_roles: frozenset[Role]) -> User:
        """The user an OIDC ``subject`` signs in as: the one linked to it; else the unlinked user called
        ``username`` (linked now); else a new user with ``default_roles`` if any; else SignInRefused."""
        user = self.credentials.find_by_subject(subject)
        if user is None and username:
            candidate = self.credentials.login_state(username)
            if candidate is not None and candidate.oidc_subject is None:  # never steal another's link
                self.credentials.link_subject(username, subject)
                user = candidate.user
        if user is None and username and default_roles:
            user = self.add_user(User(username, name or username, default_roles))
            self.credentials.link_subject(username, subject)
        if user is None or not user.active:
            raise SignInRefused(f"no active facmon user for this single sign-on account ({username or subject})")
        return user

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # --- personal API tokens ---------------------------------------------------------------------------

    def issue_token(self, user_id: str, name: str, scopes: frozenset[str] | None = None,
                    expires_at: datetime | None = None) -> tuple[str, TokenInfo]:
        """A new token ``fm_<id>_<secret>`` (shown once) and its record. ``scopes`` (Permission values)
        must be among the user's permissions; None: all of them. Expiry at most ``token_max`` ahead."""
        user = self.users.get(user_id)
        granted = {permission.value for permission in permissions_of(user.roles)}
        chosen = frozenset(granted if scopes is None else scopes)
        if not chosen <= granted:
            raise InvalidRequest(f"scopes beyond {user_id}'s roles: {', '.join(sorted(chosen - granted))}")
        now = self.clock.now()
        latest = now + self.policy.token_max
        if expires_at is None:
            expires_at = latest
        if not now < expires_at <= latest:
            raise InvalidRequest(f"a token expires in the future, within {self.policy.token_max.days} days")
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        info = self.tokens.add(TokenInfo(token_id, user_id, name, chosen, now, expires_at), digest(secret))
        return f"{TOKEN_PREFIX}_{token_id}_{secret}", info

    def token_principal(self, token: str) -> Principal:
        """The identity a bearer token acts as; SignInRefused if malformed, unknown, revoked, expired or
        its user disabled."""
        key = digest(token)
        now = self.clock.now()
        cached = self._verified.get(key)
        if cached is not None and now < cached[3]:
            return cached[2]
        prefix, _, rest = token.partition("_")
        token_id, _, secret = rest.partition("_")
        found = self.tokens.find(token_id) if prefix == TOKEN_PREFIX and token_id and secret else None
        if found is None:
            raise SignInRefused("invalid API token")
        info, secret_hash, user = found
        if not secrets.compare_digest(secret_hash, digest(secret)):
            raise SignInRefused("invalid API token")
        if info.revoked_at is not None or (info.expires_at is not None and info.expires_at <= now) \
                or not user.active:
            raise SignInRefused("API token revoked or expired")
        if info.last_used_at is None or now - info.last_used_at > timedelta(minutes=1):
            self.tokens.used(info.id, now)
        principal = principal_of(user, "token", info.scopes)
        if len(self._verified) >= TOKEN_CACHE_SIZE:
            self._verified.clear()
        valid_until = now + TOKEN_CACHE if info.expires_at is None else min(now + TOKEN_CACHE, info.expires_at)
        self._verified[key] = (info.id, user.id, principal, valid_until)
        return principal

    def revoke_token(self, token_id: str, user_id: str | None = None) -> None:
        self._verified.clear()
        if not self.tokens.revoke(token_id, self.clock.now(), user_id):
            raise NotFound(f"token {token_id} not found")
