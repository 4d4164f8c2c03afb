"""Alarms facmon raises about itself, which no rule file defines: the collector's outage and the whole
portfolio falling silent. One episode at a time per (rule, asset), recorded like any alarm.

``PortfolioSilence`` is the pure judgement of the second: no reading from any site for longer than
``after`` of clock time while the collector is connected means the broker's side (its bridge, the
network to the buildings, a gateway fleet) lost every device at once -- one alarm, not one per device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.domain import Alarm, Severity
from rules import lifecycle
from storage.records import Database

ACTOR = "rules"


class OwnAlarm:
    """One alarm of facmon's own: ``raise_alarm`` opens (or re-raises, or comments on) its episode,
    ``clear`` returns it to normal; ``publish(topic_kind, alarm)`` tells the bus ("raised"/"changed")."""

    def __init__(self, db: Database, rule_id: str, asset_id: str, site_id: str, severity: Severity,
                 publish: Callable[[str, Alarm], object]) -> None:
        self._db = db
        self.rule_id, self.asset_id, self.site_id, self.severity = rule_id, asset_id, site_id, severity
        self._publish = publish

    def raise_alarm(self, at: datetime, message: str) -> Alarm:
        alarm = self._db.alarms.find_open(self.rule_id, self.asset_id)
        if alarm is None:
            alarm, _created = self._db.alarms.raise_alarm(self.rule_id, self.asset_id, self.site_id, self.severity,
                                                          message, at)
        elif not alarm.state.is_active:
            self._db.alarms.add_occurrence(alarm.id, at)
            alarm = self._db.alarms.set_state(alarm.id, lifecycle.on_raise(alarm.state), at, ACTOR, message)
        else:
            self._db.alarms.comment(alarm.id, at, ACTOR, message)
        self._publish("raised", alarm)
        return alarm

    def clear(self, at: datetime, note: str) -> Alarm | None:
        """Return the active episode to normal (None when none is active)."""
        alarm = self._db.alarms.find_open(self.rule_id, self.asset_id)
        if alarm is None or not alarm.state.is_active:
            return None
        alarm = self._db.alarms.set_state(alarm.id, lifecycle.on_clear(alarm.state), at, ACTOR, note)
        self._publish("changed", alarm)
        return alarm


@dataclass(frozen=True, slots=True)
class PortfolioSilence:
    """When the last reading from anyone arrived (clock time), and how long a silence is tolerated
    (``after``; zero: never judged)."""

    after: timedelta
    last_heard: datetime | None = None

    def heard(self, at: datetime) -> PortfolioSilence:
        return replace(self, last_heard=at)

    def silent(self, at: datetime, not_before: datetime | None = None) -> bool:
        """No reading for longer than ``after`` (counted from ``not_before`` if later: the collector's
        recovery, when devices could first be heard again); never before the first reading (starting up)."""
        if not self.after or self.last_heard is None:
            return False
        quiet_since = self.last_heard if not_before is None else max(self.last_heard, not_before)
        return at - quiet_since > self.after
