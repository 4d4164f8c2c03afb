"""Single sign-on against an identity provider served by uvicorn in the test: discovery, JWKS, a token
endpoint that checks the PKCE verifier, and ID tokens signed with its RSA key (joserfc)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import uvicorn
from fastapi import FastAPI, Form, HTTPException
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from api.app import create_app
from api.deps import Services
from core.settings import AuthSettings, OidcSettings
from facmon.broker import free_port
from people.model import Role, User

CLIENT_ID = "facmon-console"


@dataclasses.dataclass
class Provider:
    issuer: str
    key: RSAKey
    codes: dict[str, dict[str, Any]]  # code -> what the authorization request carried
    claims: dict[str, Any]  # what the next ID token says (sub, preferred_username ...)
    tamper: str | None = None  # "nonce" | "audience" | "key": issue a bad ID token

    def authorize(self, url: str) -> str:
        """What the provider does when the user signs in there: a code bound to the PKCE challenge."""
        query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        assert query["client_id"] == CLIENT_ID
        code = secrets.token_urlsafe(8)
        self.codes[code] = query
        return code

    def id_token(self, request: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": request["nonce"], **self.claims}
        key = self.key
        if self.tamper == "nonce":
            claims["nonce"] = "another"
        elif self.tamper == "audience":
            claims["aud"] = "someone-else"
        elif self.tamper == "key":
            key = RSAKey.generate_key(2048, parameters={"kid": self.key.kid})
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)


def _provider_app(provider: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {"issuer": provider.issuer, "authorization_endpoint": f"{provider.issuer}/authorize",
                "token_endpoint": f"{provider.issuer}/token", "jwks_uri": f"{provider.issuer}/jwks"}

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return {"keys": [provider.key.as_dict(private=False)]}

    @app.post("/token")
    def token(code: str = Form(), code_verifier: str = Form(), grant_type: str = Form()) -> dict[str, Any]:
        request = provider.codes.pop(code, None)
        if request is None or grant_type != "authorization_code":
            raise HTTPException(400, "invalid_grant")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != request["code_challenge"]:
            raise HTTPException(400, "invalid_grant: PKCE")
        return {"access_token": "at", "token_type": "Bearer", "id_token": provider.id_token(request)}

    return app


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    port = free_port()
    state = Provider(f"http://127.0.0.1:{port}", RSAKey.generate_key(2048, parameters={"kid": "k1"}), {}, {})
    server = uvicorn.Server(uvicorn.Config(_provider_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield state
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def sso(services: Services, provider: Provider) -> Iterator[TestClient]:
    provider.tamper, provider.claims = None, {"sub": "idp|42", "preferred_username": "mei", "name": "Mei"}
    oidc = OidcSettings(issuer=provider.issuer, client_id=CLIENT_ID,
                        redirect_url="http://testserver/api/v1/auth/oidc/callback")
    app = create_app(dataclasses.replace(services, auth=AuthSettings(oidc=oidc)))
    with TestClient(app, follow_redirects=False) as browser:
        yield browser


def _sign_in(browser: TestClient, provider: Provider) -> Any:
    start = browser.get("/api/v1/auth/oidc/start")
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    code = provider.authorize(location)
    state = parse_qs(urlparse(location).query)["state"][0]
    return browser.get("/api/v1/auth/oidc/callback", params={"code": code, "state": state})


def test_a_known_user_signs_in_with_sso_and_is_linked(sso: TestClient, provider: Provider,
                                                      services: Services) -> None:
    services.identity().add_user(User("mei", "Mei", frozenset({Role.OPERATOR})))
    assert sso.get("/api/v1/auth/options").json()["oidc_url"] == "/api/v1/auth/oidc/start"
    done = _sign_in(sso, provider)
    assert done.status_code == 302
    assert done.headers["location"] == "/"
    me = sso.get("/api/v1/auth/me").json()
    assert (me["id"], me["via"], me["roles"]) == ("mei", "oidc", ["operator"])
    assert services.identity().credentials.find_by_subject("idp|42") is not None
    provider.claims["preferred_username"] = "renamed-at-the-idp"  # the link, not the name, decides now
    sso.cookies.clear()
    assert _sign_in(sso, provider).status_code == 302
    assert sso.get("/api/v1/auth/me").json()["id"] == "mei"


def test_an_unknown_account_is_refused_without_default_roles(sso: TestClient, provider: Provider) -> None:
    provider.claims = {"sub": "idp|99", "preferred_username": "stranger"}
    refused = _sign_in(sso, provider)
    assert refused.status_code == 401
    assert "no active facmon user" in refused.json()["detail"]
    assert sso.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("tamper", ["nonce", "audience", "key"])
def test_a_bad_id_token_is_refused(sso: TestClient, provider: Provider, services: Services, tamper: str) -> None:
    services.identity().add_user(User("mei", "Mei", frozenset({Role.OPERATOR})))
    provider.tamper = tamper
    refused = _sign_in(sso, provider)
    assert refused.status_code == 401
    assert "ID token" in refused.json()["detail"]


def test_a_callback_without_this_browsers_flow_is_refused(sso: TestClient, provider: Provider) -> None:
    start = sso.get("/api/v1/auth/oidc/start")
    code = provider.authorize(start.headers["location"])
    sso.cookies.clear()  # another browser: no flow cookie
    state = parse_qs(urlparse(start.headers["location"]).query)["state"][0]
    assert sso.get("/api/v1/auth/oidc/callback", params={"code": code, "state": state}).status_code == 401


def test_sso_routes_are_404_when_not_configured(client: TestClient) -> None:
    assert client.get("/api/v1/auth/oidc/start", follow_redirects=False).status_code == 404
