"""Operators' commands on alarms (the API's): acknowledge, comment, shelve, unshelve, assign, and the
ISA-18.2 figures. Each command is one unit of work, not fenced (the API holds no partition's lease); its
bus event is published once it commits. Repeated commands are no-ops."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.domain import Alarm, Severity
from rules import lifecycle
from rules.effects import AlarmEffects
from rules.kpi import Annunciation, performance
from rules.recording import Recorder


class AlarmDesk:
    def __init__(self, recorder: Recorder, effects: AlarmEffects) -> None:
        self._rec = recorder
        self._db = recorder.db
        self._effects = effects

    def acknowledge(self, alarm_id: int, actor: str, note: str = "") -> Alarm:
        """Acknowledge an alarm now (NotFound, or TransitionError if it needs no acknowledgement). One already
        acknowledged is left as it is: a retried or double-clicked acknowledgement is a no-op."""
        with self._rec.unit(fenced=False):
            current = self._db.alarms.get(alarm_id)
            if lifecycle.is_acknowledged(current):
                return current
            to_state = lifecycle.on_acknowledge(current.state)
            alarm = self._db.alarms.set_state(alarm_id, to_state, self._rec.clock.now(), actor, note)
            self._rec.count("alarms_acknowledged")
            return self._rec.publish(alarm)

    def comment(self, alarm_id: int, actor: str, note: str) -> None:
        """Add an operator's note to the alarm's history (NotFound for an unknown alarm)."""
        self._db.alarms.comment(alarm_id, self._rec.clock.now(), actor, note)

    def shelve(self, alarm_id: int, until: datetime, reason: str, actor: str) -> Alarm:
        """Shelve an alarm until ``until`` (TransitionError if NORMAL, past or longer than MAX_SHELF)."""
        now = self._rec.clock.now()
        with self._rec.unit(fenced=False):
            lifecycle.check_shelve(self._db.alarms.get(alarm_id), until, now)
            return self._rec.publish(self._db.alarms.shelve(alarm_id, until, reason, now, actor))

    def unshelve(self, alarm_id: int, actor: str, note: str = "") -> Alarm:
        """Put a shelved alarm back (with the order its muted raise owes); one not shelved is left as it is."""
        now = self._rec.clock.now()
        with self._rec.unit(fenced=False):
            current = self._db.alarms.get(alarm_id)
            if current.shelved_until is None:
                return current
            alarm = self._rec.publish(self._db.alarms.shelve(alarm_id, None, note or "by operator", now, actor))
            self._effects.orders.open_owed([alarm], now, self._effects.rules)
        return alarm

    def assign(self, alarm_id: int, assignee: str | None, actor: str) -> Alarm:
        with self._rec.unit(fenced=False):
            lifecycle.check_assign(self._db.alarms.get(alarm_id))
            return self._rec.publish(self._db.alarms.assign(alarm_id, assignee, self._rec.clock.now(), actor))

    def kpis(self, since: datetime, until: datetime) -> dict[str, Any]:
        """The ISA-18.2 performance figures over [since, until) from the recorded alarm history."""
        rows = self._db.alarms.annunciations(since, until)
        history = [Annunciation(at, rule, asset, Severity(severity)) for at, rule, asset, severity in rows]
        return performance(history, since, until, self._db.alarms.count_chattering(since, until))
