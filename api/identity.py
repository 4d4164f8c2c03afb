"""The identity of a request, and the permission checks routes declare.

A route that writes takes ``principal: Annotated[Principal, require(Permission.X)]`` and records
``principal.user_id`` as the actor; it never reads an actor from the body.

CONTRACT STUB (issue 12 in progress): ``current_principal`` accepts the old shared token (or nothing,
when no token is set) as the local admin. The sign-in work replaces its body with sessions (cookie +
CSRF), personal API tokens and OIDC; its signature and ``require`` stay.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, status

from api.auth import BearerDep, _check
from api.deps import ServicesDep
from people.access import ROLE_PERMISSIONS, Permission, Principal
from people.model import Role

LOCAL_ADMIN = "local"


def current_principal(services: ServicesDep, credentials: BearerDep) -> Principal:
    _check(services.token, credentials)
    return Principal(LOCAL_ADMIN, "Local administrator", frozenset({Role.ADMIN}),
                     ROLE_PERMISSIONS[Role.ADMIN], via="local")


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*permissions: Permission) -> Any:
    """A dependency granting the request if its identity holds any of ``permissions`` (403 otherwise)."""

    def check(principal: PrincipalDep) -> Principal:
        if not any(principal.can(permission) for permission in permissions):
            needed = " or ".join(permission.value for permission in permissions)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the permission {needed}")
        return principal

    return Depends(check)
