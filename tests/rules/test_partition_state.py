"""The rules' state in the shared database (SQLite, then PostgreSQL): each alarm effect is one unit of work, a
stale instance (an old lease) can write neither an alarm nor a checkpoint, and a restored partition continues
its timers, chatter history and pending releases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.clock import ManualClock
from core.domain import Asset, AssetKind, Reading, Site
from core.errors import Fenced
from core.events import Event, EventBus
from rules.effects import CAUSE_SETTLE
from rules.pack import parse_rules
from rules.service import RulesService
from storage.records import Database
from storage.records.leases import Lease
from workorders.book import WorkOrderBook

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)
PARTITION = "p0-of-2"
RULES = parse_rules("""
rules:
  - id: vib_sustained
    applies_to: pump
    when: "vibration_mm_s > 7.1"
    for: 10m
    severity: high
    message: "sustained vibration {vibration_mm_s} mm/s"
    work_order: {kind: corrective, priority: urgent, title: "Check {asset}"}
  - id: vib_now
    applies_to: pump
    when: "vibration_mm_s > 20"
    severity: high
    message: "vibration {vibration_mm_s} now"
  - id: mains_lost
    scope: site
    applies_to: pump
    when: "not mains_ok"
    quorum: 0.5
    severity: critical
    message: "power cut at {site}"
  - id: pump_stopped
    applies_to: pump
    when: "not running"
    severity: high
    message: "{asset} stopped"
    suppressed_by: [mains_lost]
""")
PUMP = {"vibration_mm_s": 2.0, "running": True, "mains_ok": True}


def reading(minute: float, asset: str = "pump-0", site: str = "site-a", **metrics: Any) -> Reading:
    return Reading(site, AssetKind.PUMP, asset, T0 + timedelta(minutes=minute), {**PUMP, **metrics})


class Instance:
    """One facmon process's rules on the shared database: its own bus, clock and (maybe) lease."""

    def __init__(self, db: Database, lease: Lease | None = None, book: Any = None,
                 partition: str = PARTITION) -> None:
        self.db = db
        self.bus = EventBus()
        self.clock = ManualClock(T0)
        self.events: list[Event] = []
        self.bus.subscribe(self.events.append)
        book = book or WorkOrderBook(db, self.bus, self.clock)
        self.service = RulesService(RULES, db, book, self.bus, self.clock, partition=partition)
        self.service.fence = lease

    def feed(self, *readings: Reading) -> None:
        for one in readings:
            if one.at > self.clock.now():
                self.clock.advance(one.at - self.clock.now())
            self.service.process([one])

    def at(self, when: datetime) -> None:
        self.clock.advance(when - self.clock.now())


def take(db: Database, holder: str, at: datetime) -> Lease:
    lease = db.leases.acquire(PARTITION, holder, TTL, at, {"index": 0, "count": 2})
    assert lease is not None
    return lease


# --- one unit of work per effect ------------------------------------------------------------------------

class CrashAfterOpening:
    """The real book, crashing right after it wrote the work order (inside the alarm's unit of work)."""

    def __init__(self, book: WorkOrderBook) -> None:
        self._book = book

    def open(self, *args: Any, **kwargs: Any) -> Any:
        self._book.open(*args, **kwargs)
        raise RuntimeError("crash between the work order and the rest of the effect")


def test_a_crash_in_the_middle_of_a_raise_leaves_nothing_recorded_nor_announced(db: Database) -> None:
    probe = Instance(db)
    instance = Instance(db, book=CrashAfterOpening(WorkOrderBook(db, probe.bus, probe.clock)))
    instance.feed(*(reading(m, vibration_mm_s=9.0) for m in range(11)))
    assert instance.service.stats()["errors"] == 1
    assert (db.alarms.count(), db.work_orders.count()) == (0, 0)  # neither the alarm nor its order
    assert [e.topic for e in instance.events + probe.events if e.topic.startswith(("alarm.", "workorder."))] == []
    assert instance.service.stats()["alarms_raised"] == instance.service.stats()["work_orders_opened"] == 0


def test_a_raise_with_its_order_commits_together_and_is_announced_after(db: Database) -> None:
    instance = Instance(db)
    instance.feed(*(reading(m, vibration_mm_s=9.0) for m in range(11)))
    [alarm] = db.alarms.list()
    assert alarm.work_order_id is not None
    assert db.work_orders.get(alarm.work_order_id).alarm_id == alarm.id
    topics = [e.topic for e in instance.events if e.topic.startswith(("alarm.", "workorder."))]
    assert topics == ["alarm.raised", "workorder.opened", "alarm.changed"]


