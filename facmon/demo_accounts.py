"""The demo's accounts: one user per role, each with a fresh random password printed at start, so a
newcomer can sign in to the console (or the API) as any role and see what that role sees."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from people.accounts import Accounts
from people.model import Role, User

# (role, user id, name). The dispatcher, supervisor and technician are the roster's own people (the
# technician's orders are dispatched to tom), the others are made for the demo.
DEMO_USERS: tuple[tuple[Role, str, str], ...] = (
    (Role.VIEWER, "vera", "Vera Viewer"),
    (Role.OPERATOR, "otto", "Otto Operator"),
    (Role.DISPATCHER, "desk", "Service desk"),
    (Role.SUPERVISOR, "sue", "Sue Zhang"),
    (Role.TECHNICIAN, "tom", "Tom Li"),
    (Role.PLANNER, "pam", "Pam Planner"),
    (Role.ADMIN, "admin", "Demo administrator"),
    (Role.RESIDENT, "rosa", "Rosa Resident"),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: Role
    user_id: str
    password: str


def demo_logins(accounts: Accounts, resident_site: str) -> list[DemoLogin]:
    """Give each demo user (made if missing, with the one role) a new random password; the resident lives
    at ``resident_site``."""
    logins = []
    for role, user_id, name in DEMO_USERS:
        password = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
        if accounts.users.find(user_id) is None:
            sites = frozenset({resident_site}) if role is Role.RESIDENT else frozenset()
            accounts.add_user(User(user_id, name, frozenset({role}), sites=sites), password)
        else:
            accounts.set_password(user_id, password)
        logins.append(DemoLogin(role, user_id, password))
    return logins


def sign_in_lines(url: str, logins: Iterable[DemoLogin]) -> list[str]:
    """How to sign in as each role: the console's address and one line per role."""
    return [f"sign in at {url} (console) or POST {url}api/v1/auth/login, as one of:",
            *(f"  {login.role.value:<11} user {login.user_id:<6} password {login.password}" for login in logins),
            "  (an API token for scripts: facmon users token admin --name scripts)"]
