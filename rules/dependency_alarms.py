"""facmon's own alarm for a dependency that stays unreachable: the telemetry store (``store_unreachable``)
or the MQTT broker (``broker_unreachable``), one episode per instance (the asset is the partition's name).

Raised once the dependency has been down for ``after`` (a blip raises nothing), cleared when it answers
again. The records database has no such alarm: the alarm would be written there; its outage shows in
``/healthz``, the metrics and the log. A write that fails (the database is down too) is tried again at the
next judgement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from core.domain import Alarm, Severity
from core.health import BROKER, TELEMETRY_STORE, DependencyState
from rules.own_alarms import OwnAlarm
from storage.records import Database

log = logging.getLogger(__name__)
SITE = "facmon"  # the site of facmon's own alarms
RULES = {TELEMETRY_STORE: "store_unreachable", BROKER: "broker_unreachable"}
WHAT = {TELEMETRY_STORE: "The telemetry store", BROKER: "The MQTT broker"}
CONSEQUENCE = {
    TELEMETRY_STORE: "readings are acknowledged and kept in the spool; they are written once it answers",
    BROKER: "no reading arrives; the broker keeps QoS 1 messages of our session until we reconnect",
}


class DependencyAlarms:
    """Judges dependency states into own alarms: ``judge(states, now)`` after each health check."""

    def __init__(self, db: Database, instance: str, after: timedelta,
                 publish: Callable[[str, Alarm], object]) -> None:
        self._alarms = {name: OwnAlarm(db, rule, instance, SITE, Severity.HIGH, publish)
                        for name, rule in RULES.items()}
        self._after = after
        # True: our alarm is raised; False: known clear; absent: unknown (a previous run may have left one open).
        self._raised: dict[str, bool] = {}

    def judge(self, states: Iterable[DependencyState], now: datetime) -> None:
        for state in states:
            alarm = self._alarms.get(state.name)
            if alarm is None:
                continue
            try:
                if not state.up and now - state.since >= self._after and not self._raised.get(state.name):
                    alarm.raise_alarm(now, f"{WHAT[state.name]} has not answered since {state.since.isoformat()} "
                                           f"({state.detail}): {CONSEQUENCE[state.name]}")
                    self._raised[state.name] = True
                elif state.up and self._raised.get(state.name, True):
                    alarm.clear(now, f"{WHAT[state.name]} answers again")
                    self._raised[state.name] = False
            except Exception as error:  # the records database may be down too: judged again next time
                log.warning("could not record the %s alarm: %s", RULES[state.name], error)
