"""The bad inputs of issue 12 answer 4xx problems, never a 500; the alarm list pages and filters."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import timedelta

import pytest

from api.errors import PROBLEM_JSON
from core.clock import ManualClock
from core.domain import Alarm

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

YEAR_ONE = "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/maintenance-windows", {"at": "2026-03-02T08:00:00"}, "query.at"),
    ("/api/v1/alarms/kpis", {"until": YEAR_ONE}, "query.until"),
    ("/api/v1/alarms/kpis", {"since": "9999-12-31T23:59:59+00:00"}, "query.since"),
    ("/api/v1/assets/north-pump-1/telemetry", {"metric": "flow_m3h", "until": YEAR_ONE}, "query.until"),
    ("/api/v1/alarms", {"since": "2026-03-02"}, "query.since"),
    ("/api/v1/escalations", {"until": YEAR_ONE}, "query.until"),
])
def test_times_without_a_zone_or_out_of_range_are_422(client: TestClient, path: str, params: dict[str, str],
                                                      field: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize("for_s", [1e12, -1, 0, 7 * 24 * 3600 + 1])
def test_shelving_for_too_long_is_422(client: TestClient, burst_pipe: Callable[..., Alarm], for_s: float) -> None:
    alarm = burst_pipe()
    response = client.post(f"/api/v1/alarms/{alarm.id}/shelve", json={"for_s": for_s, "reason": "test"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.for_s"


def test_reprocessing_more_than_a_thousand_named_letters_is_422(client: TestClient) -> None:
    response = client.post("/api/v1/deadletters/reprocess", json={"ids": list(range(1001))})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.ids"


def test_a_forged_cursor_is_422(client: TestClient) -> None:
    for cursor in ("bm9uc2Vuc2U", "WyIwMDAxIiwgMV0", "!!"):
        response = client.get("/api/v1/alarms", params={"cursor": cursor})
        assert response.status_code == 422, cursor


def test_alarms_page_by_asset_priority_and_time(client: TestClient, clock: ManualClock,
                                                burst_pipe: Callable[..., Alarm]) -> None:
    north = burst_pipe("north-pump-1", "north")
    clock.advance(timedelta(minutes=10))
    south = burst_pipe("south-pump-1", "south")
    first = client.get("/api/v1/alarms", params={"limit": 1}).json()
    assert (first["total"], [a["id"] for a in first["items"]]) == (2, [south.id])
    second = client.get("/api/v1/alarms", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert ([a["id"] for a in second["items"]], second["next_cursor"]) == ([north.id], None)
    by_asset = client.get("/api/v1/alarms", params={"asset": "north-pump-1"}).json()
    assert [a["id"] for a in by_asset["items"]] == [north.id]
    assert client.get("/api/v1/alarms", params={"priority": north.severity.value}).json()["total"] == 2
    other = "low" if north.severity.value != "low" else "critical"
    assert client.get("/api/v1/alarms", params={"priority": other}).json()["total"] == 0
    since = south.started_at.isoformat()
    assert [a["id"] for a in client.get("/api/v1/alarms", params={"since": since}).json()["items"]] == [south.id]
    assert [a["id"] for a in client.get("/api/v1/alarms", params={"until": since}).json()["items"]] == [north.id]
