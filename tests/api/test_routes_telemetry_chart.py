"""The chart endpoint: any span downsampled to about `points` buckets by the store's aggregates, with the
minimum and maximum of each bucket so a spike survives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.deps import Services
from api.routes.telemetry import bucket_width
from tests.api.conftest import START, TestClient, pump_readings


@pytest.mark.parametrize(("span", "points", "width_s"), [
    (timedelta(days=7), 600, 1800),  # 1,008 s needed: the next readable width is 30 min
    (timedelta(hours=1), 600, 10),
    (timedelta(minutes=5), 600, 1),
    (timedelta(days=3650), 10, 365 * 86400),
])
def test_the_bucket_is_the_narrowest_readable_width_within_the_points(span: timedelta, points: int,
                                                                      width_s: int) -> None:
    assert bucket_width(span, points) == width_s
    assert span.total_seconds() / width_s <= points or width_s == 365 * 86400


def test_a_day_of_minutes_comes_back_as_hourly_buckets_keeping_the_spike(client: TestClient,
                                                                         services: Services) -> None:
    readings = pump_readings("north-pump-1", "north", START, 24 * 60, flow_m3h=30.0, discharge_bar=3.0)
    spike = readings[600]
    readings[600] = type(spike)(spike.site_id, spike.kind, spike.asset_id, spike.at,
                                {**spike.metrics, "vibration_mm_s": 9.5})
    services.store.write(readings)
    answer = client.get("/api/v1/assets/north-pump-1/chart", params={
        "metric": "vibration_mm_s", "since": START.isoformat(), "until": (START + timedelta(days=1)).isoformat(),
        "points": 24})
    assert answer.status_code == 200, answer.text
    chart = answer.json()
    assert chart["window_s"] == 3600
    assert len(chart["at"]) == len(chart["mean"]) == len(chart["max"]) == 24
    assert chart["at"][0] == START.timestamp()
    assert max(chart["max"]) == 9.5  # minute 600 lies in hour 10
    assert chart["max"].index(9.5) == 10
    assert chart["mean"][10] == pytest.approx((59 * 1.4 + 9.5) / 60)
    assert min(chart["min"]) == 1.4
    assert chart["unit"] == "mm/s"


@pytest.mark.parametrize("params", [
    {"metric": "vibration_mm_s", "since": "2026-03-01T00:00:00"},  # no zone
    {"metric": "vibration_mm_s", "until": "0001-01-01T00:00:00Z"},
    {"metric": "vibration_mm_s", "since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
    {"metric": "vibration_mm_s", "points": 1_000_000},
    {"metric": "door_close_s"},  # a lift's metric, not a pump's
])
def test_bad_inputs_answer_422(client: TestClient, params: dict[str, object]) -> None:
    assert client.get("/api/v1/assets/north-pump-1/chart", params=params).status_code == 422


def test_an_unknown_asset_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/assets/nope/chart", params={"metric": "vibration_mm_s"}).status_code == 404


def test_an_asset_lists_the_metrics_of_its_kind(client: TestClient) -> None:
    metrics = {m["name"]: m for m in client.get("/api/v1/assets/north-pump-1/metrics").json()["items"]}
    assert metrics["vibration_mm_s"]["unit"] == "mm/s"
    assert metrics["vibration_mm_s"]["type"] == "gauge"
    assert "door_close_s" not in metrics
