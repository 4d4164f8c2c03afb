"""Up while a dependency is down (issue 13 §6): wait for the records database at start, then watch the
broker, the telemetry store and the database while running.

What is watched answers ``/healthz`` (``status`` ok or degraded, ``down``), ``/readyz`` and the metric
``facmon_dependency_up{name}``; a broker or store down for ``collector.lag_threshold_s`` (the age at which
a backlog counts as lagging) raises facmon's own alarm (rules/dependency_alarms.py). Nothing here exits:
only a configuration error does (the database or the broker refusing our credentials), raised as
ConfigError by the part that meets it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest

from collector.metrics import DependencyFigures
from collector.mqtt import backoff_s
from core.clock import Clock
from core.domain import Alarm
from core.errors import ServiceUnavailable
from core.events import EventBus
from core.health import RECORDS_DATABASE, TELEMETRY_STORE, Dependencies
from facmon.periodic import Periodic
from rules.dependency_alarms import DependencyAlarms
from rules.service import CHANGED, RAISED, alarm_json
from storage.records import Database
from storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)
CHECK_S = 5.0  # wall seconds between health checks
DATABASE_RETRY_MIN_S = 0.5
DATABASE_RETRY_MAX_S = 15.0


def wait_for_database(db: Database, sleep: Callable[[float], None] = time.sleep) -> int:
    """Block until the records database answers (migrations, the registry and rule checkpoints need it
    before anything runs), retrying with capped, jittered backoff; returns the attempts that failed. A
    database that refuses us raises ConfigError at once (``Database.ping``)."""
    attempt = 0
    while True:
        try:
            db.ping()
            return attempt
        except ServiceUnavailable as error:
            delay = backoff_s(attempt, DATABASE_RETRY_MIN_S, DATABASE_RETRY_MAX_S)
            log.warning("%s; starting when it answers (next try in %.1f s)", error, delay)
            sleep(delay)
            attempt += 1


def watched_dependencies(db: Database, store: TelemetryStore, clock: Clock) -> Dependencies:
    """The records database and the telemetry store, probed by the watch; the runtime adds the broker once
    its consumer exists (``MqttConsumer.probe``)."""
    dependencies = Dependencies(clock)
    dependencies.add(RECORDS_DATABASE, db.ping)
    dependencies.add(TELEMETRY_STORE, store.ping)
    return dependencies


def dependency_exposition(dependencies: Dependencies) -> bytes:
    """``facmon_dependency_up{name}`` in the Prometheus text format (appended to the collector's: a process
    that does not ingest, or a standby, reports its dependencies too)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DependencyFigures(dependencies.states))
    return generate_latest(registry)


def dependency_watch(dependencies: Dependencies, db: Database, bus: EventBus, clock: Clock,
                     instance: str, alarm_after: timedelta) -> Periodic:
    """A thread that checks every dependency each ``CHECK_S`` and judges own alarms; the first check runs
    here, on the caller's thread, so that /healthz is true from its first answer."""
    def publish(kind: str, alarm: Alarm) -> None:
        bus.publish(RAISED if kind == "raised" else CHANGED, alarm_json(alarm))

    alarms = DependencyAlarms(db, instance, alarm_after, publish)

    logged: dict[str, bool] = {}

    def check() -> None:
        states = dependencies.check()
        for state in states:  # log the changes, not every check
            if not state.up and logged.get(state.name, True):
                log.warning("%s is down: %s", state.name, state.detail)
            elif state.up and not logged.get(state.name, True):
                log.warning("%s answers again", state.name)
            logged[state.name] = state.up
        alarms.judge(states, clock.now())

    check()
    return Periodic("dependency-watch", CHECK_S, check)
