"""How a request proves who it is: a personal API token (``Authorization: Bearer fm_<id>_<secret>``), or
the browser's session cookie, which must come with ``X-CSRF-Token`` on a write, or (only on a server that
listens on loopback with ``auth.required = false``) nothing, as the local administrator.

The session cookie is HttpOnly and SameSite=Strict; the CSRF token is the session's own (kept with it on
the server) and reaches the page's script through the readable ``facmon_csrf`` cookie and the sign-in
answer. A bearer token needs no CSRF token: a browser never sends one by itself.
"""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Response, status

from people.access import ROLE_PERMISSIONS, Principal
from people.accounts import Accounts, SessionGrant, SignInRefused, principal_of
from people.model import Role

SESSION_COOKIE = "facmon_session"
CSRF_COOKIE = "facmon_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOCAL_ADMIN = "local"


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def local_admin() -> Principal:
    """Who a request without credentials is on a loopback server with ``auth.required = false``."""
    return Principal(LOCAL_ADMIN, "Local administrator", frozenset({Role.ADMIN}), ROLE_PERMISSIONS[Role.ADMIN],
                     via="local")


def authenticate(request: Request, accounts: Accounts, required: bool, query_token: str | None = None) -> Principal:
    """The identity of ``request``; 401 for a missing or refused credential, 403 for a cookie write
    without the right CSRF token. A credential that is offered is always checked, even when none is
    required."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("send 'Authorization: Bearer <token>'")
        return _token_principal(accounts, token.strip())
    if query_token is not None:
        return _token_principal(accounts, query_token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is not None:
        grant = accounts.session(cookie)
        if grant is None:
            raise unauthorized("the session has ended: sign in again")
        if request.method not in SAFE_METHODS:
            check_csrf(request, grant)
        return principal_of(grant.user, "oidc" if grant.via == "oidc" else "session")
    if not required:
        return local_admin()
    raise unauthorized("sign in, or send 'Authorization: Bearer <token>'")


def _token_principal(accounts: Accounts, token: str) -> Principal:
    try:
        return accounts.token_principal(token)
    except SignInRefused as error:
        raise unauthorized(str(error)) from error


def check_csrf(request: Request, grant: SessionGrant) -> None:
    offered = request.headers.get(CSRF_HEADER, "")
    if not secrets.compare_digest(offered.encode(), grant.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"a write with the session cookie needs the {CSRF_HEADER} header "
                            f"(the value of the {CSRF_COOKIE} cookie)")


def set_session_cookies(response: Response, grant: SessionGrant, max_age_s: int, secure: bool) -> None:
    """The session (HttpOnly) and its CSRF token (readable by the page's script), both SameSite=Strict,
    kept by the browser as long as the session may last (the server enforces its end)."""
    max_age = max_age_s
    response.set_cookie(SESSION_COOKIE, grant.secret, max_age=max_age, path="/", secure=secure, httponly=True,
                        samesite="strict")
    response.set_cookie(CSRF_COOKIE, grant.csrf_token, max_age=max_age, path="/", secure=secure, httponly=False,
                        samesite="strict")


def clear_session_cookies(response: Response, secure: bool) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=secure, httponly=name == SESSION_COOKIE, samesite="strict")


def is_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: when the browser reached us over HTTPS."""
    return request.url.scheme == "https"
