"""The rules service: the facade the runtime and the API call; it runs the engine over accepted readings and
hands each transition to the parts that record it.

The parts, one job each:
- ``rules.effects.AlarmEffects``: each alarm effect (raise, clear, re-raise, flags, suppression of dependents,
  work order, recurrence) as one unit of work fenced by the partition's lease; bus events after the commit.
- ``rules.alarm_orders.AlarmOrders``: the work order an alarm calls for.
- ``rules.health.CollectorHealth``: the collector's health and facmon's own alarms on this partition.
- ``rules.operators.AlarmDesk``: operators' commands (the API's).
- ``rules.checkpoints.RuleCheckpoints``: the partition's state saved under its name, epoch-fenced.

``fence`` is the partition's lease (``storage.records.leases.Lease``; None: not partitioned), settable at run
time: once another instance holds it, this one's writes are refused (counted as ``fenced``). With a
``partition`` other than ``all`` the service works on the sites registered with its engine
(``engine.register(owned assets, owned sites)``): the periodic work (shelves, out of service) touches only
their alarms, and the silence alarm is the partition's.
The engine is not thread-safe: every call that touches it takes one lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from core.clock import Clock
from core.domain import Alarm, Reading
from core.errors import ConfigError, Fenced, ServiceUnavailable
from core.events import Event, EventBus
from core.zones import UTC_ZONE
from rules.alarm_events import CHANGED, RAISED, alarm_json
from rules.alarm_orders import AlarmOrders
from rules.checkpoints import RuleCheckpoints
from rules.effects import CAUSE_SETTLE, AlarmEffects
from rules.engine import RuleEngine
from rules.health import (
    ALL,
    COLLECTOR_ASSET,
    COLLECTOR_RULE,
    COLLECTOR_SITE,
    DEFAULT_GRACE,
    DEFAULT_SILENCE,
    PORTFOLIO_ASSET,
    PORTFOLIO_RULE,
    CollectorHealth,
)
from rules.model import Rule
from rules.operators import AlarmDesk
from rules.recording import ACTOR, Recorder
from storage.records import Database
from storage.records.leases import Lease
from workorders.book import OPENED as ORDER_OPENED
from workorders.book import WorkOrderBook

__all__ = ["ACTOR", "CAUSE_SETTLE", "CHANGED", "COLLECTOR_ASSET", "COLLECTOR_RULE", "COLLECTOR_SITE",
           "PORTFOLIO_ASSET", "PORTFOLIO_RULE", "RAISED", "RulesService", "alarm_json"]

log = logging.getLogger(__name__)


class RulesService:
    """Called by the collector with each accepted batch; bus events, ticks and operators from other threads."""

    def __init__(self, rules: Iterable[Rule], db: Database, book: WorkOrderBook, bus: EventBus,
                 clock: Clock, source: Callable[[], list[Rule]] | None = None,
                 grace: timedelta = DEFAULT_GRACE, time_zone: tzinfo = UTC_ZONE,
                 silence: timedelta = DEFAULT_SILENCE, partition: str = ALL) -> None:
        self.rules = list(rules)
        self.engine = RuleEngine(self.rules, default_zone=time_zone)  # sites without a zone of their own
        self.partition = partition
        self._clock = clock
        self._source = source
        self._lock = threading.RLock()
        self._rec = Recorder(db, bus, clock)
        orders = AlarmOrders(self._rec, book, self.engine.values, self.engine.holding)
        self.effects = AlarmEffects(self._rec, orders, self.engine.values,
                                    lambda now, at: self.health.absence_cause(now, at))
        self.effects.use_rules(self.rules)
        self.health = CollectorHealth(self._rec, self.effects, grace, silence, partition, lambda: self.sites)
        self.desk = AlarmDesk(self._rec, self.effects)
        self._checkpoints = RuleCheckpoints(self._rec, partition)

    @property
    def fence(self) -> Lease | None:
        """The partition's lease every write of these rules is fenced by (None: unfenced)."""
        return self._rec.fence

    @fence.setter
    def fence(self, lease: Lease | None) -> None:
        self._rec.fence = lease

    @property
    def on_fenced(self) -> Callable[[str], object] | None:
        """Called (with the reason) when a write is refused because another instance holds the partition:
        the runtime can give the partition up at once instead of at its next lease renewal."""
        return self._rec.on_fenced

    @on_fenced.setter
    def on_fenced(self, action: Callable[[str], object] | None) -> None:
        self._rec.on_fenced = action

    @property
    def sites(self) -> frozenset[str] | None:
        """The sites this service evaluates: None (every site) for the partition ``all``, else those
        registered with the engine."""
        return None if self.partition == ALL else self.engine.sites

    # --- evaluation -------------------------------------------------------------------------------

    def process(self, readings: Sequence[Reading]) -> None:
        """Evaluate every reading; a failure on one reading is logged and counted, never raised."""
        with self._lock:
            for reading in readings:
                try:
                    for rule, fired_reading, transition in self.engine.evaluate(reading):
                        self.effects.apply(rule, fired_reading, transition)
                except Exception:
                    self._rec.counts["errors"] += 1
                    log.exception("rules failed on a reading of %s at %s", reading.asset_id, reading.at)
            if readings:
                self._fenced(self.health.heard, self._clock.now())

    def device_status(self, asset_id: str, status: str, at: datetime | None = None) -> None:
        """A device's MQTT status ("online"/"offline", its last will) for the offline rules."""
        with self._lock:
            for rule, reading, transition in self.engine.device_status(asset_id, status, at or self._clock.now()):
                self.effects.apply(rule, reading, transition)

    def tick(self, now: datetime | None = None) -> None:
        """Periodic work on the clock: expire shelves, refresh out-of-service flags, release settled causes
        and, unless the collector is unhealthy or in its grace period, judge the no-data rules."""
        with self._lock:
            self._fenced(self._tick, now or self._clock.now())

    def _tick(self, now: datetime) -> None:
        sites = self.sites
        self.effects.expire_shelves(now, sites)
        self.effects.refresh_out_of_service(now, sites=sites)
        self.health.settled(self.effects.release_settled_causes(now))
        if self.health.tick(now):
            return
        for rule, reading, transition in self.engine.advance_time(self._absence_watermark(now)):
            self.effects.apply(rule, reading, transition)

    def _fenced(self, action: Callable[[datetime], Any], now: datetime) -> None:
        """Run partition work; a lost lease is counted and logged (the runtime stops this partition)."""
        try:
            action(now)
        except Fenced as error:
            self._rec.refused(error)
            log.warning("rules of partition %s: %s", self.partition, error)

    def _absence_watermark(self, now: datetime) -> datetime:
        """The time up to which silence counts as absence: the clock, but never ahead of the stream.

        If the whole stream stalls (our outage, or a pipeline lagging behind the accelerated demo clock),
        no device is judged silent; a single silent device among reporting ones still is."""
        by_clock = now - self.engine.allowed_lateness
        by_stream = self.engine.stream_watermark
        return by_clock if by_stream is None else min(by_clock, by_stream)

    def on_event(self, event: Event) -> None:
        """Bus subscriber: "collector.status", "device.status" and work-order changes."""
        data = event.data
        if event.topic == "collector.status":
            self.collector_status(bool(data.get("connected", True)), bool(data.get("lagging", False)))
        elif event.topic == "device.status":
            self.device_status(str(data["asset_id"]), str(data["status"]))
        elif event.topic.startswith("workorder.") and event.topic != ORDER_OPENED:
            # A new order is requested: it occupies nothing yet. The work's scope: the order's asset, or a
            # site-level order's related assets.
            for asset_id in {data.get("asset_id"), *data.get("related_assets", ())} - {None}:
                self.refresh_out_of_service(asset_id=str(asset_id))

    # --- the collector's health -------------------------------------------------------------------

    def collector_status(self, connected: bool, lagging: bool, at: datetime | None = None) -> None:
        """Hold absence rules back while the collector is unhealthy; its own alarm says why."""
        with self._lock:
            self._fenced(lambda now: self.health.status(connected, lagging, now), at or self._clock.now())

    @property
    def holding_absence(self) -> bool:
        return self.health.holding(self._clock.now())

    # --- operators (the API's) ------------------------------------------------------------------------

    def acknowledge(self, alarm_id: int, actor: str, note: str = "") -> Alarm:
        return self.desk.acknowledge(alarm_id, actor, note)

    def comment(self, alarm_id: int, actor: str, note: str) -> None:
        self.desk.comment(alarm_id, actor, note)

    def shelve(self, alarm_id: int, until: datetime, reason: str, actor: str) -> Alarm:
        return self.desk.shelve(alarm_id, until, reason, actor)

    def unshelve(self, alarm_id: int, actor: str, note: str = "") -> Alarm:
        with self._lock:  # the owed order's text reads the engine
            return self.desk.unshelve(alarm_id, actor, note)

    def assign(self, alarm_id: int, assignee: str | None, actor: str) -> Alarm:
        return self.desk.assign(alarm_id, assignee, actor)

    def kpis(self, since: datetime, until: datetime) -> dict[str, Any]:
        return self.desk.kpis(since, until)

    def expire_shelves(self, now: datetime | None = None) -> list[Alarm]:
        """Unshelve every alarm (of this partition's sites) whose shelf ended (judged on the clock)."""
        with self._lock:
            return self.effects.expire_shelves(now or self._clock.now(), self.sites)

    def refresh_out_of_service(self, asset_id: str | None = None, now: datetime | None = None) -> None:
        """Set or lift the out-of-service flag of open alarms (of this partition's sites) after a maintenance
        window or a work order changed; not fenced (the API calls it too), each change its own unit."""
        with self._lock:
            self.effects.refresh_out_of_service(now or self._clock.now(), asset_id, self.sites, fenced=False)

    # --- rules, checkpoints, figures --------------------------------------------------------------------

    def reload(self, rules: Iterable[Rule] | None = None) -> dict[str, int]:
        """Replace the rules without a restart (from the configured source when ``rules`` is None);
        unchanged rules keep their timers. ConfigError for a bad rule file or no source."""
        if rules is None:
            if self._source is None:
                raise ConfigError("no rule source is configured for reloading")
            rules = self._source()
        new = list(rules)
        with self._lock:
            counts = self.engine.reload(new)
            self.rules = new
            self.effects.use_rules(new)
        return counts

    @property
    def behind(self) -> bool:
        """An effect could not be recorded (the records database was away): ``rewind`` before going on."""
        return self._rec.behind

    def rewind(self) -> None:
        """Go back to the last checkpoint, so that the readings after it (the spool reads them again) redo
        the effects that could not be recorded; ServiceUnavailable while the database is still away."""
        saved = self._checkpoints.load()
        if saved is None:
            raise ServiceUnavailable("no rules checkpoint to go back to yet")
        with self._lock:
            self.engine.reset()
            self._restore(saved)
            self._rec.behind = False
            self._rec.counts["rewinds"] += 1
            log.warning("rules of partition %s: back at the last checkpoint after an unrecorded effect",
                        self.partition)

    def checkpoint(self) -> None:
        """Save the partition's state (engine, chatter, pending releases, collector health) under its name;
        Fenced (raised, and counted) if another instance holds the partition now. Never while ``behind``:
        that state has effects the database lacks."""
        if self._rec.behind:
            raise ServiceUnavailable("an effect was not recorded: the rules go back to their last checkpoint")
        with self._lock:
            snapshot = {**self.engine.snapshot(), "alarms": self.effects.snapshot(),
                        "collector": self.health.snapshot()}
        try:
            self._checkpoints.save(snapshot, self._clock.now())
        except Fenced as error:
            self._rec.refused(error)
            raise

    def restore(self) -> bool:
        """Continue from the partition's saved checkpoint, if any (call before the first reading)."""
        saved = self._checkpoints.load()
        if saved is None:
            return False
        with self._lock:
            self._restore(saved)
        return True

    def _restore(self, saved: dict[str, Any]) -> None:
        self.engine.restore(saved)
        self.effects.restore(saved.get("alarms", {}))
        self.health.restore(saved.get("collector", {}), self._clock.now())

    def stats(self) -> dict[str, int]:
        return {"readings_evaluated": self.engine.evaluated,
                "readings_out_of_order": self.engine.out_of_order,
                "holding_absence": int(self.holding_absence), **self._rec.counts}
