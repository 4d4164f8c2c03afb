"""Forecast, dead-letter and stats routes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import Services
from core.domain import DeadLetter, Driver, Forecast, ModelRecord
from core.settings import AuthSettings

AT = datetime(2026, 3, 1, tzinfo=UTC)


def forecast(asset_id: str, days: int, health: float, rul_days: float | None) -> Forecast:
    return Forecast(asset_id, AT + timedelta(days=days), health, rul_days, "vibration_mm_s", "trend-v1",
                    {"vibration_mm_s": 3.2})


def test_forecasts_latest_per_asset_and_history(client: TestClient, services: Services) -> None:
    for f in (forecast("north-pump-1", 0, 0.9, 200.0), forecast("north-pump-1", 1, 0.7, 90.0),
              forecast("south-pump-1", 0, 1.0, None)):
        services.db.forecasts.add(f)
    page = client.get("/api/v1/forecasts").json()
    latest = page["items"]
    assert (page["total"], page["next_cursor"]) == (2, None)
    assert [(f["asset_id"], f["health"], f["rul_days"]) for f in latest] == [
        ("north-pump-1", 0.7, 90.0), ("south-pump-1", 1.0, None)]
    assert latest[0]["details"] == {"vibration_mm_s": 3.2}
    history = client.get("/api/v1/forecasts/north-pump-1").json()
    assert ([f["health"] for f in history["items"]], history["total"]) == ([0.7, 0.9], 2)
    newest = client.get("/api/v1/forecasts/north-pump-1?limit=1").json()
    older = client.get("/api/v1/forecasts/north-pump-1", params={"limit": 1, "cursor": newest["next_cursor"]}).json()
    assert [f["health"] for f in newest["items"] + older["items"]] == [0.7, 0.9]
    assert older["next_cursor"] is None
    first = client.get("/api/v1/forecasts", params={"limit": 1}).json()
    second = client.get("/api/v1/forecasts", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [f["asset_id"] for f in first["items"] + second["items"]] == ["north-pump-1", "south-pump-1"]
    assert (first["total"], second["next_cursor"]) == (2, None)


def test_a_forecast_carries_its_quantiles_drivers_and_model_version(client: TestClient, services: Services) -> None:
    services.db.forecasts.add(dataclasses.replace(
        forecast("north-pump-1", 0, 42.0, 30.0), rul_p10_days=10.0, rul_p90_days=70.0, usage_unit="h",
        rul_p50_usage=720.0, p_fail_30d=0.5, p_fail_90d=0.9, model="rul-pump", model_version="3",
        drivers=(Driver("vibration_mm_s.mean", 58.0, "vibration 5.1 mm/s ..."),)))
    [body] = client.get("/api/v1/forecasts").json()["items"]
    assert (body["health"], body["rul_p10_days"], body["rul_days"], body["rul_p90_days"]) == (42.0, 10.0, 30.0, 70.0)
    assert (body["usage_unit"], body["rul_p50_usage"], body["rul_p10_usage"]) == ("h", 720.0, None)
    assert (body["p_fail_30d"], body["p_fail_90d"], body["model"], body["model_version"]) == (0.5, 0.9, "rul-pump", "3")
    assert body["drivers"] == [{"feature": "vibration_mm_s.mean", "penalty": 58.0, "text": "vibration 5.1 mm/s ..."}]


def test_stored_models_are_listed_without_their_blob(client: TestClient, services: Services) -> None:
    services.db.models.add(ModelRecord("rul-pump", 0, AT, AT - timedelta(days=730), AT,
                                       {"observed_coverage_p10_p90": 0.78}, "skops", b"blob"))
    [model] = client.get("/api/v1/forecasts/models").json()["items"]
    assert (model["name"], model["version"], model["active"], model["format"]) == ("rul-pump", 1, True, "skops")
    assert model["metrics"] == {"observed_coverage_p10_p90": 0.78}
    assert "blob" not in model


def test_forecasts_of_an_unknown_asset_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/forecasts/ghost").status_code == 404


def test_asset_without_forecasts_has_an_empty_history(client: TestClient) -> None:
    assert client.get("/api/v1/forecasts/north-lift-a").json() == {"items": [], "total": 0, "next_cursor": None}


def add_letters(services: Services) -> None:
    for reason, payload in (("invalid_json", b"{not json"), ("out_of_range", b'{"metrics":{"flow_m3h":9e9}}'),
                            ("invalid_utf8", b"\xff\xfe")):
        services.db.dead_letters.add(DeadLetter(0, AT, "facmon/v1/north/pump/north-pump-1/telemetry",
                                                reason, f"detail of {reason}", payload))


def test_dead_letters_newest_first_and_by_reason(client: TestClient, services: Services) -> None:
    add_letters(services)
    page = client.get("/api/v1/deadletters").json()
    letters = page["items"]
    assert (page["total"], page["next_cursor"]) == (3, None)
    assert [letter["reason"] for letter in letters] == ["invalid_utf8", "out_of_range", "invalid_json"]
    assert letters[0]["payload"] == "\ufffd\ufffd"  # undecodable bytes shown as replacement characters
    only = client.get("/api/v1/deadletters", params={"reason": "invalid_json"}).json()["items"]
    assert [(letter["payload"], letter["detail"]) for letter in only] == [("{not json", "detail of invalid_json")]
    first = client.get("/api/v1/deadletters", params={"limit": 2}).json()
    rest = client.get("/api/v1/deadletters", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [letter["reason"] for letter in first["items"] + rest["items"]] == [
        "invalid_utf8", "out_of_range", "invalid_json"]
    assert rest["next_cursor"] is None


def test_stats_counts_records_and_merges_runtime_figures(services: Services) -> None:
    add_letters(services)
    services.db.forecasts.add(forecast("north-pump-1", 0, 0.9, 200.0))
    app = create_app(dataclasses.replace(services, auth=AuthSettings(required=False),
                                         stats=lambda: {"ingest": {"accepted": 12}}))
    with TestClient(app) as client:
        client.post("/api/v1/workorders", json={"title": "Lamp out", "site_id": "north"})
        stats = client.get("/api/v1/stats").json()
    assert stats["counts"] == {"assets": 4, "alarms": 0, "active_alarms": 0, "work_orders": 1,
                               "open_work_orders": 1, "forecasts": 1, "dead_letters": 3}
    assert stats["dead_letters_by_reason"] == {"invalid_json": 1, "out_of_range": 1, "invalid_utf8": 1}
    assert stats["runtime"] == {"ingest": {"accepted": 12}}


def test_stats_without_runtime_figures(client: TestClient) -> None:
    assert client.get("/api/v1/stats").json()["runtime"] == {}
