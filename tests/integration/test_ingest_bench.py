"""`facmon bench ingest` on a tiny size: it publishes exactly N, counts exactly, and splits the CPU by process.

No timing assertions: the figures depend on the machine; what is checked is that they are there, are
counted over the right processes, and that the message counts are exact.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from facmon.bench.ingest import bench_ingest
from facmon.cli import main

pytestmark = pytest.mark.integration

CPU_KEYS = {"collector", "mosquitto", "influxdb", "load_generator"}


def assert_exact(result: dict[str, Any], messages: int) -> None:
    assert result["messages"] == messages  # the load generator published N and the broker acknowledged all N
    assert result["points_in_influxdb"] == messages
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["msgs_per_s"] > 0


def test_bench_on_given_services_publishes_exactly_n_and_reports_only_the_cpu_it_can_see(
        mosquitto: Any, influxdb: Any) -> None:
    """Given a broker and an InfluxDB it did not start, the bench cannot attribute their CPU: null."""
    result = bench_ingest(5_001, qos=1, influx_url=influxdb.url, mqtt_host=mosquitto.host,
                          mqtt_port=mosquitto.port)
    assert_exact(result, 5_001)
    assert result["broker_limit_msgs_per_s"] > 0
    assert result["ratio"] > 0
    cpu = result["cpu_us_per_msg"]
    assert set(cpu) == CPU_KEYS
    assert cpu["collector"] > 0
    assert cpu["load_generator"] > 0
    assert cpu["mosquitto"] is None
    assert cpu["influxdb"] is None
    assert "collector_cpu_us_per_msg" not in result  # folded into cpu_us_per_msg: one name per number
    threads = result["collector_cpu_us_per_msg_by_thread"]
    assert threads, "the collector's threads"
    assert all(value >= 0 for value in threads.values())
    # the threads are a breakdown of the collector process's figure (rounding, and ticks vs. process_time)
    assert sum(threads.values()) <= cpu["collector"] * 1.2 + 20


def test_bench_with_its_own_services_reports_cpu_for_every_process(capsys: pytest.CaptureFixture[str]) -> None:
    """Run as the command does: the bench starts Mosquitto and InfluxDB itself, so it measures all four."""
    code = main(["bench", "ingest", "--messages", "20000", "--skip-broker-limit"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert_exact(result, 20_000)
    assert result["broker_limit_msgs_per_s"] is None
    cpu = result["cpu_us_per_msg"]
    assert set(cpu) == CPU_KEYS
    assert all(cpu[name] > 0 for name in CPU_KEYS), cpu
