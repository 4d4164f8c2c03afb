"""Accounts on SQLite and on a real PostgreSQL: passwords, lockout, sessions, tokens, SSO links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ManualClock
from core.errors import InvalidRequest, NotFound
from people.access import Permission
from people.accounts import TOKEN_CACHE, AccountPolicy, Accounts, LockedOut, SignInRefused
from people.model import Role, User
from storage.records import Database

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def accounts(db: Database, clock: ManualClock) -> Accounts:
    accounts = Accounts(db, clock, AccountPolicy(max_failed_logins=3))
    accounts.add_user(User("ann", "Ann", frozenset({Role.DISPATCHER})), PASSWORD)
    return accounts


def test_the_password_is_stored_as_argon2id_and_signs_in(accounts: Accounts) -> None:
    state = accounts.credentials.login_state("ann")
    assert state is not None
    assert state.password_hash is not None
    assert state.password_hash.startswith("$argon2id$")
    assert PASSWORD not in state.password_hash
    grant = accounts.sign_in("ann", PASSWORD)
    assert accounts.session(grant.secret) is not None
    assert accounts.sessions.find(grant.secret) is None  # only the digest is a key


def test_short_passwords_and_taken_names_are_refused(accounts: Accounts) -> None:
    with pytest.raises(InvalidRequest, match="10 characters"):
        accounts.set_password("ann", "short")
    with pytest.raises(InvalidRequest, match="already exists"):
        accounts.add_user(User("ann", "Another Ann"))


def test_lockout_after_wrong_passwords_in_a_row(accounts: Accounts, clock: ManualClock) -> None:
    for _ in range(2):
        with pytest.raises(SignInRefused) as refused:
            accounts.sign_in("ann", "wrong password")
        assert not isinstance(refused.value, LockedOut)
    with pytest.raises(LockedOut):
        accounts.sign_in("ann", "wrong password")
    with pytest.raises(LockedOut) as locked:
        accounts.sign_in("ann", PASSWORD)
    assert 0 < locked.value.retry_after_s <= 15 * 60
    clock.advance(timedelta(minutes=15, seconds=1))
    assert accounts.sign_in("ann", PASSWORD).user.id == "ann"


def test_a_right_password_resets_the_count(accounts: Accounts) -> None:
    for _ in range(2):
        with pytest.raises(SignInRefused):
            accounts.sign_in("ann", "wrong password")
    accounts.sign_in("ann", PASSWORD)
    for _ in range(2):
        with pytest.raises(SignInRefused) as refused:
            accounts.sign_in("ann", "wrong password")
        assert not isinstance(refused.value, LockedOut)


def test_sessions_expire_and_setting_a_password_ends_them(accounts: Accounts, clock: ManualClock) -> None:
    grant = accounts.sign_in("ann", PASSWORD)
    for _ in range(7):  # used every 100 minutes: never idle, but 12 h is the end
        clock.advance(timedelta(minutes=100))
        assert accounts.session(grant.secret) is not None
    clock.advance(timedelta(minutes=100))
    assert accounts.session(grant.secret) is None
    again = accounts.sign_in("ann", PASSWORD)
    accounts.set_password("ann", "another long password")
    assert accounts.session(again.secret) is None


def test_tokens_scopes_expiry_and_revocation(accounts: Accounts, clock: ManualClock) -> None:
    token, info = accounts.issue_token("ann", "crm", frozenset({"read"}), T0 + timedelta(days=2))
    assert token.startswith(f"fm_{info.id}_")
    assert accounts.token_principal(token).permissions == {Permission.READ}
    with pytest.raises(InvalidRequest, match="admin"):
        accounts.issue_token("ann", "too much", frozenset({"admin"}))
    with pytest.raises(InvalidRequest):
        accounts.issue_token("ann", "forever", None, T0 + timedelta(days=400))
    clock.advance(timedelta(days=2))
    with pytest.raises(SignInRefused, match="expired"):
        accounts.token_principal(token)
    other, other_info = accounts.issue_token("ann", "bi")
    accounts.revoke_token(other_info.id, "ann")
    with pytest.raises(SignInRefused):
        accounts.token_principal(other)
    with pytest.raises(NotFound):
        accounts.revoke_token(other_info.id, "ann")


def test_demoting_the_owner_narrows_the_token(accounts: Accounts, clock: ManualClock) -> None:
    token, _ = accounts.issue_token("ann", "all")
    assert Permission.ORDERS in accounts.token_principal(token).permissions
    accounts.update_user(User("ann", "Ann", frozenset({Role.VIEWER})))
    assert accounts.token_principal(token).permissions == {Permission.READ}


def test_a_change_made_by_another_replica_reaches_a_verified_token_within_the_cache_time(
        accounts: Accounts, clock: ManualClock) -> None:
    token, _ = accounts.issue_token("ann", "all")
    assert Permission.ORDERS in accounts.token_principal(token).permissions
    accounts.users.upsert(User("ann", "Ann", frozenset({Role.VIEWER})), clock.now())  # not through us
    assert Permission.ORDERS in accounts.token_principal(token).permissions  # believed for a while ...
    clock.advance(TOKEN_CACHE)
    assert accounts.token_principal(token).permissions == {Permission.READ}  # ... then read again


def test_sso_links_by_subject_and_never_steals_a_link(accounts: Accounts) -> None:
    none: frozenset[Role] = frozenset()
    assert accounts.user_for_subject("sub-1", "ann", None, none).id == "ann"
    assert accounts.user_for_subject("sub-1", "whatever", None, none).id == "ann"
    with pytest.raises(SignInRefused):
        accounts.user_for_subject("sub-2", "ann", None, none)  # ann is sub-1's
    created = accounts.user_for_subject("sub-3", "newcomer", "New Comer", frozenset({Role.VIEWER}))
    assert (created.id, created.roles) == ("newcomer", frozenset({Role.VIEWER}))
