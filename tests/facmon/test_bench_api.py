"""`facmon bench api` on a small SQLite portfolio: every list answers, every stream gets every alarm."""

from __future__ import annotations

import argparse

import pytest

from facmon.bench.api import bench_api
from facmon.bench.api_clients import _next_page, percentile_ms


@pytest.mark.timeout(180)
def test_small_api_benchmark_reads_every_list_and_delivers_every_alarm_to_every_stream() -> None:
    args = argparse.Namespace(database="sqlite", database_url=None, alarms=500, orders=1000, clients=4,
                              duration=2.0, sse_clients=20, sse_alarms=2, seed=3, replicas=1)
    result = bench_api(args)
    assert result["seeded"]["alarms"] == 500
    lists = result["lists"]
    assert lists["errors"] == 0
    assert lists["requests"] > 20
    assert len(lists["by_list"]) == 10  # every list of the mix was asked at least once
    streams = result["sse_clients"]
    assert (streams["deliveries"], streams["missed"]) == (40, 0)
    assert 0 < result["event_p99_ms"] < 5000


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_two_api_processes_on_the_shared_stream_deliver_every_alarm_to_every_stream_of_either(pg_url: str) -> None:
    # Two uvicorn processes on one PostgreSQL; the alarms are raised in the first, so the streams of the
    # second hear them only through the event log.
    args = argparse.Namespace(database="postgresql", database_url=pg_url, alarms=200, orders=400, clients=4,
                              duration=1.0, sse_clients=20, sse_alarms=2, seed=3, replicas=2)
    result = bench_api(args)
    assert result["replicas"] == 2
    assert result["lists"]["errors"] == 0
    streams = result["sse_clients"]
    assert (streams["deliveries"], streams["missed"]) == (40, 0)


def test_next_page_follows_a_page_cursor_and_stops_at_a_bare_list() -> None:
    class Always:
        def random(self) -> float:
            return 0.0

    path = "/api/v1/alarms?limit=50"
    assert _next_page(path, {"items": [], "total": 9, "next_cursor": "abc"}, Always()) == f"{path}&cursor=abc"
    assert _next_page(f"{path}&cursor=abc", {"items": [], "next_cursor": "def"}, Always()) == f"{path}&cursor=def"
    assert _next_page(path, [{"id": 1}], Always()) == ""
    assert _next_page(path, {"items": [], "next_cursor": None}, Always()) == ""


def test_percentiles_in_milliseconds() -> None:
    samples = [i / 1000 for i in range(1, 101)]
    assert percentile_ms(samples, 50) == 50.0
    assert percentile_ms(samples, 99) == 99.0
    assert percentile_ms([], 99) is None