# --- fencing: a stale instance cannot write ---------------------------------------------------------------

def test_a_stale_instance_cannot_record_an_alarm_its_successor_can(db: Database) -> None:
    old = Instance(db, take(db, "old", T0))
    new = Instance(db, take(db, "new", T0 + timedelta(minutes=1)))  # the old lease expired: taken over
    reasons: list[str] = []
    old.service.on_fenced = reasons.append  # the runtime gives the partition up at the first refusal
    old.feed(*(reading(m, vibration_mm_s=25.0) for m in range(2)))
    assert db.alarms.count() == 0
    assert reasons
    assert "epoch 1 of old is over" in reasons[0]
    assert old.service.stats()["fenced"] >= 1
    assert old.service.stats()["alarms_raised"] == 0
    assert [e for e in old.events if e.topic.startswith("alarm.")] == []
    new.feed(*(reading(m, vibration_mm_s=25.0) for m in range(2)))
    assert [a.rule_id for a in db.alarms.list()] == ["vib_now"]


def test_a_stale_instance_cannot_overwrite_the_checkpoint(db: Database) -> None:
    old = Instance(db, take(db, "old", T0))
    old.feed(reading(0, vibration_mm_s=9.0))
    old.service.checkpoint()
    new = Instance(db, take(db, "new", T0 + timedelta(minutes=1)))
    assert new.service.restore()
    new.feed(reading(1, vibration_mm_s=9.0))
    new.service.checkpoint()
    old.feed(reading(5, vibration_mm_s=2.0))  # the stale one saw the condition end
    with pytest.raises(Fenced):
        old.service.checkpoint()
    assert db.checkpoints.epoch(PARTITION) == 2
    with pytest.raises(Fenced):  # even unfenced, an older epoch does not overwrite a newer one's save
        db.checkpoints.save(PARTITION, {"stale": True}, T0, epoch=1)
    restored = Instance(db)
    assert restored.service.restore()
    state = restored.service.engine.state("vib_sustained", "pump-0")
    assert state is not None
    assert state.pending_since == T0


# --- restore continues what was under way --------------------------------------------------------------

def test_a_half_elapsed_on_delay_completes_on_time_after_a_takeover_without_a_second_alarm(db: Database) -> None:
    old = Instance(db, take(db, "old", T0))
    old.feed(*(reading(m, vibration_mm_s=9.0) for m in range(6)))  # 5 of 10 minutes
    old.service.checkpoint()
    new = Instance(db, take(db, "new", T0 + timedelta(minutes=6)))
    assert new.service.restore()
    new.feed(*(reading(m, vibration_mm_s=9.0) for m in range(6, 11)))
    [alarm] = db.alarms.list()
    assert (alarm.rule_id, alarm.started_at) == ("vib_sustained", T0 + timedelta(minutes=10))
    new.service.checkpoint()
    again = Instance(db, take(db, "new", T0 + timedelta(minutes=11)))
    assert again.service.restore()
    again.feed(*(reading(m, vibration_mm_s=9.0) for m in range(11, 16)))
    assert db.alarms.count() == 1
    assert db.work_orders.count() == 1
    assert again.service.stats()["duplicate_raises"] == 0  # the restored engine knew it was active


def test_restore_continues_the_chatter_history(db: Database) -> None:
    first = Instance(db)
    seconds = [0, 10, 20]  # raise, clear, raise: three toggles within a minute is chattering
    first.feed(Reading("site-a", AssetKind.PUMP, "pump-0", T0, {**PUMP, "vibration_mm_s": 25.0}),
               Reading("site-a", AssetKind.PUMP, "pump-0", T0 + timedelta(seconds=seconds[1]), dict(PUMP)))
    first.service.checkpoint()
    second = Instance(db)
    assert second.service.restore()
    second.feed(Reading("site-a", AssetKind.PUMP, "pump-0", T0 + timedelta(seconds=seconds[2]),
                        {**PUMP, "vibration_mm_s": 25.0}))
    [alarm] = db.alarms.list()
    assert alarm.chattering
    assert alarm.occurrences == 2
    assert len(second.service.effects.toggles["vib_now", "pump-0"]) == 3


