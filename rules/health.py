"""The collector's health as the rules see it, and the alarms facmon raises about itself on a partition: the
collector's outage (absence rules held under it) and the partition's sites all falling silent at once.

Each partition has its own pair of alarms (asset ``collector/<partition>``, ``portfolio/<partition>``; plain
``collector`` and ``portfolio`` for the single partition ``all``), raised and cleared in fenced units of
work. The state (the gate, the open alarms' ids, the silence) is checkpointed with the engine's; a restored
process counts as starting up (``restore``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from core.domain import Alarm, Severity
from rules.alarm_events import CHANGED, RAISED
from rules.effects import AlarmEffects
from rules.own_alarms import OwnAlarm, PortfolioSilence
from rules.recording import Recorder
from rules.suppression import CollectorGate

# The collector's own alarm (no rule file defines it): "site" facmon, "asset" collector.
COLLECTOR_RULE = "collector_degraded"
COLLECTOR_ASSET = "collector"
COLLECTOR_SITE = "facmon"
# The whole portfolio (the partition's sites) silent while the collector is connected (also site facmon).
PORTFOLIO_RULE = "portfolio_silent"
PORTFOLIO_ASSET = "portfolio"
DEFAULT_SILENCE = timedelta(minutes=5)
DEFAULT_GRACE = timedelta(minutes=5)
ALL = "all"  # the partition owning every site


def own_asset(asset_id: str, partition: str) -> str:
    """The asset id of one of facmon's own alarms on ``partition``."""
    return asset_id if partition == ALL else f"{asset_id}/{partition}"


