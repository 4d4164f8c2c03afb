"""The rules service: runs the engine over accepted readings and turns transitions into alarms and work orders.

Effects are idempotent so a replay does no harm: an alarm episode is keyed by (rule, asset, start time)
in the database, a raise on an episode that is already active is counted and dropped, and the work
order of an alarm is unique per alarm (a partial unique index in the database).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from core.clock import Clock
from core.domain import Alarm, Reading
from core.events import EventBus
from rules import lifecycle
from rules.engine import RuleEngine, Transition, TransitionKind
from rules.model import Rule
from storage.records import Database
from workorders.book import WorkOrderBook

log = logging.getLogger(__name__)

RAISED = "alarm.raised"
CHANGED = "alarm.changed"
ACTOR = "rules"


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
    }


class RulesService:
    """Called by the collector with each accepted batch, from one thread; acknowledge/comment from the API."""

    def __init__(self, rules: Iterable[Rule], db: Database, book: WorkOrderBook, bus: EventBus,
                 clock: Clock) -> None:
        self.rules = list(rules)
        self.engine = RuleEngine(self.rules)
        self._db = db
        self._book = book
        self._bus = bus
        self._clock = clock
        self._counts = dict.fromkeys(("alarms_raised", "alarms_reraised", "alarms_cleared",
                                      "duplicate_raises", "stale_clears", "work_orders_opened",
                                      "alarms_acknowledged", "errors"), 0)

    def process(self, readings: Sequence[Reading]) -> None:
        """Evaluate every reading; a failure on one reading is logged and counted, never raised."""
        for reading in readings:
            try:
                fired = self.engine.evaluate(reading)
                for rule, _reading, transition in fired:
                    self._apply(rule, reading, transition)
            except Exception:
                self._counts["errors"] += 1
                log.exception("rules failed on a reading of %s at %s", reading.asset_id, reading.at)

    def acknowledge(self, alarm_id: int, actor: str, note: str = "") -> Alarm:
        """Acknowledge an alarm now (NotFound, or TransitionError if it needs no acknowledgement)."""
        current = self._db.alarms.get(alarm_id)
        to_state = lifecycle.on_acknowledge(current.state)
        alarm = self._db.alarms.set_state(alarm_id, to_state, self._clock.now(), actor, note)
        self._counts["alarms_acknowledged"] += 1
        self._bus.publish(CHANGED, alarm_json(alarm))
        return alarm

    def comment(self, alarm_id: int, actor: str, note: str) -> None:
        """Add an operator's note to the alarm's history (NotFound for an unknown alarm)."""
        self._db.alarms.comment(alarm_id, self._clock.now(), actor, note)

    def stats(self) -> dict[str, int]:
        return {"readings_evaluated": self.engine.evaluated,
                "readings_out_of_order": self.engine.out_of_order, **self._counts}

    # --- effects of one transition --------------------------------------------------------------

    def _apply(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        try:
            if transition.kind is TransitionKind.RAISE:
                self._raise(rule, reading, transition)
            else:
                self._clear(rule, reading, transition)
        except Exception:
            self._counts["errors"] += 1
            log.exception("could not record %s of %s on %s", transition.kind, rule.id, reading.asset_id)

    def _raise(self, rule: Rule, reading: Reading, transition: Transition) -> None:
        message = rule.render_message(reading.site_id, reading.asset_id, self.engine.values(reading.asset_id))
        alarm = self._db.alarms.find_open(rule.id, reading.asset_id)
        if alarm is not None and alarm.state.is_active:
            self._counts["duplicate_raises"] += 1  # a replay, or a restart that lost the engine state
        elif alarm is not None:
            # Returned to normal but not acknowledged yet: the same episode happens again.
            to_state = lifecycle.on_raise(alarm.state)
            self._db.alarms.add_occurrence(alarm.id, transition.at)
            alarm = self._db.alarms.set_state(alarm.id, to_state, transition.at, ACTOR, message)
            self._counts["alarms_reraised"] += 1
            self._bus.publish(RAISED, alarm_json(alarm))
        else:
            alarm, created = self._db.alarms.raise_alarm(rule.id, reading.asset_id, reading.site_id,
                                                         rule.severity, message, transition.at)
            if not created:
                self._counts["duplicate_raises"] += 1
            else:
                self._counts["alarms_raised"] += 1
                self._bus.publish(RAISED, alarm_json(alarm))
        if rule.work_order is not None and alarm.work_order_id is None:
            self._open_work_order(rule, reading, alarm, message)

    def _open_work_order(self, rule: Rule, reading: Reading, alarm: Alarm, message: str) -> None:
        action = rule.work_order
        assert action is not None
        title = rule.render_title(reading.site_id, reading.asset_id, self.engine.values(reading.asset_id))
        work_order, created = self._book.open(action.kind, action.priority, title, reading.site_id,
                                              reading.asset_id, description=message, alarm_id=alarm.id)
        self._db.alarms.link_work_order(alarm.id, work_order.id)
        if created:
            self._counts["work_orders_opened"] += 1
            self._bus.publish(CHANGED, alarm_json(self._db.alarms.get(alarm.id)))

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
        self._bus.publish(CHANGED, alarm_json(alarm))
