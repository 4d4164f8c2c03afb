"""Sign-in: tokens, password sessions with CSRF, lockout and rate limit, security headers, the open loopback
mode. Against the real records database (SQLite) through the app."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Services
from core.clock import ManualClock
from core.settings import AuthSettings
from facmon.cli import main
from tests.api.conftest import PASSWORD, add_user_with_role

PROTECTED = ["/api/v1/assets", "/api/v1/alarms", "/api/v1/workorders", "/api/v1/forecasts",
             "/api/v1/deadletters", "/api/v1/stats", "/api/v1/assets/north-pump-1", "/api/v1/auth/me"]


@pytest.fixture
def anonymous(app: object) -> TestClient:
    return TestClient(app)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", PROTECTED)
def test_api_without_credentials_is_401(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 401
    assert "sign in" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", PROTECTED)
def test_api_with_a_personal_token_is_200(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("offered", ["nope", "fm_0000_x", "fm__", "Basic abc"])
def test_a_wrong_token_is_401(anonymous: TestClient, token: str, offered: str) -> None:
    header = offered if offered.startswith("Basic") else f"Bearer {offered}"
    assert anonymous.get("/api/v1/assets", headers={"Authorization": header}).status_code == 401
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert anonymous.get("/api/v1/assets", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_query_token_only_on_the_event_stream(anonymous: TestClient, token: str) -> None:
    assert anonymous.get(f"/api/v1/assets?token={token}").status_code == 401
    assert anonymous.get("/api/v1/events?token=nope").status_code == 401


def test_me_names_the_user_roles_and_permissions(client_as: Callable[..., TestClient]) -> None:
    me = client_as("operator").get("/api/v1/auth/me").json()
    assert me == {"id": "operator-1", "name": "Test operator", "roles": ["operator"],
                  "permissions": ["alarms", "read"], "locale": None, "sites": [], "via": "token"}
    resident = client_as("resident").get("/api/v1/auth/me").json()
    assert resident["sites"] == ["north"]
    assert resident["permissions"] == ["requests:own"]


def test_password_sign_in_sets_strict_httponly_cookies(app: object, services: Services) -> None:
    add_user_with_role(services, "dispatcher")
    with TestClient(app) as browser:  # type: ignore[arg-type]
        answer = browser.post("/api/v1/auth/login", json={"username": "dispatcher-1", "password": PASSWORD})
        assert answer.status_code == 200
        cookies = answer.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("facmon_session="))
        csrf = next(c for c in cookies if c.startswith("facmon_csrf="))
        for part in ("httponly", "samesite=strict", "path=/"):
            assert part in session.lower()
        assert "samesite=strict" in csrf.lower()
        assert "httponly" not in csrf.lower()  # the page's script reads it
        assert answer.json()["user"]["roles"] == ["dispatcher"]
        assert browser.get("/api/v1/auth/me").json()["via"] == "session"


def test_a_cookie_write_needs_the_csrf_header(browser_as: Callable[..., TestClient]) -> None:
    browser = browser_as("dispatcher")
    body = {"title": "Leak", "site_id": "north"}
    assert browser.post("/api/v1/workorders", json=body).status_code == 201
    csrf = browser.headers.pop("X-CSRF-Token")
    refused = browser.post("/api/v1/workorders", json=body)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    assert browser.post("/api/v1/workorders", json=body, headers={"X-CSRF-Token": csrf + "x"}).status_code == 403
    assert browser.get("/api/v1/workorders").status_code == 200  # reads need none


def test_logout_ends_the_session_on_the_server(browser_as: Callable[..., TestClient]) -> None:
    browser = browser_as("viewer")
    stolen = browser.cookies.get("facmon_session")
    assert browser.post("/api/v1/auth/logout").status_code == 204
    assert browser.get("/api/v1/auth/me").status_code == 401
    browser.cookies.set("facmon_session", stolen or "")
    assert browser.get("/api/v1/auth/me").status_code == 401  # the old cookie is dead, not only cleared


def test_a_session_ends_after_its_idle_time(browser_as: Callable[..., TestClient], clock: ManualClock) -> None:
    browser = browser_as("viewer")
    clock.advance(timedelta(hours=1))
    assert browser.get("/api/v1/auth/me").status_code == 200
    clock.advance(timedelta(hours=2, minutes=1))
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_wrong_passwords_lock_the_account_then_429_with_retry_after(app: object, services: Services,
                                                                    clock: ManualClock) -> None:
    add_user_with_role(services, "planner")
    with TestClient(app) as browser:  # type: ignore[arg-type]
        wrong = {"username": "planner-1", "password": "not the password"}
        statuses = [browser.post("/api/v1/auth/login", json=wrong).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        locked = browser.post("/api/v1/auth/login", json={"username": "planner-1", "password": PASSWORD})
        assert locked.status_code == 429  # even the right password, while locked
        assert 0 < int(locked.headers["retry-after"]) <= 900
        clock.advance(timedelta(minutes=16))
        assert browser.post("/api/v1/auth/login",
                            json={"username": "planner-1", "password": PASSWORD}).status_code == 200


def test_unknown_user_and_wrong_password_answer_alike(anonymous: TestClient, services: Services) -> None:
    add_user_with_role(services, "viewer")
    unknown = anonymous.post("/api/v1/auth/login", json={"username": "ghost", "password": "whatever12"})
    wrong = anonymous.post("/api/v1/auth/login", json={"username": "viewer-1", "password": "whatever12"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


def test_sign_in_is_rate_limited_per_address(services: Services) -> None:
    app = create_app(dataclasses.replace(services, auth=AuthSettings(login_rate="3/minute")))
    with TestClient(app) as browser:
        tries = [browser.post("/api/v1/auth/login", json={"username": f"u{i}", "password": "x" * 10})
                 for i in range(4)]
    assert [t.status_code for t in tries] == [401, 401, 401, 429]
    assert int(tries[-1].headers["retry-after"]) >= 1


def test_disabling_a_user_revokes_their_token(client: TestClient, client_as: Callable[..., TestClient]) -> None:
    operator = client_as("operator")
    assert operator.get("/api/v1/alarms").status_code == 200
    assert client.patch("/api/v1/users/operator-1", json={"active": False}).json()["active"] is False
    assert operator.get("/api/v1/alarms").status_code == 401


def test_security_headers_on_pages_and_api(anonymous: TestClient, client: TestClient) -> None:
    for response in (anonymous.get("/"), client.get("/api/v1/assets"), anonymous.get("/api/v1/assets")):
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_cors_only_for_configured_origins(services: Services) -> None:
    allowed = "https://ops.example"
    preflight = {"Access-Control-Request-Method": "GET"}
    with TestClient(create_app(dataclasses.replace(services, cors_origins=(allowed,)))) as configured:
        ok = configured.options("/api/v1/assets", headers={"Origin": allowed, **preflight})
        assert ok.headers["access-control-allow-origin"] == allowed
        other = configured.options("/api/v1/assets", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(services)) as default:
        answer = default.get("/api/v1/auth/options", headers={"Origin": allowed})
        assert "access-control-allow-origin" not in answer.headers


def test_open_loopback_mode_acts_as_local_admin_but_checks_offered_credentials(services: Services) -> None:
    with TestClient(create_app(dataclasses.replace(services, auth=AuthSettings(required=False)))) as local:
        assert local.get("/api/v1/auth/me").json()["via"] == "local"
        assert local.get("/api/v1/assets", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_health_console_and_sign_in_options_are_open(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json()["status"] == "ok"
    assert anonymous.get("/").status_code == 200
    assert anonymous.get("/api/v1/auth/options").json() == {"password": True, "oidc_label": None, "oidc_url": None}


def test_a_token_scoped_to_read_cannot_write_and_expires(browser_as: Callable[..., TestClient], app: object,
                                                         burst_pipe: Callable[..., Any], clock: ManualClock) -> None:
    alarm = burst_pipe()
    browser = browser_as("operator")
    expires = (clock.now() + timedelta(hours=1)).isoformat()
    issued = browser.post("/api/v1/me/tokens", json={"name": "wallboard", "scopes": ["read"], "expires_at": expires})
    assert issued.status_code == 201
    token = issued.json()["token"]
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as script:  # type: ignore[arg-type]
        assert script.get("/api/v1/alarms").status_code == 200
        refused = script.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={})
        assert refused.status_code == 403  # the operator may; the token may not
        full = browser.post("/api/v1/me/tokens", json={"name": "script"}).json()["token"]
        assert script.post(f"/api/v1/alarms/{alarm.id}/acknowledge", json={},
                           headers={"Authorization": f"Bearer {full}"}).status_code == 200  # no CSRF for tokens
        clock.advance(timedelta(hours=1, seconds=1))
        assert script.get("/api/v1/alarms").status_code == 401


def test_disabling_a_user_ends_their_browser_session(client: TestClient,
                                                     browser_as: Callable[..., TestClient]) -> None:
    browser = browser_as("dispatcher")
    assert browser.get("/api/v1/auth/me").status_code == 200
    assert client.patch("/api/v1/users/dispatcher-1", json={"active": False}).status_code == 200
    assert browser.get("/api/v1/auth/me").status_code == 401
    again = browser.post("/api/v1/auth/login", json={"username": "dispatcher-1", "password": PASSWORD})
    assert again.status_code == 401


def test_the_event_stream_is_for_staff_and_technicians(client_as: Callable[..., TestClient],
                                                       anonymous: TestClient) -> None:
    resident = client_as("resident").get("/api/v1/events")
    assert resident.status_code == 403
    assert "read or orders:own" in resident.json()["detail"]
    assert anonymous.get("/api/v1/events").status_code == 401


def test_serve_refuses_to_listen_beyond_loopback_without_auth(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "facmon.toml"
    config.write_text('[api]\nhost = "0.0.0.0"\n[auth]\nrequired = false\n')
    assert main(["serve", "--config", str(config)]) == 2
    assert "listens beyond loopback, which needs auth.required = true" in capsys.readouterr().err
