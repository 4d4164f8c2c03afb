"""Single sign-on against an in-test OpenID Connect provider: a small local HTTP server serving discovery,
JWKS and a token endpoint, signing ID tokens with a generated RSA key; state, nonce and PKCE are checked and
a tampered token is refused."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from api.app import create_app
from api.deps import Services
from core.settings import AuthSettings, OidcSettings
from tests.api.conftest import add_user_with_role

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CLIENT_ID = "facmon-console"
CALLBACK = "http://testserver/api/v1/auth/oidc/callback"


class Provider:
    """The identity provider's side: codes it handed out, and how its next ID token is made."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.codes: dict[str, dict[str, Any]] = {}  # code -> the authorization request and who signed in
        self.tamper: str | None = None  # "payload", "key", "nonce", "audience", "expired"
        self.issuer = ""

    def authorize(self, authorization_url: str, subject: str, username: str) -> tuple[str, str]:
        """What the provider does when the user signs in there: a code for the redirect, and the state."""
        query = {name: values[0] for name, values in parse_qs(urlsplit(authorization_url).query).items()}
        assert query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == CALLBACK
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "sub": subject, "username": username}
        return code, query["state"]

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request = self.codes.pop(form.get("code", ""), None)
        if request is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        challenge = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if challenge.rstrip(b"=").decode() != request["code_challenge"]:  # PKCE
            return 400, {"error": "invalid_grant", "error_description": "code_verifier"}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": request["sub"], "iat": now, "exp": now + 300,
                  "nonce": request["nonce"], "preferred_username": request["username"], "name": "Olga Operator"}
        if self.tamper == "nonce":
            claims["nonce"] = "another"
        if self.tamper == "audience":
            claims["aud"] = "someone-else"
        if self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if self.tamper == "key" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        if self.tamper == "payload":  # the subject changed after signing
            header, _, signature = id_token.split(".")
            forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "admin"}).encode()).rstrip(b"=").decode()
            id_token = f"{header}.{forged}.{signature}"
        return 200, {"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._send(200, {"issuer": state.issuer, "authorization_endpoint": f"{state.issuer}/authorize",
                                 "token_endpoint": f"{state.issuer}/token", "jwks_uri": f"{state.issuer}/jwks",
                                 "response_types_supported": ["code"], "subject_types_supported": ["public"],
                                 "id_token_signing_alg_values_supported": ["RS256"]})
            elif self.path == "/jwks":
                self._send(200, {"keys": [state.key.as_dict(private=False)]})
            else:
                self._send(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {name: values[0] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
            self._send(*state.token(form) if self.path == "/token" else (404, {}))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    thread.join(5)


@pytest.fixture
def browser(services: Services, provider: Provider) -> Iterator[TestClient]:
    add_user_with_role(services, "operator", "olga")
    oidc = OidcSettings(issuer=provider.issuer, client_id=CLIENT_ID, redirect_url=CALLBACK)
    app = create_app(dataclasses.replace(services, accounts=None, auth=AuthSettings(oidc=oidc)))
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _start(browser: TestClient) -> str:
    started = browser.get("/api/v1/auth/oidc/start")
    assert started.status_code == 302, started.text
    return started.headers["location"]


SignIn = Callable[..., Any]


@pytest.fixture
def sign_in(browser: TestClient, provider: Provider) -> SignIn:
    def run(subject: str = "idp-olga", username: str = "olga", state: str | None = None) -> Any:
        code, sent_state = provider.authorize(_start(browser), subject, username)
        return browser.get("/api/v1/auth/oidc/callback", params={"code": code, "state": state or sent_state})

    return run


def test_sso_signs_in_the_linked_user(browser: TestClient, sign_in: SignIn, services: Services) -> None:
    assert browser.get("/api/v1/auth/options").json()["oidc_url"] == "/api/v1/auth/oidc/start"
    answer = sign_in()
    assert answer.status_code == 302
    assert answer.headers["location"] == "/"
    me = browser.get("/api/v1/auth/me").json()
    assert (me["id"], me["via"]) == ("olga", "oidc")
    assert "operator" in me["roles"]
    # The subject is linked now: the next sign-in finds olga by it, whatever name the provider sends.
    browser.cookies.clear()
    assert sign_in(username="renamed").status_code == 302
    assert browser.get("/api/v1/auth/me").json()["id"] == "olga"


@pytest.mark.parametrize("tamper", ["payload", "key", "nonce", "audience", "expired"])
def test_a_tampered_or_foreign_id_token_is_refused(browser: TestClient, sign_in: SignIn, provider: Provider,
                                                   tamper: str) -> None:
    provider.tamper = tamper
    answer = sign_in()
    assert answer.status_code == 401
    assert "ID token is not valid" in answer.json()["detail"]
    assert "facmon_session" not in browser.cookies
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_state_must_be_this_browsers(browser: TestClient, sign_in: SignIn, provider: Provider) -> None:
    assert sign_in(state="forged").status_code == 401
    # A callback in a browser that never started the flow (no flow cookie): refused too.
    code, state = provider.authorize(_start(browser), "idp-olga", "olga")
    browser.cookies.clear()
    answer = browser.get("/api/v1/auth/oidc/callback", params={"code": code, "state": state})
    assert answer.status_code == 401
    assert "does not belong to this browser" in answer.json()["detail"]


def test_pkce_verifier_must_match(browser: TestClient, provider: Provider) -> None:
    code, state = provider.authorize(_start(browser), "idp-olga", "olga")
    provider.codes[code]["code_challenge"] = "not-the-challenge"  # as if the code was stolen and replayed
    answer = browser.get("/api/v1/auth/oidc/callback", params={"code": code, "state": state})
    assert answer.status_code == 401
    assert "refused the code" in answer.json()["detail"]


def test_an_unknown_subject_without_default_roles_is_refused(browser: TestClient, sign_in: SignIn) -> None:
    answer = sign_in(subject="idp-stranger", username="stranger")
    assert answer.status_code == 401
    assert "no active facmon user" in answer.json()["detail"]