class CollectorHealth:
    def __init__(self, recorder: Recorder, effects: AlarmEffects, grace: timedelta, silence: timedelta,
                 partition: str, sites: Callable[[], Collection[str] | None]) -> None:
        self._rec = recorder
        self._effects = effects
        self._grace = grace
        self._partition = partition
        self._sites = sites
        self.gate = CollectorGate()
        self.collector_alarm: int | None = None
        self.silence = PortfolioSilence(silence)
        self.silent_alarm: int | None = None  # the portfolio alarm while it holds absence alarms under it
        self.held = False
        self._collector = OwnAlarm(recorder.db, COLLECTOR_RULE, own_asset(COLLECTOR_ASSET, partition),
                                   COLLECTOR_SITE, Severity.HIGH, self._publish)
        self._portfolio = OwnAlarm(recorder.db, PORTFOLIO_RULE, own_asset(PORTFOLIO_ASSET, partition),
                                   COLLECTOR_SITE, Severity.CRITICAL, self._publish)

    def _publish(self, kind: str, alarm: Alarm) -> None:
        self._rec.publish(alarm, RAISED if kind == "raised" else CHANGED)

    # --- the collector --------------------------------------------------------------------------------

    def status(self, connected: bool, lagging: bool, at: datetime) -> None:
        """Hold absence rules back while the collector is unhealthy; its own alarm says why."""
        before, self.gate = self.gate, self.gate.update(connected, lagging, at)
        if self.gate is before:
            return
        if not self.gate.healthy:
            if self.gate.seen_healthy:  # starting up is no outage: see ``tick`` for a slow start
                self._raise_collector_alarm(at)
        elif not before.healthy:
            with self._rec.unit():
                self._collector.clear(at, f"collector healthy again; absence rules resume after {self._grace}")

    def holding(self, at: datetime) -> bool:
        return self.gate.holding(at, self._grace)

    def tick(self, now: datetime) -> bool:
        """The collector's and the silence's periodic judgement; True while absence rules must hold."""
        if self.gate.overdue(now, self._grace) and self.collector_alarm is None:
            self._raise_collector_alarm(now)
        self._judge_silence(now)
        if self.holding(now):
            self._rec.counts["held_ticks"] += 1
            self.held = True
            return True
        # Grace over: absence alarms recorded while holding and still open are shown again (if that fails,
        # it is tried again at the next tick).
        if self.held and self.collector_alarm is not None and \
                not self._effects.release_dependents(self.collector_alarm, now):
            return False
        self.held = False
        return False

    def _raise_collector_alarm(self, at: datetime) -> None:
        message = (f"The collector {self.gate.reason} since {at.isoformat()}: device-offline and no-data "
                   f"rules are held back")
        with self._rec.unit():
            alarm = self._collector.raise_alarm(at, message)
            self._rec.count("collector_alarms")
        self.collector_alarm = alarm.id

    # --- the partition's sites silent -----------------------------------------------------------------

    def heard(self, now: datetime) -> None:
        """Readings arrived: the sites are not silent (an open silence alarm clears)."""
        self.silence = self.silence.heard(now)
        if not self._silence_holds:
            return
        with self._rec.unit():
            if self._portfolio.clear(now, "readings arrive again") is not None:
                # Absence alarms raised meanwhile stay under it while devices report back (CAUSE_SETTLE);
                # those still active then are shown (``AlarmEffects.release_settled_causes``).
                silent = self.silent_alarm or 0
                self._rec.later(lambda: self._effects.released_causes.__setitem__(silent, now))

    @property
    def _silence_holds(self) -> bool:
        """The portfolio alarm is raised and not over (not settling after its clear)."""
        return self.silent_alarm is not None and self.silent_alarm not in self._effects.released_causes

    def _judge_silence(self, now: datetime) -> None:
        """ONE alarm when none of the partition's sites has reported for ``silence`` while the collector is
        healthy (the broker's bridge, the network or the gateways lost every device at once); absence
        alarms go under it."""
        if self._silence_holds or self.gate.holding(now, self._grace) or \
                not self.silence.silent(now, self.gate.healthy_since):
            return
        assert self.silence.last_heard is not None
        sites = self._sites()
        count = len(self._rec.db.assets.sites()) if sites is None else len(sites)
        of = "" if self._partition == ALL else f" of partition {self._partition}"
        message = (f"No reading from any of the {count} sites{of} since {self.silence.last_heard.isoformat()} "
                   f"while the collector is connected: the broker's side (bridge, network, gateways) lost every "
                   f"device")
        with self._rec.unit():
            alarm = self._portfolio.raise_alarm(now, message)
            self._rec.count("portfolio_silences")
        self._effects.released_causes.pop(self.silent_alarm or 0, None)
        self.silent_alarm = alarm.id

    def absence_cause(self, now: datetime, at: datetime) -> int | None:
        """The alarm that explains absence alarms now: the collector's while it holds, else the silence
        while it lasts and while devices report back after it."""
        if self.holding(now) or self.holding(at):
            return self.collector_alarm
        return self.silent_alarm

    def settled(self, cause_ids: Collection[int]) -> None:
        """These causes' dependents were released: the silence alarm among them is over."""
        if self.silent_alarm in cause_ids:
            self.silent_alarm = None

    # --- checkpoint -------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        gate = self.gate
        return {"gate": {"connected": gate.connected, "lagging": gate.lagging, "since": _iso(gate.since),
                         "healthy_since": _iso(gate.healthy_since), "seen_healthy": gate.seen_healthy},
                "collector_alarm": self.collector_alarm, "silent_alarm": self.silent_alarm, "held": self.held,
                "last_heard": _iso(self.silence.last_heard)}

    def restore(self, data: dict[str, Any], now: datetime) -> None:
        """Continue the open alarms (their ids, the hold under the collector's) and the gate, counting the
        new process as starting up: no outage alarm for its own start, a fresh grace for a collector that was
        not yet healthy, and silence judged from its own first reading (``last_heard`` is not taken over)."""
        saved = data.get("gate")
        self.collector_alarm = data.get("collector_alarm")
        self.silent_alarm = data.get("silent_alarm")
        self.held = bool(data.get("held", False))
        if saved is None:
            return
        gate = CollectorGate(bool(saved["connected"]), bool(saved["lagging"]), _time(saved["since"]),
                             _time(saved["healthy_since"]), seen_healthy=False)
        if not gate.healthy and self.collector_alarm is None:
            gate = replace(gate, since=now)
        self.gate = gate


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
