"""The API benchmark's clients: closed-loop list readers, and event-stream followers timing an alarm.

aiohttp rather than httpx: on two cores the load generator shares the machine with the server under test,
and aiohttp spends about a third of httpx's CPU per request. A list answer may be a bare JSON array or a
page (``{items, total, next_cursor}``); a page's next cursor is followed now and then, as users do.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

Query = Callable[[random.Random], tuple[str, str]]  # -> (list name, path with query)


async def read_lists(bases: list[str], queries: list[Query], clients: int, duration_s: float,
                     seed: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """``clients`` connections each asking the next list as soon as the last answered, for ``duration_s``;
    client n asks ``bases[n % len(bases)]`` (replicas behind a load balancer)."""
    samples: dict[str, list[float]] = {}
    errors = 0
    deadline = time.perf_counter() + duration_s

    async def client(session: aiohttp.ClientSession, rng: random.Random, base: str) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            name, path = rng.choice(queries)(rng)
            while path:
                started = time.perf_counter()
                async with session.get(base + path) as response:
                    body = await response.read()
                samples.setdefault(name, []).append(time.perf_counter() - started)
                if response.status != 200:
                    errors += 1
                    break
                path = _next_page(path, orjson.loads(body), rng)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session, random.Random(seed + n), bases[n % len(bases)])
                               for n in range(clients)))
        elapsed = time.perf_counter() - started
    every = sorted(s for values in samples.values() for s in values)
    return {"clients": clients, "duration_s": round(elapsed, 1), "requests": len(every), "errors": errors,
            "requests_per_s": round(len(every) / elapsed), "p50_ms": percentile_ms(every, 50),
            "p99_ms": percentile_ms(every, 99),
            "by_list": {name: {"requests": len(values), "p99_ms": percentile_ms(sorted(values), 99)}
                        for name, values in sorted(samples.items())}}


def _next_page(path: str, body: Any, rng: random.Random) -> str:
    """The next page's path, for three answers in ten that have one (a user turning the page)."""
    cursor = body.get("next_cursor") if isinstance(body, dict) else None
    if cursor is None or rng.random() >= 0.3:
        return ""
    base = path.split("&cursor=")[0]
    return f"{base}&cursor={cursor}"


async def follow_streams(urls: list[str], clients: int, alarms: int, raise_alarm: Callable[[], tuple[int, float]],
                         gap_s: float, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Open ``clients`` event streams (client n on ``urls[n % len(urls)]``), raise ``alarms`` alarms ``gap_s``
    apart and time each one's ``alarm.raised`` from the event's publication to its arrival at every client."""
    arrivals: dict[int, list[float]] = {}
    ready = 0
    connected = asyncio.Event()

    async def client(session: aiohttp.ClientSession, url: str) -> None:
        nonlocal ready
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as response:
            name = ""
            async for raw in response.content:
                line = raw.rstrip(b"\r\n")
                if line == b": connected":
                    ready += 1
                    if ready == clients:
                        connected.set()
                elif line.startswith(b"event: "):
                    name = line[7:].decode()
                elif line.startswith(b"data: ") and name == "alarm.raised":
                    arrivals.setdefault(orjson.loads(line[6:])["id"], []).append(time.time())
                elif not line:
                    name = ""

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        tasks = [asyncio.create_task(client(session, urls[n % len(urls)])) for n in range(clients)]
        await asyncio.wait_for(connected.wait(), 120)
        raised: list[tuple[int, float]] = []
        for _ in range(alarms):
            raised.append(await asyncio.to_thread(raise_alarm))
            await asyncio.sleep(gap_s)
        await asyncio.sleep(2)  # stragglers
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(at - published for alarm_id, published in raised for at in arrivals.get(alarm_id, []))
    received = [len(arrivals.get(alarm_id, [])) for alarm_id, _ in raised]
    return {"clients": clients, "alarms": alarms, "deliveries": len(latencies),
            "missed": clients * alarms - len(latencies), "all_received_per_alarm": min(received) == clients,
            "event_p50_ms": percentile_ms(latencies, 50), "event_p99_ms": percentile_ms(latencies, 99),
            "event_max_ms": percentile_ms(latencies, 100)}


def percentile_ms(ordered_s: list[float], percent: float) -> float | None:
    if not ordered_s:
        return None
    index = min(len(ordered_s) - 1, max(0, math.ceil(percent / 100 * len(ordered_s)) - 1))
    return round(ordered_s[index] * 1000, 1)
