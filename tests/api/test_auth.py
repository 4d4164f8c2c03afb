"""Bearer-token access: /api/v1 needs the token, /healthz and the console page do not."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from api.auth import is_valid_token
from api.deps import Services

PROTECTED = ["/api/v1/assets", "/api/v1/alarms", "/api/v1/workorders", "/api/v1/forecasts",
             "/api/v1/deadletters", "/api/v1/stats", "/api/v1/assets/north-pump-1"]


@pytest.fixture
def anonymous(client: TestClient) -> TestClient:
    client.headers.pop("Authorization")
    return client


@pytest.mark.parametrize("path", PROTECTED)
def test_api_without_token_is_401_with_a_clear_detail(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 401
    assert "missing API token" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", PROTECTED)
def test_api_with_token_is_200(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_wrong_token_is_401(anonymous: TestClient) -> None:
    response = anonymous.get("/api/v1/assets", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid API token"


def test_token_in_query_is_refused_outside_the_event_stream(anonymous: TestClient, token: str) -> None:
    assert anonymous.get(f"/api/v1/assets?token={token}").status_code == 401


def test_event_stream_refuses_wrong_query_token(anonymous: TestClient) -> None:
    assert anonymous.get("/api/v1/events?token=nope").status_code == 401
    assert anonymous.get("/api/v1/events").status_code == 401


def test_posts_need_the_token_too(anonymous: TestClient) -> None:
    response = anonymous.post("/api/v1/workorders", json={"title": "Leak", "site_id": "north"})
    assert response.status_code == 401


def test_health_and_console_are_open(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json()["status"] == "ok"
    page = anonymous.get("/")
    assert page.status_code == 200
    assert "operations console" in page.text


def test_no_token_configured_means_open_api(services: Services) -> None:
    with TestClient(create_app(dataclasses.replace(services, token=None))) as open_client:
        assert open_client.get("/api/v1/assets").status_code == 200


@given(expected=st.text(min_size=1), offered=st.text() | st.none())
def test_is_valid_token_only_for_the_exact_token(expected: str, offered: str | None) -> None:
    assert is_valid_token(expected, offered) == (offered == expected)
    assert is_valid_token(expected, expected)