def test_restore_continues_a_pending_release_of_suppressed_alarms(db: Database) -> None:
    first = Instance(db)
    pumps = ("pump-0", "pump-1")
    first.feed(*(reading(0, p) for p in pumps))
    first.feed(*(reading(1, p, mains_ok=False, running=False) for p in pumps))  # power cut
    first.feed(reading(2, "pump-0", running=False), reading(2, "pump-1"))  # mains back; pump-0 stays stopped
    [power_cut] = [a for a in db.alarms.list() if a.rule_id == "mains_lost"]
    assert not power_cut.state.is_active
    stopped = {a.asset_id: a for a in db.alarms.list() if a.rule_id == "pump_stopped"}
    assert {a.suppressed_by for a in stopped.values()} == {power_cut.id}
    first.service.checkpoint()

    second = Instance(db)
    assert second.service.restore()
    second.at(T0 + timedelta(minutes=2) + CAUSE_SETTLE)
    second.service.tick()
    after = {a.asset_id: a for a in db.alarms.list() if a.rule_id == "pump_stopped"}
    assert after["pump-0"].suppressed_by is None  # still stopped: shown now the cause is over
    assert after["pump-1"].suppressed_by == power_cut.id  # returned to normal with the cause: stays under it
    assert second.service.effects.released_causes == {}


# --- a partition works on its own sites -----------------------------------------------------------------

def test_a_partition_ticks_and_falls_silent_over_its_own_sites_only(db: Database) -> None:
    for site in ("site-a", "site-b"):
        db.assets.upsert_site(Site(site, site))
    own = Instance(db)
    own.service.engine.register([Asset("pump-0", "site-a", AssetKind.PUMP, "pump-0")], [Site("site-a", "site-a")])
    assert own.service.sites == {"site-a"}
    other = Instance(db, partition="all")
    other.feed(reading(0, "pump-9", site="site-b", vibration_mm_s=25.0))
    own.feed(reading(0, vibration_mm_s=25.0))
    for alarm in db.alarms.list():
        own.service.shelve(alarm.id, T0 + timedelta(minutes=10), "noise", "op")
    own.at(T0 + timedelta(minutes=11))
    own.service.collector_status(True, False)
    own.service.tick()
    shelved = {a.site_id: a.shelved_until for a in db.alarms.list() if a.rule_id == "vib_now"}
    assert shelved == {"site-a": None, "site-b": T0 + timedelta(minutes=10)}  # the other partition's stays
    own.at(T0 + timedelta(minutes=30))
    own.service.tick()
    [silent] = [a for a in db.alarms.list() if a.rule_id == "portfolio_silent"]
    assert (silent.asset_id, silent.site_id) == (f"portfolio/{PARTITION}", "facmon")
    assert f"1 sites of partition {PARTITION}" in silent.message


def test_an_outage_alarm_open_at_the_checkpoint_is_cleared_by_the_successor(db: Database) -> None:
    first = Instance(db)
    first.service.collector_status(True, False)
    first.service.collector_status(False, False)  # the broker is lost: the collector's own alarm
    [outage] = db.alarms.list()
    assert outage.asset_id == f"collector/{PARTITION}"
    first.service.checkpoint()
    second = Instance(db)
    assert second.service.restore()
    second.service.collector_status(True, False)  # the successor's collector is connected from the start
    [after] = db.alarms.list()
    assert after.id == outage.id
    assert not after.state.is_active  # a fresh gate would see no change: the alarm would stay open for good
    assert second.service.holding_absence  # absence rules wait for the grace period, as after any outage


def test_a_site_moved_away_is_forgotten_with_its_timers(db: Database) -> None:
    instance = Instance(db)
    engine = instance.service.engine
    engine.register([Asset("pump-0", "site-a", AssetKind.PUMP, "pump-0"),
                     Asset("pump-9", "site-b", AssetKind.PUMP, "pump-9")])
    instance.feed(reading(0, vibration_mm_s=9.0), reading(0, "pump-9", site="site-b", vibration_mm_s=9.0))
    engine.retain({"site-a"})
    assert instance.service.sites == {"site-a"}
    assert engine.state("vib_sustained", "pump-9") is None
    assert engine.state("vib_sustained", "pump-0") is not None
    assert "pump-9" not in engine.snapshot()["assets"]
