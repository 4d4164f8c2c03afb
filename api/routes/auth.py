"""Sign-in and sign-out for the console: password, single sign-on (OIDC), who am I."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, Field

from api.auth import SESSION_COOKIE, clear_session_cookies, is_secure, set_session_cookies, unauthorized
from api.deps import ServicesDep
from api.identity import PrincipalDep
from api.oidc import Flow, OidcClient
from api.schemas.users import Me, me_of
from people.accounts import LockedOut, SessionGrant, SignInRefused
from people.model import Role

router = APIRouter(prefix="/auth", tags=["sign-in"])

FLOW_COOKIE = "facmon_oidc"
FLOW_PATH = "/api/v1/auth/oidc"
FLOW_MAX_AGE_S = 600


class LoginLimiter:
    """Sign-in attempts per client address in a moving window (the `limits` library, in memory: each API
    replica counts its own; the per-account lockout in the database holds across replicas)."""

    def __init__(self, rate: str) -> None:
        self.item: RateLimitItem = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, address: str) -> float | None:
        """Count one attempt; None if allowed, else the seconds until the next one is."""
        if self._limiter.hit(self.item, "login", address):
            return None
        reset_at, _ = self._limiter.get_window_stats(self.item, "login", address)
        return max(1.0, reset_at - time.time())


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SignedIn(BaseModel):
    user: Me
    csrf_token: str = Field(description="Send it as the X-CSRF-Token header on every write (it is also in "
                                        "the facmon_csrf cookie).")


class AuthOptions(BaseModel):
    password: bool = True
    oidc_label: str | None = Field(None, description="The single sign-on button's text; null: no SSO.")
    oidc_url: str | None = Field(None, description="Where the SSO button leads.")


class MeUpdate(BaseModel):
    locale: str | None = Field(None, max_length=16, pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")


def _too_many(retry_after_s: float, detail: str) -> HTTPException:
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail,
                         headers={"Retry-After": str(max(1, round(retry_after_s)))})


def _signed_in(response: Response, request: Request, services: ServicesDep, grant: SessionGrant) -> SignedIn:
    max_age_s = int(services.identity().policy.session_ttl.total_seconds())
    set_session_cookies(response, grant, max_age_s, is_secure(request))
    return SignedIn(user=me_of(grant.user, "oidc" if grant.via == "oidc" else "session"), csrf_token=grant.csrf_token)


@router.get("/options", response_model=AuthOptions)
def auth_options(services: ServicesDep) -> AuthOptions:
    """How one may sign in here (the sign-in page shows an SSO button when OIDC is configured). Open."""
    oidc = services.auth.oidc
    return AuthOptions(oidc_label=oidc.label if oidc else None, oidc_url=f"{FLOW_PATH}/start" if oidc else None)


@router.post("/login", response_model=SignedIn, responses={401: {}, 429: {}})
def login(body: Login, request: Request, response: Response, services: ServicesDep) -> SignedIn:
    """Sign in with a password: sets the session cookie (HttpOnly) and the CSRF cookie. 401 for a wrong
    name or password (never says which); 429 with Retry-After when this address tries too often or the
    account is locked after too many wrong passwords."""
    limiter: LoginLimiter = request.app.state.login_limiter
    wait_s = limiter.hit(request.client.host if request.client else "unknown")
    if wait_s is not None:
        raise _too_many(wait_s, "too many sign-in attempts from this address; wait and try again")
    try:
        grant = services.identity().sign_in(body.username, body.password)
    except LockedOut as error:
        raise _too_many(error.retry_after_s, str(error)) from error
    except SignInRefused as error:
        raise unauthorized(str(error)) from error
    return _signed_in(response, request, services, grant)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, services: ServicesDep) -> Response:
    """End this browser's session (if any) and clear its cookies."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is not None:
        services.identity().sign_out(cookie)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, is_secure(request))
    return response


@router.get("/me", response_model=Me, responses={401: {}})
def me(principal: PrincipalDep) -> Me:
    """Who this request is signed in as: roles, permissions, language, sites, and how (session, token ...)."""
    return Me(id=principal.user_id, name=principal.name, roles=sorted(principal.roles),
              permissions=sorted(principal.permissions), locale=principal.locale, sites=sorted(principal.sites),
              via=principal.via)


@router.patch("/me", response_model=Me)
def update_me(body: MeUpdate, principal: PrincipalDep, services: ServicesDep) -> Me:
    """Remember the signed-in user's language (the console's language switch)."""
    accounts = services.identity()
    user = accounts.users.find(principal.user_id)
    if user is None:  # the local admin of an open loopback server has no record
        raise HTTPException(status.HTTP_409_CONFLICT, "this identity has no user record to keep a language in")
    stored = accounts.users.upsert(replace(user, locale=body.locale), services.clock.now())
    return me_of(stored, principal.via)


def _oidc(request: Request) -> OidcClient:
    client: OidcClient | None = request.app.state.oidc
    if client is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "single sign-on is not configured here")
    return client


@router.get("/oidc/start", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
def oidc_start(request: Request) -> RedirectResponse:
    """Begin single sign-on: redirects to the identity provider (authorization code flow with PKCE)."""
    url, flow = _oidc(request).start()
    response = RedirectResponse(url, status.HTTP_302_FOUND)
    # SameSite=Lax: the provider's redirect back is a cross-site top-level GET, which Strict would strip.
    response.set_cookie(FLOW_COOKIE, flow.encode(), max_age=FLOW_MAX_AGE_S, path=FLOW_PATH, httponly=True,
                        secure=is_secure(request), samesite="lax")
    return response


@router.get("/oidc/callback", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
def oidc_callback(request: Request, services: ServicesDep, code: Annotated[str, Query(max_length=2048)],
                  state: Annotated[str, Query(max_length=256)]) -> RedirectResponse:
    """Where the identity provider sends the browser back: verifies the ID token, signs the user in and
    redirects to the console. 401 if the answer is not valid or the account is not a facmon user."""
    client = _oidc(request)
    settings = client.settings
    try:
        identity = client.finish(code, state, Flow.decode(request.cookies.get(FLOW_COOKIE)))
        accounts = services.identity()
        user = accounts.user_for_subject(identity.subject, identity.username, identity.name,
                                         frozenset(Role(role) for role in settings.default_roles))
    except SignInRefused as error:
        raise unauthorized(str(error)) from error
    grant = accounts.open_session(user, "oidc")
    response = RedirectResponse("/", status.HTTP_302_FOUND)
    _signed_in(response, request, services, grant)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, httponly=True, samesite="lax")
    return response
