"""The rules service: runs the engine over accepted readings and turns transitions into alarms and work orders.

Effects are idempotent so a replay does no harm: an alarm episode is keyed by (rule, asset, start time)
in the database, a raise on an episode that is already active is counted and dropped, and the work
order of an alarm is unique per alarm (a partial unique index in the database).

Every RAISE passes the muting stages of ``rules.suppression`` (out of service, suppression by cause,
shelving, dedup): a muted alarm is recorded with its flag but opens no work order, until its mute ends
while it is still active (shelf expired, window over, work done, cause released): it gets its order then.
A new episode of a fault whose earlier episode's order is still open attaches to that order (a
recurrence, counted on the order) instead of opening a second one; what the order says is
``rules.orders``. The engine's state is checkpointed in the database (``checkpoint``/``restore``) so a
restart continues half-elapsed timers.
The engine is not thread-safe: every call that touches it takes one lock.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from core.clock import Clock
from core.domain import Alarm, Reading, Severity, WorkOrder, WorkOrderStatus
from core.errors import ConfigError
from core.events import Event, EventBus
from core.zones import UTC_ZONE
from rules import lifecycle
from rules.engine import RuleEngine, Transition, TransitionKind
from rules.kpi import CHATTER_WINDOW, Annunciation, is_chattering, performance
from rules.model import Rule
from rules.orders import alarm_order
from rules.own_alarms import OwnAlarm, PortfolioSilence
from rules.suppression import (
    Candidate,
    CollectorGate,
    Context,
    Key,
    Verdict,
    busy_assets,
    mute,
    out_of_service,
    owes_work_order,
)
from storage.records import Database
from storage.records.leases import Lease
from storage.records.work_orders import WorkOrderFilter
from workorders.book import CHANGED as ORDER_CHANGED
from workorders.book import OPENED as ORDER_OPENED
from workorders.book import WorkOrderBook, work_order_json

log = logging.getLogger(__name__)

RAISED = "alarm.raised"
CHANGED = "alarm.changed"
ACTOR = "rules"
CHECKPOINT = "rules"
# The collector's own alarm (no rule file defines it): "site" facmon, "asset" collector.
COLLECTOR_RULE = "collector_degraded"
COLLECTOR_ASSET = "collector"
COLLECTOR_SITE = "facmon"
# The whole portfolio silent while the collector is connected (also facmon's own: site facmon).
PORTFOLIO_RULE = "portfolio_silent"
PORTFOLIO_ASSET = "portfolio"
DEFAULT_SILENCE = timedelta(minutes=5)
DEFAULT_GRACE = timedelta(minutes=5)
# After a cause (e.g. a site power cut) clears, how long its dependents get to return to normal with it.
CAUSE_SETTLE = timedelta(minutes=5)
# Orders whose technicians occupy their assets (the scope that puts alarms out of service).
UNDER_WAY = tuple(status for status in WorkOrderStatus if status.occupies_asset)
# An asset has a handful of orders under way at most; this bounds the read of one asset's.
ASSET_ORDERS_UNDER_WAY = 50


def alarm_json(alarm: Alarm) -> dict[str, Any]:
    """The alarm as a JSON-safe dict: ISO-8601 times, enum values as strings."""
    def iso(value: Any) -> str | None:
        return None if value is None else str(value.isoformat())

    return {
        "id": alarm.id,
        "rule_id": alarm.rule_id,
        "asset_id": alarm.asset_id,
        "site_id": alarm.site_id,
        "severity": alarm.severity.value,
        "state": alarm.state.value,
        "active": alarm.state.is_active,
        "message": alarm.message,
        "started_at": iso(alarm.started_at),
        "cleared_at": iso(alarm.cleared_at),
        "acknowledged_at": iso(alarm.acknowledged_at),
        "acknowledged_by": alarm.acknowledged_by,
        "occurrences": alarm.occurrences,
        "work_order_id": alarm.work_order_id,
        "shelved_until": iso(alarm.shelved_until),
        "shelve_reason": alarm.shelve_reason,
        "suppressed_by": alarm.suppressed_by,
        "out_of_service": alarm.out_of_service,
        "chattering": alarm.chattering,
        "assignee": alarm.assignee,
    }


class RulesService:
    """Called by the collector with each accepted batch; bus events, ticks and operators from other threads."""

    def __init__(self, rules: Iterable[Rule], db: Database, book: WorkOrderBook, bus: EventBus,
                 clock: Clock, source: Callable[[], list[Rule]] | None = None,
                 grace: timedelta = DEFAULT_GRACE, time_zone: tzinfo = UTC_ZONE,
                 silence: timedelta = DEFAULT_SILENCE) -> None:
        self.rules = list(rules)
        self._by_id = {rule.id: rule for rule in self.rules}
        self.engine = RuleEngine(self.rules, default_zone=time_zone)  # sites without a zone of their own
        self._db = db
        self._book = book
        self._bus = bus
        self._clock = clock
        self._source = source
        self._grace = grace
        self._lock = threading.RLock()
        self.fence: Lease | None = None  # the partition's lease: writes under an older epoch are refused
        self._gate = CollectorGate()
        self._collector_alarm: int | None = None
        self._collector = OwnAlarm(db, COLLECTOR_RULE, COLLECTOR_ASSET, COLLECTOR_SITE, Severity.HIGH, self._own)
        self._portfolio = OwnAlarm(db, PORTFOLIO_RULE, PORTFOLIO_ASSET, COLLECTOR_SITE, Severity.CRITICAL, self._own)
        self._silence = PortfolioSilence(silence)
        self._silent_alarm: int | None = None  # the portfolio alarm while it holds absence alarms under it
        self._held = False
        self._toggles: dict[Key, deque[datetime]] = {}
        # Causes that cleared, by alarm id: their still-active dependents are shown again once the
        # site has had time to report (CAUSE_SETTLE), so alarms clearing with the cause are not released.
        self._released_causes: dict[int, datetime] = {}
        self._causes = self._cause_map(self.rules)
        self._counts = dict.fromkeys(("alarms_raised", "alarms_reraised", "alarms_cleared",
                                      "duplicate_raises", "stale_clears", "work_orders_opened",
                                      "work_orders_after_mute", "work_order_recurrences",
                                      "alarms_acknowledged", "alarms_muted", "alarms_chattering",
                                      "shelves_expired", "held_ticks", "collector_alarms", "portfolio_silences",
                                      "checkpoints", "errors"), 0)

    # --- evaluation -------------------------------------------------------------------------------

    def process(self, readings: Sequence[Reading]) -> None:
        """Evaluate every reading; a failure on one reading is logged and counted, never raised."""
        with self._lock:
            for reading in readings:
                try:
                    for rule, fired_reading, transition in self.engine.evaluate(reading):
                        self._apply(rule, fired_reading, transition)
                except Exception:
                    self._counts["errors"] += 1
                    log.exception("rules failed on a reading of %s at %s", reading.asset_id, reading.at)
            if readings:
                self._heard(self._clock.now())

    def device_status(self, asset_id: str, status: str, at: datetime | None = None) -> None:
        """A device's MQTT status ("online"/"offline", its last will) for the offline rules."""
        with self._lock:
            for rule, reading, transition in self.engine.device_status(asset_id, status, at or self._clock.now()):
                self._apply(rule, reading, transition)

    def tick(self, now: datetime | None = None) -> None:
        """Periodic work on the clock: expire shelves, refresh out-of-service flags and, unless the
        collector is unhealthy or in its grace period, judge the no-data rules at the watermark."""
        now = now or self._clock.now()
        with self._lock:
            self.expire_shelves(now)
            self.refresh_out_of_service(now=now)
            self._release_settled_causes(now)
            if self._gate.overdue(now, self._grace) and self._collector_alarm is None:
                self._raise_collector_alarm(now)
            self._judge_silence(now)
            if self._gate.holding(now, self._grace):
                self._counts["held_ticks"] += 1
                self._held = True
                return
            if self._held and self._collector_alarm is not None:
                # Grace over: absence alarms recorded while holding and still open are shown again.
                self._release_dependents(self._db.alarms.get(self._collector_alarm), now)
            self._held = False
            for rule, reading, transition in self.engine.advance_time(self._absence_watermark(now)):
                self._apply(rule, reading, transition)

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
        at = at or self._clock.now()
        with self._lock:
            before, self._gate = self._gate, self._gate.update(connected, lagging, at)
            if self._gate is before:
                return
            if not self._gate.healthy:
                if self._gate.seen_healthy:  # starting up is no outage: see ``tick`` for a slow start
                    self._raise_collector_alarm(at)
            elif not before.healthy:
                self._clear_collector_alarm(at)

    @property
    def holding_absence(self) -> bool:
        return self._gate.holding(self._clock.now(), self._grace)

    def _raise_collector_alarm(self, at: datetime) -> None:
        message = (f"The collector {self._gate.reason} since {at.isoformat()}: device-offline and no-data "
                   f"rules are held back")
        self._collector_alarm = self._collector.raise_alarm(at, message).id
        self._counts["collector_alarms"] += 1

    def _clear_collector_alarm(self, at: datetime) -> None:
        self._collector.clear(at, f"collector healthy again; absence rules resume after {self._grace}")

    def _own(self, kind: str, alarm: Alarm) -> None:
        self._bus.publish(RAISED if kind == "raised" else CHANGED, alarm_json(alarm))

    # --- the whole portfolio silent -------------------------------------------------------------------

    def _heard(self, now: datetime) -> None:
        """Readings arrived: the portfolio is not silent (an open silence alarm clears)."""
        self._silence = self._silence.heard(now)
        if self._silence_holds and self._portfolio.clear(now, "readings arrive again") is not None:
            # Absence alarms raised meanwhile stay under it while devices report back (CAUSE_SETTLE);
            # those still active then are shown (``_release_settled_causes``).
            self._released_causes[self._silent_alarm or 0] = now

    @property
    def _silence_holds(self) -> bool:
        """The portfolio alarm is raised and not over (not settling after its clear)."""
        return self._silent_alarm is not None and self._silent_alarm not in self._released_causes

    def _judge_silence(self, now: datetime) -> None:
        """ONE alarm when no site has reported for ``silence`` while the collector is healthy (the broker's
        bridge, the network or the gateways lost every device at once); absence alarms go under it."""
        if self._silence_holds or self._gate.holding(now, self._grace) or \
                not self._silence.silent(now, self._gate.healthy_since):
            return
        assert self._silence.last_heard is not None
        sites = len(self._db.assets.sites())
        message = (f"No reading from any of the {sites} sites since {self._silence.last_heard.isoformat()} while "
                   f"the collector is connected: the broker's side (bridge, network, gateways) lost every device")
        self._released_causes.pop(self._silent_alarm or 0, None)
        self._silent_alarm = self._portfolio.raise_alarm(now, message).id
        self._counts["portfolio_silences"] += 1

    def _absence_cause(self, now: datetime, at: datetime) -> int | None:
        """The alarm that explains absence alarms now: the collector's while it holds, else the portfolio
        silence while it lasts and while devices report back after it."""
        if self._gate.holding(now, self._grace) or self._gate.holding(at, self._grace):
            return self._collector_alarm
        return self._silent_alarm

    # --- operators ----------------------------------------------------------------------------------

    def acknowledge(self, alarm_id: int, actor: str, note: str = "") -> Alarm:
        """Acknowledge an alarm now (NotFound, or TransitionError if it needs no acknowledgement). One already
        acknowledged is left as it is: a retried or double-clicked acknowledgement is a no-op."""
        current = self._db.alarms.get(alarm_id)
        if lifecycle.is_acknowledged(current):
            return current
        to_state = lifecycle.on_acknowledge(current.state)
        alarm = self._db.alarms.set_state(alarm_id, to_state, self._clock.now(), actor, note)
        self._counts["alarms_acknowledged"] += 1
        self._bus.publish(CHANGED, alarm_json(alarm))
        return alarm

    def comment(self, alarm_id: int, actor: str, note: str) -> None:
        """Add an operator's note to the alarm's history (NotFound for an unknown alarm)."""
        self._db.alarms.comment(alarm_id, self._clock.now(), actor, note)

    def shelve(self, alarm_id: int, until: datetime, reason: str, actor: str) -> Alarm:
        """Shelve an alarm until ``until`` (TransitionError if NORMAL, past or longer than MAX_SHELF)."""
        now = self._clock.now()
        lifecycle.check_shelve(self._db.alarms.get(alarm_id), until, now)
        return self._publish(self._db.alarms.shelve(alarm_id, until, reason, now, actor))

    def unshelve(self, alarm_id: int, actor: str, note: str = "") -> Alarm:
        """Put a shelved alarm back; one not shelved is left as it is (a repeated unshelve is a no-op)."""
        current = self._db.alarms.get(alarm_id)
        if current.shelved_until is None:
            return current
        now = self._clock.now()
        with self._lock:
            alarm = self._publish(self._db.alarms.shelve(alarm_id, None, note or "by operator", now, actor))
            self._open_owed_orders([alarm], now)
        return alarm

    def assign(self, alarm_id: int, assignee: str | None, actor: str) -> Alarm:
        lifecycle.check_assign(self._db.alarms.get(alarm_id))
        return self._publish(self._db.alarms.assign(alarm_id, assignee, self._clock.now(), actor))

    def expire_shelves(self, now: datetime | None = None) -> list[Alarm]:
        """Unshelve every alarm whose shelf ended (judged on the clock)."""
        now = now or self._clock.now()
        with self._lock:
            expired = [self._db.alarms.shelve(alarm.id, None, "shelf expired", now, ACTOR)
                       for alarm in self._db.alarms.shelf_expired(now)]
            self._counts["shelves_expired"] += len(expired)
            for alarm in expired:
                self._publish(alarm)
            self._open_owed_orders(expired, now)
        return expired

    def refresh_out_of_service(self, asset_id: str | None = None, now: datetime | None = None) -> None:
        """Set or lift the out-of-service flag of open alarms (maintenance windows, work under way); an
        alarm back in service and still active gets the work order its muted raise did not open."""
        now = now or self._clock.now()
        with self._lock:
            alarms = self._db.alarms.open_of(asset_id=asset_id)
            if not alarms:
                return
            windows = self._db.maintenance.list(at=now)
            busy = self._busy(asset_id)
            lifted = []
            for alarm in alarms:
                rule = self._by_id.get(alarm.rule_id)
                reason = out_of_service(alarm.site_id, alarm.asset_id, now, windows, busy,
                                        rule is not None and rule.safety_critical)
                if reason != alarm.out_of_service:
                    changed = self._publish(self._db.alarms.set_flags(alarm.id, now, ACTOR, out_of_service=reason))
                    lifted += [changed] if not reason else []
            self._open_owed_orders(lifted, now)

    def _busy(self, asset_id: str | None) -> dict[str, int]:
        """Assets under work now (``busy_assets``): of one asset, or of all (counted first: no cap)."""
        where = WorkOrderFilter(statuses=UNDER_WAY, asset_id=asset_id)
        limit = ASSET_ORDERS_UNDER_WAY if asset_id is not None else max(1, self._db.work_orders.total(where))
        orders, _next = self._db.work_orders.page(where, limit=limit)
        return busy_assets(orders)

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
            self._by_id = {rule.id: rule for rule in new}
            self._causes = self._cause_map(new)
        return counts

    def checkpoint(self) -> None:
        """Save the engine's snapshot (timers, windows, active states) in the database."""
        with self._lock:
            snapshot = self.engine.snapshot()
        self._db.checkpoints.save(CHECKPOINT, snapshot, self._clock.now())
        self._counts["checkpoints"] += 1

    def restore(self) -> bool:
        """Continue from the saved checkpoint, if any (call before the first reading)."""
        saved = self._db.checkpoints.load(CHECKPOINT)
        if saved is None:
            return False
        with self._lock:
            self.engine.restore(saved[0])
        return True

    def kpis(self, since: datetime, until: datetime) -> dict[str, Any]:
        """The ISA-18.2 performance figures over [since, until) from the recorded alarm history."""
        rows = self._db.alarms.annunciations(since, until)
        history = [Annunciation(at, rule, asset, Severity(severity)) for at, rule, asset, severity in rows]
        return performance(history, since, until, self._db.alarms.count_chattering(since, until))

    def stats(self) -> dict[str, int]:
        return {"readings_evaluated": self.engine.evaluated,
                "readings_out_of_order": self.engine.out_of_order,
                "holding_absence": int(self.holding_absence), **self._counts}

    # --- effects of one transition --------------------------------------------------------------

    @staticmethod
    def _cause_map(rules: Iterable[Rule]) -> dict[str, frozenset[str]]:
        """Cause rule id -> the rules it suppresses."""
        found: dict[str, set[str]] = {}
        for rule in rules:
            for cause in rule.suppressed_by:
                found.setdefault(cause, set()).add(rule.id)
        return {cause: frozenset(ids) for cause, ids in found.items()}

    def _publish(self, alarm: Alarm, topic: str = CHANGED) -> Alarm:
        self._bus.publish(topic, alarm_json(alarm))
        return alarm

    def _apply(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        try:
            if transition.kind is TransitionKind.RAISE:
                self._raise(rule, reading, transition)
            else:
                self._clear(rule, reading, transition)
        except Exception:
            self._counts["errors"] += 1
            log.exception("could not record %s of %s on %s", transition.kind, rule.id, reading.asset_id)

    def _context(self, candidate: Candidate, open_alarm: Alarm | None) -> Context:
        at, now = candidate.at, self._clock.now()
        causes: dict[Key, int] = {}
        for cause in candidate.suppressed_by:
            alarm = self._db.alarms.find_open(cause, candidate.site_id)
            if alarm is not None and alarm.state.is_active:
                causes[cause, candidate.site_id] = alarm.id
        busy = self._busy(candidate.asset_id)
        shelved = {} if open_alarm is None or not lifecycle.is_shelved(open_alarm, now) else {
            candidate.key: open_alarm.shelved_until}
        return Context(windows=self._db.maintenance.list(site_id=candidate.site_id, at=at), busy=busy,
                       causes=causes, collector_alarm=self._absence_cause(now, at),
                       shelved={k: v for k, v in shelved.items() if v is not None},
                       active=frozenset({candidate.key} if open_alarm and open_alarm.state.is_active else ()))

    def _raise(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        message = rule.render_message(reading.site_id, reading.asset_id, self.engine.values(reading.asset_id))
        if transition.assets:
            message += " (assets: " + ", ".join(transition.assets) + ")"
        candidate = Candidate(rule.id, reading.site_id, reading.asset_id, transition.at, rule.suppressed_by,
                              rule.judges_absence, rule.safety_critical)
        alarm = self._db.alarms.find_open(rule.id, reading.asset_id)
        verdict = mute(candidate, self._context(candidate, alarm))
        if verdict.duplicate:
            self._counts["duplicate_raises"] += 1  # a replay, or a restart that lost the engine state
            return
        if alarm is not None:
            # Returned to normal but not acknowledged yet: the same episode happens again.
            self._db.alarms.add_occurrence(alarm.id, transition.at)
            alarm = self._db.alarms.set_state(alarm.id, lifecycle.on_raise(alarm.state), transition.at, ACTOR,
                                              message)
            self._counts["alarms_reraised"] += 1
        else:
            alarm, created = self._db.alarms.raise_alarm(rule.id, reading.asset_id, reading.site_id,
                                                         rule.severity, message, transition.at)
            if not created:
                self._counts["duplicate_raises"] += 1
                return
            self._counts["alarms_raised"] += 1
        alarm = self._flag(alarm, verdict, transition.at)
        self._toggle(alarm, transition.at)
        alarm = self._db.alarms.get(alarm.id)
        self._bus.publish(RAISED, alarm_json(alarm))
        self._suppress_dependents(rule, alarm, transition.at)
        if rule.work_order is not None and alarm.work_order_id is None and not verdict.muted:
            self._open_work_order(rule, alarm, transition.assets)

    def _flag(self, alarm: Alarm, verdict: Verdict, at: datetime) -> Alarm:
        """Record the verdict's flags (a re-raised episode may have carried other ones)."""
        if verdict.muted:
            self._counts["alarms_muted"] += 1
        if (alarm.out_of_service, alarm.suppressed_by) == (verdict.out_of_service, verdict.suppressed_by):
            return alarm
        return self._db.alarms.set_flags(alarm.id, at, ACTOR, out_of_service=verdict.out_of_service,
                                         suppressed_by=verdict.suppressed_by)

    def _suppress_dependents(self, rule: Rule, cause: Alarm, at: datetime) -> None:
        """A cause alarm that goes active suppresses the open alarms it explains on its site."""
        dependents = self._causes.get(rule.id)
        if not dependents:
            return
        for alarm in self._db.alarms.open_of(site_id=cause.site_id, rule_ids=dependents):
            if alarm.suppressed_by is None and alarm.id != cause.id:
                self._publish(self._db.alarms.set_flags(alarm.id, at, ACTOR, f"suppressed by alarm #{cause.id}",
                                                        suppressed_by=cause.id))

    def _release_settled_causes(self, now: datetime) -> None:
        for cause_id, cleared_at in list(self._released_causes.items()):
            if now - cleared_at >= CAUSE_SETTLE:
                del self._released_causes[cause_id]
                if cause_id == self._silent_alarm:
                    self._silent_alarm = None
                self._release_dependents(self._db.alarms.get(cause_id), now)

    def _release_dependents(self, cause: Alarm, at: datetime) -> None:
        """The cause is gone: what it suppressed and is still active is shown again. What returned to
        normal with the cause stays listed under it, so a power cut never leaves a flood to acknowledge."""
        released = [self._publish(self._db.alarms.set_flags(alarm.id, at, ACTOR, f"cause #{cause.id} is over",
                                                            suppressed_by=None))
                    for alarm in self._db.alarms.list(suppressed_by=cause.id, limit=10_000)
                    if alarm.state.is_active]
        self._open_owed_orders(released, at)

    def _toggle(self, alarm: Alarm, at: datetime) -> None:
        """Count a raise or clear; 3 toggles within a minute mark the episode chattering."""
        times = self._toggles.setdefault((alarm.rule_id, alarm.asset_id), deque(maxlen=16))
        times.append(at)
        while times and times[0] <= at - CHATTER_WINDOW:
            times.popleft()
        if not alarm.chattering and is_chattering(list(times), at):
            self._counts["alarms_chattering"] += 1
            log.warning("alarm %s (%s on %s) is chattering: %d toggles within %s", alarm.id, alarm.rule_id,
                        alarm.asset_id, len(times), CHATTER_WINDOW)
            self._publish(self._db.alarms.set_flags(alarm.id, at, ACTOR, "chattering", chattering=True))

    def _open_work_order(self, rule: Rule, alarm: Alarm, assets: Sequence[str]) -> None:
        """Open the order the rule calls for, or attach the alarm to the open order of an earlier
        episode of the same fault (one order per alarm episode either way: a partial unique index)."""
        action = rule.work_order
        assert action is not None
        earlier = self._db.work_orders.open_for_rule(rule.id, alarm.asset_id)
        if earlier is not None:
            self._attach_recurrence(earlier, alarm)
            return
        order = alarm_order(rule, alarm, assets, self.engine.values(alarm.asset_id))
        # The order is linked to the alarm in the transaction that creates it.
        work_order, created = self._book.open(action.kind, action.priority, order.title, alarm.site_id,
                                              order.asset_id, description=order.description, alarm_id=alarm.id,
                                              requester=None, related_assets=order.related_assets)
        if created:
            self._counts["work_orders_opened"] += 1
            self._publish(replace(alarm, work_order_id=work_order.id))

    def _attach_recurrence(self, order: WorkOrder, alarm: Alarm) -> None:
        """A new episode of the fault an open order is about: counted and noted there, no second order."""
        self._db.alarms.link_work_order(alarm.id, order.id)
        note = f"the fault recurred: alarm #{alarm.id} ({alarm.rule_id} on {alarm.asset_id}) since " \
               f"{alarm.started_at.isoformat()}"
        order = self._db.work_orders.add_recurrence(order.id, self._clock.now(), ACTOR, note,
                                                    data={"alarm_id": alarm.id})
        self._counts["work_order_recurrences"] += 1
        self._bus.publish(ORDER_CHANGED, work_order_json(order))
        self._publish(replace(alarm, work_order_id=order.id))

    def _open_owed_orders(self, alarms: Iterable[Alarm], at: datetime) -> None:
        """Alarms whose mute just ended: those still active get the order their muted raise did not open."""
        for alarm in alarms:
            rule = self._by_id.get(alarm.rule_id)
            if rule is None or rule.work_order is None or not owes_work_order(alarm, at):
                continue
            try:
                self._open_work_order(rule, alarm, self.engine.holding(rule.id, alarm.asset_id))
                self._counts["work_orders_after_mute"] += 1
            except Exception:
                self._counts["errors"] += 1
                log.exception("could not open the work order of alarm %s after its mute", alarm.id)

    def _clear(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        alarm = self._db.alarms.find_open(rule.id, reading.asset_id)
        if alarm is None or not alarm.state.is_active:
            self._counts["stale_clears"] += 1  # nothing active to clear (e.g. the raise was not recorded)
            return
        to_state = lifecycle.on_clear(alarm.state)
        note = "cleared: " + rule.render_message(reading.site_id, reading.asset_id,
                                                 self.engine.values(reading.asset_id))
        alarm = self._db.alarms.set_state(alarm.id, to_state, transition.at, ACTOR, note)
        self._counts["alarms_cleared"] += 1
        self._toggle(alarm, transition.at)
        self._bus.publish(CHANGED, alarm_json(self._db.alarms.get(alarm.id)))
        if rule.id in self._causes:
            self._released_causes[alarm.id] = transition.at

