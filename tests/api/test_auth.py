"""Sign-in: passwords and their cookies, CSRF, lockout, the per-address rate limit, personal API tokens
(scopes, expiry), disabled users, security headers, CORS and the loopback rule. OIDC: test_auth_oidc.py."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.deps import Services
from core.clock import ManualClock
from core.errors import ConfigError
from core.settings import AuthSettings, load_settings
from facmon.cli import main
from tests.api.conftest import PASSWORD, add_user_with_role

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


@pytest.fixture
def app_with(services: Services) -> Iterator[Callable[..., TestClient]]:
    """``app_with(auth=..., cors_origins=...)``: a fresh app over the test's services with other settings."""
    clients: list[TestClient] = []

    def make(client: tuple[str, int] = ("testclient", 50000), **changes: Any) -> TestClient:
        app = create_app(dataclasses.replace(services, accounts=None, **changes))
        test_client = TestClient(app, client=client).__enter__()
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


def _cookies(response: Any) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the whole header, attributes included)."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def test_password_sign_in_sets_strict_cookies_and_me_answers(app: FastAPI, services: Services) -> None:
    add_user_with_role(services, "operator")
    with TestClient(app) as browser:
        assert browser.get(ME).status_code == 401
        answer = browser.post(LOGIN, json={"username": "operator-1", "password": PASSWORD})
        assert answer.status_code == 200
        body = answer.json()
        assert body["user"]["id"] == "operator-1"
        assert "alarms" in body["user"]["permissions"]
        cookies = _cookies(answer)
        session, csrf = cookies["facmon_session"].lower(), cookies["facmon_csrf"].lower()
        assert "httponly" in session
        assert "samesite=strict" in session
        assert "path=/" in session
        assert "httponly" not in csrf  # the page's script reads it
        assert "samesite=strict" in csrf
        assert f"facmon_csrf={body['csrf_token']}".lower() in csrf
        assert browser.get(ME).json()["via"] == "session"
        assert browser.post("/api/v1/auth/logout").status_code == 204
        assert browser.get(ME).status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_401(app: FastAPI, services: Services) -> None:
    add_user_with_role(services, "viewer")
    with TestClient(app) as browser:
        wrong = browser.post(LOGIN, json={"username": "viewer-1", "password": "not the password"})
        unknown = browser.post(LOGIN, json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert "set-cookie" not in wrong.headers


def test_a_cookie_write_needs_the_csrf_token(browser_as: Callable[..., TestClient],
                                             burst_pipe: Callable[..., Any]) -> None:
    alarm = burst_pipe()
    browser = browser_as("operator")
    csrf = browser.headers.pop("X-CSRF-Token")
    url = f"/api/v1/alarms/{alarm.id}/acknowledge"
    assert browser.post(url, json={}).status_code == 403  # a cross-site form could send this much
    assert browser.post(url, json={}, headers={"X-CSRF-Token": "guessed"}).status_code == 403
    assert browser.get(f"/api/v1/alarms/{alarm.id}").json()["state"] == "unacknowledged"  # nothing happened
    assert browser.get("/api/v1/alarms").status_code == 200  # reads need no token
    assert browser.post(url, json={}, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_lockout_after_max_failed_logins_and_unlock_after_lockout_s(app_with: Callable[..., TestClient],
                                                                     services: Services, clock: ManualClock) -> None:
    add_user_with_role(services, "planner")
    browser = app_with(auth=AuthSettings(max_failed_logins=3, lockout_s=600, login_rate="100/minute"))
    wrong = {"username": "planner-1", "password": "wrong password"}
    assert [browser.post(LOGIN, json=wrong).status_code for _ in range(2)] == [401, 401]
    locked = browser.post(LOGIN, json=wrong)
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "600"
    right = {"username": "planner-1", "password": PASSWORD}
    still = browser.post(LOGIN, json=right)  # even the right password, while locked
    assert still.status_code == 429
    assert 1 <= int(still.headers["retry-after"]) <= 600
    clock.advance(timedelta(seconds=601))
    assert browser.post(LOGIN, json=right).status_code == 200


def test_sign_in_attempts_are_rate_limited_per_address(app_with: Callable[..., TestClient],
                                                       services: Services) -> None:
    add_user_with_role(services, "viewer")
    browser = app_with(auth=AuthSettings(login_rate="3/minute", max_failed_logins=100))
    wrong = {"username": "viewer-1", "password": "wrong password"}
    assert [browser.post(LOGIN, json=wrong).status_code for _ in range(3)] == [401, 401, 401]
    limited = browser.post(LOGIN, json={"username": "viewer-1", "password": PASSWORD})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # Another address is counted on its own (same app, same limiter).
    other = TestClient(browser.app, client=("192.0.2.7", 40000))
    assert other.post(LOGIN, json={"username": "viewer-1", "password": PASSWORD}).status_code == 200


def test_a_token_scoped_to_read_cannot_write_and_expires(browser_as: Callable[..., TestClient],
                                                         burst_pipe: Callable[..., Any], app: FastAPI,
                                                         clock: ManualClock) -> None:
    alarm = burst_pipe()
    browser = browser_as("operator")
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    issued = browser.post("/api/v1/me/tokens", json={"name": "wallboard", "scopes": ["read"], "expires_at": expires})
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("fm_")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/v1/alarms").status_code == 200
        assert script.get(ME).json()["permissions"] == ["read"]
        refused = script.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={})
        assert refused.status_code == 403  # the operator may; the token may not
        assert "alarms" in refused.json()["detail"]
        # A token needs no CSRF header; an unscoped one of the same operator writes.
        full = browser.post("/api/v1/me/tokens", json={"name": "script"}).json()["token"]
        assert script.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={},
                           headers={"Authorization": f"Bearer {full}"}).status_code == 200
        clock.advance(timedelta(hours=1, seconds=1))
        expired = script.get("/api/v1/alarms")
        assert expired.status_code == 401
        assert expired.headers["www-authenticate"] == "Bearer"
    listed = browser.get("/api/v1/me/tokens").json()["items"]
    assert {item["name"] for item in listed} == {"wallboard", "script"}
    assert all("token" not in item for item in listed)  # the secret is shown once


