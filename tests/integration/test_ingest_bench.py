"""`facmon bench ingest` on a tiny size, against the fixtures' Mosquitto and InfluxDB: it runs and counts."""

from __future__ import annotations

from typing import Any

import pytest

from facmon.bench.ingest import bench_ingest

pytestmark = pytest.mark.integration


def test_bench_ingest_prints_exact_counts_on_a_tiny_run(mosquitto: Any, influxdb: Any) -> None:
    result = bench_ingest(5_000, qos=1, influx_url=influxdb.url, mqtt_host=mosquitto.host,
                          mqtt_port=mosquitto.port)
    for key in ("messages", "seconds", "msgs_per_s", "lost", "duplicated", "broker_limit_msgs_per_s", "ratio"):
        assert key in result
    assert result["messages"] > 1_000
    assert result["points_in_influxdb"] == result["messages"]
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["msgs_per_s"] > 0
    assert result["broker_limit_msgs_per_s"] > 0
