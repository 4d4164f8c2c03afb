"""`facmon bench workorders`: the service desk on PostgreSQL with two years of operations.

Loads about one million work orders of 200 sites over two years (with their events: one per milestone,
derived in SQL from the orders' milestone columns) into PostgreSQL, then measures:

- ``transitions_per_s``: concurrent clients (processes, each with its own connection pool, as API replicas
  would be) walking fresh orders around the whole loop through ``WorkOrderBook.transition``, each step one
  compare-and-set unit of work;
- ``list_p99_ms``: filtered, paginated order lists with their total, as the board asks for them;
- ``monthly_report_s``: the monthly figures of one site, and of all sites, for one month.

PostgreSQL is started here (Debian package, durable: fsync and synchronous commit on) unless
``--database-url`` names one.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST_DAY = datetime(2024, 12, 1, tzinfo=UTC)
KINDS = (  # (kind, source, priority choices, share)
    ("emergency", "alarm", ("emergency",), 0.05),
    ("corrective", "alarm", ("urgent", "normal"), 0.20),
    ("request", "request", ("urgent", "normal", "normal", "normal"), 0.40),
    ("preventive", "planned", ("planned",), 0.25),
    ("inspection", "inspection", ("normal",), 0.10),
)
ASSET_KINDS = ("elevator",) * 4 + ("pump",) * 3 + ("lighting",) * 10
CODES = {"elevator": ("door_operator", "drive_motor", "controller", "leveling"),
         "pump": ("bearing", "seal_leak", "impeller", "control"),
         "lighting": ("led_driver", "luminaire", "switching"), None: ("power_supply", "water_supply")}
MILESTONES = ("dispatched_at", "accepted_at", "on_site_at", "completed_at", "verified_at", "followed_up_at",
              "closed_at")
STATUS_AFTER = dict(zip(MILESTONES, ("dispatched", "accepted", "on_site", "completed", "verified", "followed_up",
                                     "closed"), strict=True))
# Each milestone follows the one before by a uniform draw in these minutes (emergencies take the first pair).
STEP_MINUTES = {"dispatched_at": ((1, 5), (5, 60)), "accepted_at": ((1, 5), (1, 30)),
                "on_site_at": ((5, 25), (20, 240)), "completed_at": ((30, 180), (30, 360)),
                "verified_at": ((60, 600), (60, 2880)), "followed_up_at": ((60, 2880), (60, 4320)),
                "closed_at": ((10, 600), (10, 1440))}
LOOP = ("dispatched", "accepted", "on_site", "in_progress", "completed", "verified", "followed_up", "closed")


def register(benchmarks: Any) -> None:
    bench = benchmarks.add_parser("workorders", help="service desk on PostgreSQL: load, transitions, lists, "
                                                     "monthly figures (one JSON object)")
    bench.add_argument("--orders", type=int, default=1_000_000, help="work orders to load (two years)")
    bench.add_argument("--sites", type=int, default=200)
    bench.add_argument("--days", type=int, default=730)
    bench.add_argument("--clients", type=int, default=2,
                       help="concurrent client processes for transitions (2 is the fastest on two cores)")
    bench.add_argument("--walks", type=int, default=400, help="orders each client walks around the loop")
    bench.add_argument("--list-queries", type=int, default=1000)
    bench.add_argument("--database-url", help="an empty PostgreSQL database (default: start one here)")
    bench.add_argument("--seed", type=int, default=1)
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(bench_workorders(args.orders, args.sites, args.days, args.clients, args.walks,  # noqa: T201
                                      args.list_queries, args.database_url, args.seed)))
    return 0


def bench_workorders(orders: int, sites: int, days: int, clients: int, walks: int, list_queries: int,
                     database_url: str | None = None, seed: int = 1) -> dict[str, Any]:
    with _database(database_url) as url:
        loaded = load_operations(url, orders, sites, days, seed)
        result: dict[str, Any] = {"benchmark": "workorders", "sites": sites, "days": days, **loaded}
        result.update(measure_transitions(url, clients, walks, sites))
        result.update(measure_lists(url, list_queries, sites, seed))
        result.update(measure_monthly_report(url, sites, days))
        result["postgresql"] = "durable (fsync, synchronous_commit on)" if database_url is None else "given"
        return result


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    from facmon.services import Postgres, discard_service, start_service

    server = start_service(lambda d: Postgres(d, durable=True), "postgres-bench")
    assert isinstance(server, Postgres)
    try:
        server.create_database("facmon_bench")
        yield server.url_for("facmon_bench")
    finally:
        discard_service(server)


# -- loading ----------------------------------------------------------------------------------------------

def load_operations(url: str, orders: int, sites: int, days: int, seed: int) -> dict[str, Any]:
    """Migrate, then COPY sites, assets and ``orders`` orders; events are derived in SQL from milestones."""
    import psycopg

    from storage.records import Database

    database = Database(url)
    database.upgrade()
    database.dispose()
    started = time.perf_counter()
    rng = random.Random(seed)
    end = FIRST_DAY + timedelta(days=days)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cursor:
            with cursor.copy("COPY sites (id, name, address) FROM STDIN") as copy:
                for site in range(sites):
                    copy.write_row((_site(site), f"Site {site}", f"{site} Main Street"))
            with cursor.copy("COPY assets (id, site_id, kind, name, report_interval_s, attributes) FROM STDIN") as copy:
                for site in range(sites):
                    for index, kind in enumerate(ASSET_KINDS):
                        copy.write_row((_asset(site, index), _site(site), kind, f"{kind} {index}", 60.0, "{}"))
            columns = ("kind", "priority", "status", "title", "description", "site_id", "asset_id", "opened_at",
                       "due_at", "assignee", "source", "recurrences", "version", "related_assets", "parts",
                       "failure_code", "cause", "remedy", "labour_hours", "completion_notes", "satisfaction",
                       "follow_up_comment", "restored_at", *MILESTONES)
            with cursor.copy(f"COPY work_orders ({', '.join(columns)}) FROM STDIN") as copy:
                for _ in range(orders):
                    copy.write_row(_order(rng, sites, end))
        conn.commit()
        copied = time.perf_counter() - started
        with conn.cursor() as cursor:
            cursor.execute(_EVENTS_SQL)
            cursor.execute("SELECT count(*) FROM work_order_events")
            events = cursor.fetchone()[0]  # type: ignore[index]
            cursor.execute("ANALYZE")
        conn.commit()
    return {"orders": orders, "events": events, "load_s": round(time.perf_counter() - started, 1),
            "copy_s": round(copied, 1)}


def _site(site: int) -> str:
    return f"site-{site:03d}"


def _asset(site: int, index: int) -> str:
    return f"{_site(site)}-a{index:02d}"


def _technician(site: int, rng: random.Random) -> str:
    return f"tech-{site // 4:02d}-{rng.randrange(5)}"  # five technicians cover every four sites


def _order(rng: random.Random, sites: int, end: datetime) -> tuple[Any, ...]:
    kind, source, priorities, _ = rng.choices(KINDS, weights=[k[3] for k in KINDS])[0]
    priority = rng.choice(priorities)
    site = rng.randrange(sites)
    index = rng.randrange(len(ASSET_KINDS) + 1)
    asset = None if index == len(ASSET_KINDS) else _asset(site, index)
    asset_kind = None if asset is None else ASSET_KINDS[index]
    opened = FIRST_DAY + (end - FIRST_DAY) * rng.random()
    due = opened + {"emergency": timedelta(minutes=30), "urgent": timedelta(hours=4), "normal": timedelta(days=2),
                    "planned": timedelta(days=14)}[priority]
    # Orders of the last week are still somewhere along the loop; older ones closed (3 % cancelled).
    reached = rng.randrange(len(MILESTONES) + 1) if end - opened < timedelta(days=7) else len(MILESTONES)
    cancelled = reached == len(MILESTONES) and rng.random() < 0.03
    times: list[datetime | None] = []
    at = opened
    for position, milestone in enumerate(MILESTONES):
        low, high = STEP_MINUTES[milestone][0 if priority == "emergency" else 1]
        at += timedelta(minutes=rng.uniform(low, high))
        times.append(at if position < reached and not cancelled else None)
    if cancelled:
        times[-1] = opened + timedelta(hours=rng.uniform(1, 48))
    status = "cancelled" if cancelled else ("requested" if reached == 0 else STATUS_AFTER[MILESTONES[reached - 1]])
    completed = times[3] is not None
    code = rng.choice(CODES[asset_kind]) if completed else None
    return (kind, priority, status, f"{kind} at {_site(site)}", "", _site(site), asset, opened, due,
            _technician(site, rng) if reached else None, source, 0, 1 + reached, "[]", "[]", code,
            "worn" if completed else None, "replaced" if completed else None,
            round(rng.uniform(0.5, 6), 1) if completed else None, "", rng.choice((3, 4, 4, 5, 5)) if times[5] else None,
            "", times[3], *times)


# One event per milestone reached, derived from the orders (cheaper than sending millions of rows).
_EVENTS_SQL = """
INSERT INTO work_order_events (work_order_id, at, actor, from_status, to_status, note, action, data)
SELECT id, opened_at, 'desk', NULL, 'requested', '', 'transition', '{}'::json FROM work_orders
UNION ALL SELECT id, dispatched_at, 'desk', 'requested', 'dispatched', '', 'transition', '{}'::json
    FROM work_orders WHERE dispatched_at IS NOT NULL
