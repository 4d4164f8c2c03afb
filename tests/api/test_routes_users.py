"""Users (admins) and personal API tokens over the API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN_ID


def test_admin_adds_lists_and_pages_users(client: TestClient) -> None:
    for name in ("b-user", "c-user"):
        added = client.post("/api/v1/users", json={"id": name, "name": name.upper(), "roles": ["viewer"],
                                                   "password": "long enough password"})
        assert added.status_code == 201
    assert client.post("/api/v1/users", json={"id": "b-user", "name": "B", "roles": ["viewer"]}).status_code == 422
    first = client.get("/api/v1/users", params={"limit": 2}).json()
    assert [u["id"] for u in first["items"]] == ["b-user", "c-user"]
    assert first["total"] == 3
    rest = client.get("/api/v1/users", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [u["id"] for u in rest["items"]] == [ADMIN_ID]
    assert rest["next_cursor"] is None
    viewers = client.get("/api/v1/users", params={"role": "viewer"}).json()
    assert viewers["total"] == 2


def test_admin_changes_roles_and_resets_a_password(client: TestClient, browser_as: Callable[..., TestClient],
                                                   ) -> None:
    browser = browser_as("viewer")
    changed = client.patch("/api/v1/users/viewer-1", json={"roles": ["operator"], "locale": "zh-CN"}).json()
    assert (changed["roles"], changed["locale"]) == (["operator"], "zh-CN")
    assert browser.get("/api/v1/auth/me").json()["permissions"] == ["alarms", "read"]
    assert client.post("/api/v1/users/viewer-1/password", json={"password": "brand new password"}).status_code == 204
    assert browser.get("/api/v1/auth/me").status_code == 401  # the reset ended the session
    assert client.patch("/api/v1/users/nobody", json={"name": "x"}).status_code == 404


def test_an_admin_cannot_disable_or_demote_themselves(client: TestClient) -> None:
    assert client.patch(f"/api/v1/users/{ADMIN_ID}", json={"active": False}).status_code == 422
    assert client.patch(f"/api/v1/users/{ADMIN_ID}", json={"roles": ["viewer"]}).status_code == 422


def test_only_admins_manage_users(client_as: Callable[..., TestClient]) -> None:
    dispatcher = client_as("dispatcher")
    assert dispatcher.get("/api/v1/users").status_code == 403
    assert dispatcher.post("/api/v1/users", json={"id": "x", "name": "x", "roles": ["admin"]}).status_code == 403


def test_anyone_signed_in_manages_their_own_tokens(client_as: Callable[..., TestClient],
                                                   browser_as: Callable[..., TestClient]) -> None:
    browser = browser_as("technician")
    issued = browser.post("/api/v1/me/tokens", json={"name": "phone app", "scopes": ["orders:own"]})
    assert issued.status_code == 201
    body = issued.json()
    assert body["token"].startswith(f"fm_{body['id']}_")
    assert browser.post("/api/v1/me/tokens", json={"name": "more", "scopes": ["admin"]}).status_code == 422
    listed = browser.get("/api/v1/me/tokens").json()
    assert "token" not in listed["items"][-1]
    with TestClient(browser.app, headers={"Authorization": f"Bearer {body['token']}"}) as app_client:
        assert app_client.get("/api/v1/auth/me").json()["via"] == "token"
        other = client_as("operator")
        assert other.delete(f"/api/v1/me/tokens/{body['id']}").status_code == 404  # not theirs
        assert browser.delete(f"/api/v1/me/tokens/{body['id']}").status_code == 204
        assert app_client.get("/api/v1/auth/me").status_code == 401


def test_the_language_is_remembered(browser_as: Callable[..., TestClient]) -> None:
    browser = browser_as("planner")
    assert browser.patch("/api/v1/auth/me", json={"locale": "zh-CN"}).json()["locale"] == "zh-CN"
    assert browser.get("/api/v1/auth/me").json()["locale"] == "zh-CN"
    assert browser.patch("/api/v1/auth/me", json={"locale": "<script>"}).status_code == 422