def test_a_token_cannot_be_scoped_beyond_its_users_roles(browser_as: Callable[..., TestClient]) -> None:
    answer = browser_as("viewer").post("/api/v1/me/tokens", json={"name": "x", "scopes": ["admin"]})
    assert answer.status_code == 422


def test_a_disabled_user_loses_sessions_and_tokens(client: TestClient, browser_as: Callable[..., TestClient],
                                                   client_as: Callable[..., TestClient]) -> None:
    browser = browser_as("dispatcher")
    script = client_as("dispatcher")
    assert browser.get(ME).status_code == script.get(ME).status_code == 200
    assert client.patch("/api/v1/users/dispatcher-1", json={"active": False}).status_code == 200
    assert browser.get(ME).status_code == 401
    assert script.get(ME).status_code == 401
    assert browser.post(LOGIN, json={"username": "dispatcher-1", "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize("path", ["/", "/api/v1/alarms", ME, "/healthz"])
def test_security_headers_on_console_and_api(app: FastAPI, path: str) -> None:
    with TestClient(app) as anonymous:
        headers = anonymous.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_cors_only_for_configured_origins(app_with: Callable[..., TestClient], app: FastAPI) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-csrf-token"}
    configured = app_with(cors_origins=("https://ops.example",))
    allowed = configured.options(LOGIN, headers={"Origin": "https://ops.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    other = configured.options(LOGIN, headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
    with TestClient(app) as default:  # none configured: same origin only
        answer = default.get("/healthz", headers={"Origin": "https://ops.example"})
        assert "access-control-allow-origin" not in answer.headers


def test_without_auth_only_on_loopback(app_with: Callable[..., TestClient]) -> None:
    with pytest.raises(ConfigError, match="beyond loopback"):
        load_settings(api={"host": "0.0.0.0"}, auth={"required": False})
    assert load_settings(api={"host": "0.0.0.0"}).auth.required  # signed in: fine
    assert not load_settings(api={"host": "::1"}, auth={"required": False}).auth.required
    local = app_with(auth=AuthSettings(required=False))
    assert local.get(ME).json()["via"] == "local"
    assert local.get(ME, headers={"Authorization": "Bearer fm_nope_nope"}).status_code == 401  # still checked


def test_serve_refuses_to_listen_beyond_loopback_without_auth(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "facmon.toml"
    config.write_text('[api]\nhost = "0.0.0.0"\n[auth]\nrequired = false\n')
    assert main(["serve", "--config", str(config)]) == 2
    assert "listens beyond loopback, which needs auth.required = true" in capsys.readouterr().err


def test_the_event_stream_is_for_staff_and_technicians(client_as: Callable[..., TestClient], app: FastAPI) -> None:
    resident = client_as("resident").get("/api/v1/events")
    assert resident.status_code == 403
    assert "read or orders:own" in resident.json()["detail"]
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/events").status_code == 401
        assert anonymous.get("/api/v1/events", params={"token": "fm_x_y"}).status_code == 401