UNION ALL SELECT id, accepted_at, assignee, 'dispatched', 'accepted', '', 'transition', '{}'::json
    FROM work_orders WHERE accepted_at IS NOT NULL
UNION ALL SELECT id, on_site_at, assignee, 'accepted', 'on_site', '', 'transition', '{}'::json
    FROM work_orders WHERE on_site_at IS NOT NULL
UNION ALL SELECT id, completed_at, assignee, 'on_site', 'completed', '', 'transition', '{}'::json
    FROM work_orders WHERE completed_at IS NOT NULL
UNION ALL SELECT id, verified_at, 'requester', 'completed', 'verified', '', 'transition', '{}'::json
    FROM work_orders WHERE verified_at IS NOT NULL
UNION ALL SELECT id, followed_up_at, 'desk', 'verified', 'followed_up', '', 'transition', '{}'::json
    FROM work_orders WHERE followed_up_at IS NOT NULL
UNION ALL SELECT id, closed_at, 'desk', CASE status WHEN 'cancelled' THEN 'requested' ELSE 'followed_up' END,
    status, '', 'transition', '{}'::json FROM work_orders WHERE closed_at IS NOT NULL
"""


# -- transitions ------------------------------------------------------------------------------------------

def measure_transitions(url: str, clients: int, walks: int, sites: int) -> dict[str, Any]:
    """``clients`` processes each open ``walks`` fresh orders, then walk them around the whole loop
    concurrently (8 transitions per order); the rate counts transitions only."""
    context = multiprocessing.get_context("spawn")
    # A barrier reaches processes only as a Process argument (a Pool would have to pickle it).
    barrier = context.Barrier(clients + 1, timeout=600)  # a client that dies breaks the barrier, not the bench
    results = context.SimpleQueue()
    processes = [context.Process(target=_client, args=(url, client, walks, sites, barrier, results))
                 for client in range(clients)]
    for process in processes:
        process.start()
    barrier.wait()  # every client has opened its orders
    started = time.perf_counter()
    barrier.wait()  # ... and all are done walking
    elapsed = time.perf_counter() - started
    counts = [results.get() for _ in processes]
    for process in processes:
        process.join()
    transitions = sum(done for done, _ in counts)
    return {"transitions": transitions, "transition_clients": clients, "transitions_s": round(elapsed, 2),
            "transitions_per_s": round(transitions / elapsed), "transition_conflicts": sum(c for _, c in counts)}


def _client(url: str, client: int, walks: int, sites: int, barrier: Any, results: Any) -> None:
    from core.clock import WallClock
    from core.domain import WorkOrderKind, WorkOrderPriority, WorkOrderSource, WorkOrderStatus
    from core.errors import Conflict
    from core.events import EventBus
    from storage.records import Database
    from workorders.book import Step, WorkOrderBook

    database = Database(url)
    book = WorkOrderBook(database, EventBus(), WallClock())
    rng = random.Random(client)
    ids = []
    for _ in range(walks):
        site = rng.randrange(sites)
        # An elevator (the first assets of a site), so that the completion's failure code fits its kind.
        order, _ = book.open(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, "bench request", _site(site),
                             _asset(site, rng.randrange(ASSET_KINDS.count("elevator"))),
                             source=WorkOrderSource.REQUEST)
        ids.append((order.id, _technician(site, rng)))
    barrier.wait()
    done = conflicts = 0
    for order_id, technician in ids:
        for status in LOOP:
            step = Step(WorkOrderStatus(status), technician, assignee=technician, failure_code="door_operator",
                        cause="worn", remedy="replaced", labour_hours=1.0, satisfaction=5)
            try:
                book.transition(order_id, step)
                done += 1
            except Conflict:
                conflicts += 1
    barrier.wait()
    database.dispose()
    results.put((done, conflicts))


# -- lists ------------------------------------------------------------------------------------------------

def measure_lists(url: str, queries: int, sites: int, seed: int) -> dict[str, Any]:
    """The board's lists: a page of 50 with its total, under the filters the screens use."""
    from core.domain import WorkOrderPriority, WorkOrderStatus
    from storage.records import Database
    from storage.records.work_orders import WorkOrderFilter

    database = Database(url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    filters: list[Callable[[str], WorkOrderFilter]] = [
        lambda site: WorkOrderFilter(site_id=site, open_only=True),
        lambda site: WorkOrderFilter(site_id=site, status=WorkOrderStatus.CLOSED),
        lambda site: WorkOrderFilter(site_id=site, priority=WorkOrderPriority.EMERGENCY),
        lambda site: WorkOrderFilter(assignee=f"tech-{int(site[-3:]) // 4:02d}-1", open_only=True),
        lambda _site: WorkOrderFilter(overdue_at=now),
        lambda site: WorkOrderFilter(site_id=site),
    ]
    samples = []
    second_pages = 0
    for _ in range(queries):
        where = rng.choice(filters)(_site(rng.randrange(sites)))
        started = time.perf_counter_ns()
        _page, cursor = database.work_orders.page(where, 50)
        database.work_orders.total(where)
        if cursor is not None and rng.random() < 0.3:  # some users turn the page
            database.work_orders.page(where, 50, cursor)
            second_pages += 1
        samples.append(time.perf_counter_ns() - started)
    database.dispose()
    samples.sort()
    return {"list_queries": queries, "list_page_size": 50, "list_second_pages": second_pages,
            "list_p50_ms": _ms(samples, 50), "list_p99_ms": _ms(samples, 99)}


def _ms(ordered_ns: list[int], percent: float) -> float:
    index = min(len(ordered_ns) - 1, math.ceil(percent / 100 * len(ordered_ns)) - 1)
    return round(ordered_ns[index] / 1e6, 2)


# -- monthly figures -------------------------------------------------------------------------------------

def measure_monthly_report(url: str, sites: int, days: int) -> dict[str, Any]:
    """``workorders.figures.monthly_figures`` for the last full month loaded: one site, then every site."""
    from storage.records import Database
    from workorders.figures import monthly_figures
    from workorders.kpi import Month

    last = FIRST_DAY + timedelta(days=days) - timedelta(days=32)
    month = Month(last.year, last.month)
    database = Database(url)
    try:
        monthly_figures(database.engine, month, [_site(0)])  # warm the connection pool and the caches
        started = time.perf_counter()
        one = monthly_figures(database.engine, month, [_site(sites // 2)])
        one_s = time.perf_counter() - started
        started = time.perf_counter()
        every = monthly_figures(database.engine, month)
        all_s = time.perf_counter() - started
    finally:
        database.dispose()
    return {"report_month": f"{month.year}-{month.month:02d}", "monthly_report_s": {
        "one_site": round(one_s, 3), "all_sites": round(all_s, 2)},
        "report_rows": {"one_site": len(one), "all_sites": len(every)}}
