"""The demo's people: one user per role, all with one password printed at start, so a newcomer can sign
in as each role and do its work."""

from __future__ import annotations

import secrets
from dataclasses import replace

from people.accounts import Accounts
from people.model import Role, User

DEMO_ROLES = (Role.ADMIN, Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.TECHNICIAN, Role.PLANNER,
              Role.VIEWER, Role.RESIDENT)


def create_demo_users(accounts: Accounts, resident_site: str | None) -> tuple[str, list[tuple[Role, str]]]:
    """The password and (role, login) of each demo user. The technician is a technician of the roster
    (so their orders are real); the resident lives at ``resident_site``."""
    password = secrets.token_urlsafe(9)
    logins: list[tuple[Role, str]] = []
    for role in DEMO_ROLES:
        existing = accounts.users.list(role)
        if role is Role.TECHNICIAN and existing:
            user = existing[0]
        else:
            sites = frozenset({resident_site}) if role is Role.RESIDENT and resident_site else frozenset()
            user = User(role.value, f"Demo {role.value}", frozenset({role}), sites=sites)
            if accounts.users.find(user.id) is None:
                accounts.add_user(user)
            else:
                user = accounts.users.upsert(replace(accounts.users.get(user.id), roles=frozenset({role}),
                                                     sites=sites, active=True), accounts.clock.now())
        accounts.set_password(user.id, password)
        logins.append((role, user.id))
    return password, logins
