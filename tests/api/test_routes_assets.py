"""Asset routes: list and filters, latest values, telemetry history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.deps import Services
from core.domain import AssetKind, Reading

AT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def history(services: Services) -> None:
    """North pump 1: a flow reading every 10 minutes for an hour, 20, 21, ... 25 m3/h."""
    services.store.write([Reading("north", AssetKind.PUMP, "north-pump-1", AT + timedelta(minutes=10 * i),
                                  {"flow_m3h": 20.0 + i, "running": True}) for i in range(6)])


def test_list_assets_and_filter_by_site_and_kind(client: TestClient) -> None:
    everything = client.get("/api/v1/assets").json()
    assert (everything["total"], len(everything["items"]), everything["next_cursor"]) == (4, 4, None)
    first = client.get("/api/v1/assets", params={"limit": 3}).json()
    rest = client.get("/api/v1/assets", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [a["id"] for a in first["items"] + rest["items"]] == sorted(a["id"] for a in everything["items"])
    assert (first["total"], rest["next_cursor"]) == (4, None)
    north = client.get("/api/v1/assets", params={"site": "north"}).json()["items"]
    assert {a["id"] for a in north} == {"north-pump-1", "north-lift-a", "north-light-1"}
    pumps = client.get("/api/v1/assets", params={"kind": "pump"}).json()["items"]
    assert {a["id"] for a in pumps} == {"north-pump-1", "south-pump-1"}
    both = client.get("/api/v1/assets", params={"site": "south", "kind": "elevator"}).json()
    assert both == {"items": [], "total": 0, "next_cursor": None}


def test_unknown_kind_is_422(client: TestClient) -> None:
    assert client.get("/api/v1/assets", params={"kind": "boiler"}).status_code == 422


@pytest.mark.usefixtures("history")
def test_asset_detail_carries_the_latest_values(client: TestClient) -> None:
    pump = client.get("/api/v1/assets/north-pump-1").json()
    assert pump["name"] == "North booster pump 1"
    assert pump["latest"]["metrics"] == {"flow_m3h": 25.0, "running": True}
    assert pump["latest"]["at"] == "2026-03-02T07:50:00Z"


def test_asset_without_reports_has_no_latest(client: TestClient) -> None:
    assert client.get("/api/v1/assets/south-pump-1").json()["latest"] is None


def test_unknown_asset_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/assets/nowhere")
    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]


@pytest.mark.usefixtures("history")
def test_raw_telemetry_defaults_to_the_last_day(client: TestClient) -> None:
    series = client.get("/api/v1/assets/north-pump-1/telemetry", params={"metric": "flow_m3h"}).json()
    assert series["unit"] == "m3/h"
    assert series["until"] == "2026-03-02T08:00:00Z"  # the services' clock
    assert series["since"] == "2026-03-01T08:00:00Z"
    assert [p["value"] for p in series["points"]] == [20.0, 21.0, 22.0, 23.0, 24.0, 25.0]
    assert series["truncated"] is False


@pytest.mark.usefixtures("history")
def test_windowed_telemetry_aggregates_per_bucket(client: TestClient) -> None:
    params = {"metric": "flow_m3h", "since": "2026-03-02T07:00:00Z", "until": "2026-03-02T08:00:00Z",
              "window": "PT30M", "agg": "max"}
    series = client.get("/api/v1/assets/north-pump-1/telemetry", params=params).json()
    assert series["window"] == "PT30M"
    assert series["points"] == [{"at": "2026-03-02T07:00:00Z", "value": 22.0},
                                {"at": "2026-03-02T07:30:00Z", "value": 25.0}]


@pytest.mark.usefixtures("history")
def test_telemetry_until_is_exclusive(client: TestClient) -> None:
    params = {"metric": "flow_m3h", "since": "2026-03-02T07:00:00Z", "until": "2026-03-02T07:20:00Z"}
    points = client.get("/api/v1/assets/north-pump-1/telemetry", params=params).json()["points"]
    assert [p["value"] for p in points] == [20.0, 21.0]


@pytest.mark.parametrize(("params", "detail"), [
    ({"metric": "door_close_s"}, "no metric 'door_close_s'"),
    ({"metric": "flow_m3h", "since": "2026-03-02T07:00:00"}, "timezone"),
    ({"metric": "flow_m3h", "since": "2026-03-02T09:00:00Z"}, "before 'until'"),
    ({"metric": "flow_m3h", "window": "PT0S"}, "positive"),
    ({"metric": "flow_m3h", "window": "PT1S", "since": "2025-03-02T07:00:00Z"}, "buckets"),
])
def test_bad_telemetry_query_is_422_naming_the_problem(client: TestClient, params: dict[str, str],
                                                       detail: str) -> None:
    response = client.get("/api/v1/assets/north-pump-1/telemetry", params=params)
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_unknown_aggregation_is_422(client: TestClient) -> None:
    params = {"metric": "flow_m3h", "agg": "median"}
    assert client.get("/api/v1/assets/north-pump-1/telemetry", params=params).status_code == 422
