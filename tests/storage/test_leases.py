"""Partition leases and the fenced unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain import Severity
from core.errors import Fenced

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)
CLAIM = {"sites": [], "index": 0, "count": 2}


def test_a_held_lease_is_refused_to_another_until_it_expires(db: Any) -> None:
    first = db.leases.acquire("p0-of-2", "a", TTL, T0, CLAIM)
    assert first is not None
    assert first.epoch == 1
    assert db.leases.acquire("p0-of-2", "b", TTL, T0 + timedelta(seconds=14), CLAIM) is None
    again = db.leases.acquire("p0-of-2", "a", TTL, T0 + timedelta(seconds=5), CLAIM)
    assert again is not None
    assert again.epoch == 1
    taken = db.leases.acquire("p0-of-2", "b", TTL, T0 + timedelta(seconds=21), CLAIM)
    assert taken is not None
    assert (taken.holder, taken.epoch) == ("b", 2)
    assert [lease.holder for lease in db.leases.live(T0 + timedelta(seconds=22))] == ["b"]


def test_the_old_holder_cannot_renew_nor_write_after_a_takeover(db: Any) -> None:
    old = db.leases.acquire("p1", "old", TTL, T0, CLAIM)
    new = db.leases.acquire("p1", "new", TTL, T0 + timedelta(minutes=1), CLAIM)
    assert old is not None
    assert new is not None
    with pytest.raises(Fenced):
        db.leases.renew(old, TTL, T0 + timedelta(minutes=1, seconds=1))
    with pytest.raises(Fenced), db.unit_of_work(fence=old):
        db.alarms.raise_alarm("r", "a1", "s1", Severity.HIGH, "stale", T0)
    assert db.alarms.count() == 0  # the stale holder's write was rolled back
    with db.unit_of_work(fence=new):
        db.alarms.raise_alarm("r", "a1", "s1", Severity.HIGH, "current", T0)
    assert db.alarms.count() == 1


def test_a_unit_of_work_commits_all_or_nothing_and_announces_only_after_commit(db: Any) -> None:
    announced: list[str] = []

    def crash_half_way() -> None:
        with db.unit_of_work() as work:
            alarm, _ = db.alarms.raise_alarm("r", "a1", "s1", Severity.HIGH, "one", T0)
            work.after_commit(lambda: announced.append("raised"))
            db.alarms.comment(alarm.id, T0, "rules", "half way")
            raise RuntimeError("crash between two writes")

    with pytest.raises(RuntimeError):
        crash_half_way()
    assert db.alarms.count() == 0
    assert announced == []
    with db.unit_of_work() as work:
        db.alarms.raise_alarm("r", "a1", "s1", Severity.HIGH, "one", T0)
        work.after_commit(lambda: announced.append("raised"))
        assert announced == []
    assert db.alarms.count() == 1
    assert announced == ["raised"]
