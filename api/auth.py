"""Bearer-token access to /api/v1: one shared token, compared in constant time.

When ``Services.token`` is None the API is open (local use only). The live event stream also accepts
the token as ``?token=``, because a browser's EventSource cannot set headers.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import ServicesDep

_bearer = HTTPBearer(auto_error=False, description="The facmon API token (printed by `facmon demo`).")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def is_valid_token(expected: str, offered: str | None) -> bool:
    """Whether ``offered`` is the expected token; constant time, so timing does not leak it."""
    return offered is not None and secrets.compare_digest(offered.encode(), expected.encode())


def _check(expected: str | None, credentials: HTTPAuthorizationCredentials | None,
           query_token: str | None = None) -> None:
    if expected is None:
        return
    if credentials is not None and credentials.scheme.lower() == "bearer":
        if is_valid_token(expected, credentials.credentials):
            return
        raise _unauthorized("invalid API token")
    if query_token is not None:
        if is_valid_token(expected, query_token):
            return
        raise _unauthorized("invalid API token")
    raise _unauthorized("missing API token: send 'Authorization: Bearer <token>'")


def require_token(services: ServicesDep, credentials: BearerDep) -> None:
    """Dependency for every /api/v1 route: the ``Authorization: Bearer`` header must carry the token."""
    _check(services.token, credentials)


def require_token_or_query(
    services: ServicesDep,
    credentials: BearerDep,
    token: Annotated[str | None, Query(description="The API token, for clients that cannot set "
                                                   "headers (a browser's EventSource).")] = None,
) -> None:
    """Dependency for the event stream: the bearer header, or the token as ``?token=``."""
    _check(services.token, credentials, token)
