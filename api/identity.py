"""The identity of a request, and the permission checks routes declare.

A route that writes takes ``principal: Annotated[Principal, require(Permission.X)]`` and records
``principal.user_id`` as the actor; it never reads an actor from the body. How a request proves who it is
(token, session cookie with CSRF, or the local admin of an unauthenticated loopback server) is in
``api/auth.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.auth import LOCAL_ADMIN, SESSION_COOKIE, authenticate, unauthorized
from api.deps import ServicesDep
from people.access import Permission, Principal

__all__ = ["LOCAL_ADMIN", "OptionalPrincipalDep", "PrincipalDep", "current_principal",
           "current_principal_or_query", "optional_principal", "require", "unauthorized"]


# Declared for OpenAPI's security schemes; ``authenticate`` reads the request itself.
_bearer = HTTPBearer(auto_error=False, description="A personal API token: fm_<id>_<secret> (POST /api/v1/me/tokens "
                                                   "or `facmon users token`).")
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                        description="The console's session (POST /api/v1/auth/login); writes also need the "
                                    "X-CSRF-Token header.")
_Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_Session = Annotated[str | None, Depends(_session)]


def current_principal(request: Request, services: ServicesDep, _token: _Bearer, _cookie: _Session) -> Principal:
    """Who the request acts as (401 if nobody, 403 for a cookie write without its CSRF token)."""
    return authenticate(request, services.identity(), services.auth.required)


def current_principal_or_query(
    request: Request,
    services: ServicesDep,
    _token: _Bearer,
    _cookie: _Session,
    token: Annotated[str | None, Query(description="A personal API token, for clients that can set neither "
                                                   "a header nor a cookie; prefer the header.")] = None,
) -> Principal:
    """As ``current_principal``, also taking the token as ``?token=`` (the event stream only)."""
    return authenticate(request, services.identity(), services.auth.required, token)


def optional_principal(request: Request, services: ServicesDep) -> Principal | None:
    """Who the request acts as, or None when it offers no credential (a public route: a resident's form).
    An offered credential that is refused is still 401."""
    offered = "authorization" in request.headers or SESSION_COOKIE in request.cookies
    if not offered and services.auth.required:
        return None
    return authenticate(request, services.identity(), services.auth.required)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


def require(*permissions: Permission, source: Callable[..., Principal] = current_principal) -> Any:
    """A dependency granting the request if its identity holds any of ``permissions`` (403 otherwise).
    ``source`` is how the identity is found (``current_principal_or_query`` for the event stream)."""

    # async: a check in memory need not hop to a worker thread, as a sync dependency would
    async def check(principal: Principal = Depends(source)) -> Principal:  # noqa: B008 - FastAPI's dependency idiom
        if not any(principal.can(permission) for permission in permissions):
            needed = " or ".join(permission.value for permission in permissions)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the permission {needed}")
        return principal

    return Depends(check)
