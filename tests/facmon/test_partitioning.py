"""Partition leases as processes use them (standby, takeover, loss) and the coverage alarm, on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from core.domain import Site
from core.partitions import Ownership, site_partition
from facmon.partitioning import COVERAGE_RULE, CoverageWatch, PartitionLease

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_standby_takes_the_partition_once_the_holder_stops_renewing(db: Any) -> None:
    clock = Clock()
    active = PartitionLease(db, "p0-of-2", Ownership(index=0, count=2), 1.5, holder="active", now=clock)
    standby = PartitionLease(db, "p0-of-2", Ownership(index=0, count=2), 1.5, holder="standby", now=clock)
    assert active.acquire(threading.Event()) is not None
    stopped = threading.Event()
    stopped.set()
    assert standby.acquire(stopped) is None  # held: a stopped standby gives up waiting
    clock.now += timedelta(seconds=2)  # the active was SIGKILLed: no renewal
    taken = standby.acquire(threading.Event())
    assert taken is not None
    assert taken.epoch == 2
    lost: list[str] = []
    active.start_renewing(lost.append)  # the old holder wakes up and tries to renew
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while not lost and datetime.now(UTC) < deadline:
            threading.Event().wait(0.1)
    finally:
        active.release()
    assert lost
    assert "taken over" in lost[0]
    assert [lease.holder for lease in db.leases.live(clock.now)] == ["standby"]


def test_a_site_left_unowned_raises_one_coverage_alarm_which_clears_when_covered(db: Any) -> None:
    clock = Clock()
    sites = [f"s{n}" for n in range(12)]
    for site in sites:
        db.assets.upsert_site(Site(site, site))
    published: list[str] = []
    watch = CoverageWatch(db, timedelta(seconds=15), lambda kind, _alarm: published.append(kind), now=clock)
    assert watch.check() is None  # no partition leases: one process owns everything
    db.leases.acquire("p0-of-2", "a", timedelta(minutes=10), clock.now, Ownership(index=0, count=2).as_json())
    found = watch.check()
    assert found is not None
    assert set(found.unowned) == {s for s in sites if site_partition(s, 2) == 1}
    assert db.alarms.find_open(COVERAGE_RULE, "partitions") is None  # within the grace (a takeover)
    clock.now += timedelta(seconds=20)
    watch.check()
    watch.check()
    alarm = db.alarms.find_open(COVERAGE_RULE, "partitions")
    assert alarm is not None
    assert alarm.state.is_active
    assert "owned by no partition" in alarm.message
    assert db.alarms.count() == 1
    db.leases.acquire("p1-of-2", "b", timedelta(minutes=10), clock.now, Ownership(index=1, count=2).as_json())
    assert watch.check() is not None
    cleared = db.alarms.get(alarm.id)
    assert not cleared.state.is_active
    assert published == ["raised", "changed"]
