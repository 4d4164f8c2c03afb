"""The effects of the engine's transitions on the records: each alarm effect is one unit of work.

A RAISE finds the open episode, runs the muting stages (``rules.suppression``), records the new episode or
the re-raise with its flags, the chatter flag, the suppression of the dependents it explains and the work
order it calls for (or the recurrence on an earlier episode's order), all in one transaction fenced by the
partition's lease; a CLEAR likewise. Bus events, counters and the in-memory chatter history and pending
releases change only once that transaction commits: a crash in the middle leaves nothing half recorded
and nothing announced. The in-memory state (``toggles``, ``released_causes``) is checkpointed
(``snapshot``/``restore``) with the engine's.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from core.domain import Alarm, Reading, WorkOrderStatus
from core.errors import Fenced
from rules import lifecycle
from rules.alarm_events import RAISED
from rules.alarm_orders import AlarmOrders
from rules.engine import Transition, TransitionKind
from rules.kpi import CHATTER_WINDOW, is_chattering
from rules.model import Rule
from rules.recording import ACTOR, Recorder
from rules.suppression import Candidate, Context, Key, Verdict, busy_assets, mute, out_of_service
from storage.records.work_orders import WorkOrderFilter

log = logging.getLogger(__name__)

# After a cause (e.g. a site power cut) clears, how long its dependents get to return to normal with it.
CAUSE_SETTLE = timedelta(minutes=5)
# Orders whose technicians occupy their assets (the scope that puts alarms out of service).
UNDER_WAY = tuple(status for status in WorkOrderStatus if status.occupies_asset)
# An asset has a handful of orders under way at most; this bounds the read of one asset's.
ASSET_ORDERS_UNDER_WAY = 50
TOGGLES_KEPT = 16

AbsenceCause = Callable[[datetime, datetime], int | None]  # (now, event time) -> the alarm explaining absence


def cause_map(rules: Iterable[Rule]) -> dict[str, frozenset[str]]:
    """Cause rule id -> the rules it suppresses."""
    found: dict[str, set[str]] = {}
    for rule in rules:
        for cause in rule.suppressed_by:
            found.setdefault(cause, set()).add(rule.id)
    return {cause: frozenset(ids) for cause, ids in found.items()}


class AlarmEffects:
    """Records transitions and flag changes; ``sites`` (None: all) bounds the periodic work to the partition's."""

    def __init__(self, recorder: Recorder, orders: AlarmOrders, message_values: Callable[[str], Any],
                 absence_cause: AbsenceCause) -> None:
        self._rec = recorder
        self._db = recorder.db
        self.orders = orders
        self._values = message_values
        self._absence_cause = absence_cause
        self.rules: dict[str, Rule] = {}
        self._causes: dict[str, frozenset[str]] = {}
        self.toggles: dict[Key, deque[datetime]] = {}
        # Causes that cleared, by alarm id: their still-active dependents are shown again once the
        # site has had time to report (CAUSE_SETTLE), so alarms clearing with the cause are not released.
        self.released_causes: dict[int, datetime] = {}

    def use_rules(self, rules: Iterable[Rule]) -> None:
        self.rules = {rule.id: rule for rule in rules}
        self._causes = cause_map(self.rules.values())

    # --- one transition ----------------------------------------------------------------------------

    def apply(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        """Record one transition in one fenced unit of work; a failure is logged and counted, never raised."""
        try:
            with self._rec.unit():
                if transition.kind is TransitionKind.RAISE:
                    self._raise(rule, reading, transition)
                else:
                    self._clear(rule, reading, transition)
        except Fenced as error:
            self._rec.refused(error)
            log.warning("%s of %s on %s not recorded: %s", transition.kind, rule.id, reading.asset_id, error)
        except Exception:
            self._rec.counts["errors"] += 1
            log.exception("could not record %s of %s on %s", transition.kind, rule.id, reading.asset_id)

    def _raise(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        message = rule.render_message(reading.site_id, reading.asset_id, self._values(reading.asset_id))
        if transition.assets:
            message += " (assets: " + ", ".join(transition.assets) + ")"
        candidate = Candidate(rule.id, reading.site_id, reading.asset_id, transition.at, rule.suppressed_by,
                              rule.judges_absence, rule.safety_critical)
        alarms = self._db.alarms
        alarm = alarms.find_open(rule.id, reading.asset_id)
        verdict = mute(candidate, self._context(candidate, alarm))
        if verdict.duplicate:
            self._rec.count("duplicate_raises")  # a replay, or a restart that lost the engine state
            return
        if alarm is not None:
            # Returned to normal but not acknowledged yet: the same episode happens again.
            alarms.add_occurrence(alarm.id, transition.at)
            alarm = alarms.set_state(alarm.id, lifecycle.on_raise(alarm.state), transition.at, ACTOR, message)
            self._rec.count("alarms_reraised")
        else:
            alarm, created = alarms.raise_alarm(rule.id, reading.asset_id, reading.site_id, rule.severity, message,
                                                transition.at)
            if not created:
                self._rec.count("duplicate_raises")
                return
            self._rec.count("alarms_raised")
        self._flag(alarm, verdict, transition.at)
        self._toggle(alarm, transition.at)
        alarm = alarms.get(alarm.id)
        self._rec.publish(alarm, RAISED)
        self._suppress_dependents(rule, alarm, transition.at)
        if rule.work_order is not None and alarm.work_order_id is None and not verdict.muted:
            self.orders.open(rule, alarm, transition.assets)

    def _clear(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        alarm = self._db.alarms.find_open(rule.id, reading.asset_id)
        if alarm is None or not alarm.state.is_active:
            self._rec.count("stale_clears")  # nothing active to clear (e.g. the raise was not recorded)
            return
        note = "cleared: " + rule.render_message(reading.site_id, reading.asset_id, self._values(reading.asset_id))
        alarm = self._db.alarms.set_state(alarm.id, lifecycle.on_clear(alarm.state), transition.at, ACTOR, note)
        self._rec.count("alarms_cleared")
        self._toggle(alarm, transition.at)
        self._rec.publish(self._db.alarms.get(alarm.id))
        if rule.id in self._causes:
            cause_id, at = alarm.id, transition.at
            self._rec.later(lambda: self.released_causes.__setitem__(cause_id, at))

    def _context(self, candidate: Candidate, open_alarm: Alarm | None) -> Context:
        at, now = candidate.at, self._rec.clock.now()
        causes: dict[Key, int] = {}
        for cause in candidate.suppressed_by:
            alarm = self._db.alarms.find_open(cause, candidate.site_id)
            if alarm is not None and alarm.state.is_active:
                causes[cause, candidate.site_id] = alarm.id
        shelved = {} if open_alarm is None or not lifecycle.is_shelved(open_alarm, now) else {
            candidate.key: open_alarm.shelved_until}
        return Context(windows=self._db.maintenance.list(site_id=candidate.site_id, at=at),
                       busy=self.busy(candidate.asset_id), causes=causes,
                       collector_alarm=self._absence_cause(now, at),
                       shelved={k: v for k, v in shelved.items() if v is not None},
                       active=frozenset({candidate.key} if open_alarm and open_alarm.state.is_active else ()))

    def _flag(self, alarm: Alarm, verdict: Verdict, at: datetime) -> Alarm:
        """Record the verdict's flags (a re-raised episode may have carried other ones)."""
        if verdict.muted:
            self._rec.count("alarms_muted")
        if (alarm.out_of_service, alarm.suppressed_by) == (verdict.out_of_service, verdict.suppressed_by):
            return alarm
        return self._db.alarms.set_flags(alarm.id, at, ACTOR, out_of_service=verdict.out_of_service,
                                         suppressed_by=verdict.suppressed_by)

    def _toggle(self, alarm: Alarm, at: datetime) -> None:
        """Count a raise or clear; 3 toggles within a minute mark the episode chattering. The history
        changes once the unit commits."""
        key = (alarm.rule_id, alarm.asset_id)
        times = deque(self.toggles.get(key, ()), maxlen=TOGGLES_KEPT)
        times.append(at)
        while times and times[0] <= at - CHATTER_WINDOW:
            times.popleft()
        self._rec.later(lambda: self.toggles.__setitem__(key, times))
        if not alarm.chattering and is_chattering(list(times), at):
            self._rec.count("alarms_chattering")
            log.warning("alarm %s (%s on %s) is chattering: %d toggles within %s", alarm.id, alarm.rule_id,
                        alarm.asset_id, len(times), CHATTER_WINDOW)
            self._rec.publish(self._db.alarms.set_flags(alarm.id, at, ACTOR, "chattering", chattering=True))

    def _suppress_dependents(self, rule: Rule, cause: Alarm, at: datetime) -> None:
        """A cause alarm that goes active suppresses the open alarms it explains on its site."""
        dependents = self._causes.get(rule.id)
        if not dependents:
            return
        for alarm in self._db.alarms.open_of(site_id=cause.site_id, rule_ids=dependents):
            if alarm.suppressed_by is None and alarm.id != cause.id:
                self._rec.publish(self._db.alarms.set_flags(alarm.id, at, ACTOR, f"suppressed by alarm #{cause.id}",
                                                            suppressed_by=cause.id))

    # --- releases, shelves, out of service (the periodic work) -----------------------------------------

    def release_settled_causes(self, now: datetime) -> list[int]:
        """Release the dependents of causes that cleared ``CAUSE_SETTLE`` ago; the causes released."""
        settled = [cause_id for cause_id, cleared_at in self.released_causes.items()
                   if now - cleared_at >= CAUSE_SETTLE and self.release_dependents(cause_id, now)]
        for cause_id in settled:
            del self.released_causes[cause_id]
        return settled

    def release_dependents(self, cause_id: int, at: datetime) -> bool:
        """The cause is gone: what it suppressed and is still active is shown again (one unit of work). What
        returned to normal with the cause stays listed under it, so a power cut never leaves a flood to
        acknowledge. False if it could not be recorded (tried again at the next tick)."""
        try:
            with self._rec.unit():
                released = [self._rec.publish(self._db.alarms.set_flags(
                                alarm.id, at, ACTOR, f"cause #{cause_id} is over", suppressed_by=None))
                            for alarm in self._db.alarms.suppressed_under(cause_id) if alarm.state.is_active]
                self.orders.open_owed(released, at, self.rules)
            return True
        except Fenced as error:
            self._rec.refused(error)
            log.warning("dependents of alarm %s not released: %s", cause_id, error)
        except Exception:
            self._rec.counts["errors"] += 1
            log.exception("could not release the dependents of alarm %s", cause_id)
        return False

    def expire_shelves(self, now: datetime, sites: Collection[str] | None = None, fenced: bool = True) -> list[Alarm]:
        """Unshelve every alarm (of ``sites``) whose shelf ended, each in its own unit with its owed order."""
        expired = []
        for alarm in self._db.alarms.shelf_expired(now, sites):
            with self._rec.unit(fenced):
                unshelved = self._rec.publish(self._db.alarms.shelve(alarm.id, None, "shelf expired", now, ACTOR))
                self._rec.count("shelves_expired")
                self.orders.open_owed([unshelved], now, self.rules)
            expired.append(unshelved)
        return expired

    def refresh_out_of_service(self, now: datetime, asset_id: str | None = None,
                               sites: Collection[str] | None = None, fenced: bool = True) -> None:
        """Set or lift the out-of-service flag of open alarms (maintenance windows, work under way); an
        alarm back in service and still active gets the work order its muted raise did not open."""
        alarms = self._db.alarms.open_of(asset_id=asset_id, sites=sites)
        if not alarms:
            return
        windows = self._db.maintenance.list(at=now)
        busy = self.busy(asset_id)
        for alarm in alarms:
            rule = self.rules.get(alarm.rule_id)
            reason = out_of_service(alarm.site_id, alarm.asset_id, now, windows, busy,
                                    rule is not None and rule.safety_critical)
            if reason != alarm.out_of_service:
                with self._rec.unit(fenced):
                    changed = self._rec.publish(self._db.alarms.set_flags(alarm.id, now, ACTOR, out_of_service=reason))
                    if not reason:
                        self.orders.open_owed([changed], now, self.rules)

    def busy(self, asset_id: str | None) -> dict[str, int]:
        """Assets under work now (``busy_assets``): of one asset, or of all (counted first: no cap)."""
        where = WorkOrderFilter(statuses=UNDER_WAY, asset_id=asset_id)
        limit = ASSET_ORDERS_UNDER_WAY if asset_id is not None else max(1, self._db.work_orders.total(where))
        orders, _next = self._db.work_orders.page(where, limit=limit)
        return busy_assets(orders)

    # --- checkpoint -------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The chatter history and the pending releases, JSON-safe."""
        return {"toggles": [[rule, asset, [at.isoformat() for at in times]]
                            for (rule, asset), times in self.toggles.items() if times],
                "released_causes": {str(cause): at.isoformat() for cause, at in self.released_causes.items()}}

    def restore(self, data: dict[str, Any]) -> None:
        self.toggles = {(str(rule), str(asset)): deque((datetime.fromisoformat(at) for at in times),
                                                       maxlen=TOGGLES_KEPT)
                        for rule, asset, times in data.get("toggles", ())}
        self.released_causes = {int(cause): datetime.fromisoformat(at)
                                for cause, at in data.get("released_causes", {}).items()}

