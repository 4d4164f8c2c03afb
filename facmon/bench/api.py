"""`facmon bench api`: the console's lists and live stream under load, over HTTP, on a realistic database.

Seeds 100k alarms and 200k work orders of 200 sites (``api_seed``; PostgreSQL, started here unless
``--database-url`` names one, or a SQLite file with ``--database sqlite``), serves the real app with
uvicorn in a subprocess (``api_server``), then measures:

- ``lists``: ``--clients`` concurrent connections reading the alarm and work-order lists the operator and
  dispatcher screens ask for (a page of 50, filtered), each asking again as soon as answered:
  ``requests_per_s``, ``p99_ms`` (targets: at least 500/s, p99 under 100 ms);
- ``sse_clients``: ``--sse-clients`` open event streams; alarms raised through the rules service, timed
  from the ``alarm.raised`` event's publication to its arrival at each stream: ``event_p99_ms`` (target:
  every client within 1 s).

Prints one JSON object; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from facmon.bench.api_clients import Query, follow_streams, read_lists
from facmon.bench.api_seed import seed, utc_now
from facmon.bench.workorders import _database, _site

SITES = 200
TECHNICIANS = SITES // 4


def register(benchmarks: Any) -> None:
    bench = benchmarks.add_parser("api", help="the API's lists and event stream under concurrent clients "
                                              "(one JSON object)")
    bench.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    bench.add_argument("--database-url", help="an empty PostgreSQL database (default: start one here)")
    bench.add_argument("--alarms", type=int, default=100_000)
    bench.add_argument("--orders", type=int, default=200_000)
    bench.add_argument("--clients", type=int, default=16, help="concurrent list readers")
    bench.add_argument("--duration", type=float, default=20.0, help="seconds of list reading")
    bench.add_argument("--sse-clients", type=int, default=1000)
    bench.add_argument("--sse-alarms", type=int, default=10, help="alarms raised while the streams are open")
    bench.add_argument("--replicas", type=int, default=1,
                       help="API processes sharing the event stream through PostgreSQL (clients spread evenly)")
    bench.add_argument("--seed", type=int, default=1)
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(bench_api(args)))  # noqa: T201 - the benchmark's one JSON object
    return 0


def bench_api(args: argparse.Namespace) -> dict[str, Any]:
    replicas = args.replicas
    if replicas > 1 and args.database != "postgresql":
        raise SystemExit("bench api: --replicas above 1 shares the event stream through PostgreSQL")
    result: dict[str, Any] = {"benchmark": "api", "database": args.database, "replicas": replicas}
    with _records(args.database, args.database_url) as url:
        _progress(f"seeding {args.alarms} alarms and {args.orders} work orders ({args.database})")
        result["seeded"] = seed(url, args.alarms, args.orders, SITES, args.seed, utc_now())
        with _servers(url, replicas) as servers:
            bases, first = [server.base for server in servers], servers[0]
            _progress(f"{args.clients} clients reading lists for {args.duration:.0f} s from {replicas} replica(s)")
            result["lists"] = asyncio.run(read_lists(bases, LIST_QUERIES, args.clients, args.duration,
                                                     args.seed, first.headers))
            _progress(f"{args.sse_clients} stream clients, {args.sse_alarms} alarms")
            result["sse_clients"] = asyncio.run(follow_streams([f"{base}/api/v1/events" for base in bases],
                                                               args.sse_clients, args.sse_alarms, first.raise_alarm,
                                                               gap_s=1.0, headers=first.headers))
    lists, streams = result["lists"], result["sse_clients"]
    result.update(requests_per_s=lists["requests_per_s"], p99_ms=lists["p99_ms"],
                  event_p99_ms=streams["event_p99_ms"])
    return result


def _progress(text: str) -> None:
    print(f"bench api: {text}", file=sys.stderr, flush=True)  # noqa: T201 - progress on stderr


# What the screens ask for: the operator's live alarms and a site's history; the dispatcher's board,
# a technician's orders, overdue work and a site's closed orders. Page size 50 throughout.
def _site_of(rng: random.Random) -> str:
    return _site(rng.randrange(SITES))


LIST_QUERIES: list[Query] = [
    lambda _rng: ("alarms_active", "/api/v1/alarms?active_only=true&limit=50"),
    lambda _rng: ("alarms_unacknowledged", "/api/v1/alarms?state=unacknowledged&limit=50"),
    lambda rng: ("alarms_site", f"/api/v1/alarms?site={_site_of(rng)}&limit=50"),
    lambda _rng: ("alarms_all", "/api/v1/alarms?limit=50"),
    lambda _rng: ("orders_open", "/api/v1/workorders?open_only=true&limit=50"),
    lambda rng: ("orders_site", f"/api/v1/workorders?site={_site_of(rng)}&limit=50"),
    lambda rng: ("orders_site_closed", f"/api/v1/workorders?site={_site_of(rng)}&status=closed&limit=50"),
    lambda rng: ("orders_technician",
                 f"/api/v1/workorders?assignee=tech-{rng.randrange(TECHNICIANS):02d}-1&open_only=true&limit=50"),
    lambda _rng: ("orders_overdue", "/api/v1/workorders?overdue=true&limit=50"),
    lambda rng: ("orders_emergency", f"/api/v1/workorders?site={_site_of(rng)}&priority=emergency&limit=50"),
]


@contextmanager
def _records(database: str, url: str | None) -> Iterator[str]:
    if database == "postgresql":
        with _database(url) as postgres_url:
            yield postgres_url
        return
    with tempfile.TemporaryDirectory() as scratch:
        yield url or f"sqlite:///{Path(scratch) / 'records.db'}"


class _Server:
    def __init__(self, process: subprocess.Popen[str], base: str, token: str) -> None:
        self.process, self.base = process, base
        self.headers = {"Authorization": f"Bearer {token}"}  # a viewer's personal API token

    def raise_alarm(self) -> tuple[int, float]:
        """Have the server raise an alarm; its id and when the alarm.raised event was published."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write("raise\n")
        self.process.stdin.flush()
        _, alarm_id, at = self.process.stdout.readline().split()
        return int(alarm_id), float(at)


@contextmanager
def _servers(url: str, count: int) -> Iterator[list[_Server]]:
    """``count`` API processes on the database (more than one: on the shared event stream); the first
    also raises the alarms, so a stream on any other replica hears them from another process."""
    with ExitStack() as stack:
        yield [stack.enter_context(_server(url, shared=count > 1)) for _ in range(count)]


@contextmanager
def _server(url: str, shared: bool) -> Iterator[_Server]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "facmon.bench.api_server", url, str(port), *(["shared"] if shared else [])]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        _, token = process.stdout.readline().split()  # the server's first line: the bench user's token
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)  # any answer: the server is up
                break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's API server did not start")
            time.sleep(0.2)
        yield _Server(process, base, token)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
