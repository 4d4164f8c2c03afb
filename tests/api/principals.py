"""Signed-in principals for API tests, until the sign-in fixtures (``client_as(role)``) are merged: a principal
of given roles, and ``act_as`` to make an app's requests act as it (a dependency override)."""

from __future__ import annotations

from fastapi import FastAPI

from api.identity import current_principal
from people.access import Principal, permissions_of
from people.model import Role


def principal(user_id: str, *roles: Role, sites: frozenset[str] = frozenset()) -> Principal:
    granted = frozenset(roles)
    return Principal(user_id, user_id, granted, permissions_of(granted), via="token", sites=sites)


def act_as(app: FastAPI, user_id: str, *roles: Role) -> Principal:
    """From now on, ``app``'s requests act as ``user_id`` holding ``roles`` (admin when none given)."""
    who = principal(user_id, *(roles or (Role.ADMIN,)))
    app.dependency_overrides[current_principal] = lambda: who
    return who
