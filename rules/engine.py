"""Rule evaluation on event time: a pure step per (rule, asset) and an engine that holds the states.

A rule raises when its condition has been true on every reading of the asset for at least ``for_``
(the on-delay), measured on the readings' own timestamps, so a replay or an accelerated demo gives
the same alarms as live time. An unknown condition (a metric never reported) neither starts, resets
nor completes anything: the state waits.

What the engine hands to the alarm side (the alarm side builds on this; keep it stable):

* ``evaluate(reading)``, ``advance_time(watermark)`` and ``device_status(asset_id, status, at)`` each
  return ``list[Firing]`` with ``Firing = (Rule, Reading, Transition)``. The alarm is keyed by
  ``(rule.id, reading.asset_id)`` and belongs to ``reading.site_id``.
* **Asset-level** firings carry the asset's own reading; firings caused by ``advance_time`` (no data,
  ``stale``) or ``device_status`` (MQTT last will) carry a *synthetic* ``Reading`` of that asset with
  ``at`` = the watermark / status time and empty ``metrics`` (``engine.values(asset_id)`` has the
  latest values for the message).
* **Site-level** rules (``rule.scope is Scope.SITE``) produce ONE firing per site: ``reading`` is a
  synthetic ``Reading(site_id=S, kind=<kind of the asset whose reading tipped it>, asset_id=S,
  at=transition.at, metrics={})`` -- the site id stands in the asset id, so the alarm key is
  ``(rule.id, site_id)`` and ``alarm.asset_id == alarm.site_id`` marks a site alarm.
  ``transition.scope is Scope.SITE`` and ``transition.assets`` lists the assets whose condition held
  (for "listed under it"); ``engine.values(site_id)`` gives ``{"count": n, "total": N}`` for templates.
* **Group** rules are site rules with ``group_by: <attribute>`` (e.g. ``duty_pair``): the members are
  the assets of one site with the same value of that attribute (assets without it are no members), the
  state is per group, and the synthetic reading's ``asset_id`` is ``"<site>/<value>"`` (so the alarm
  key is ``(rule.id, "<site>/<value>")``; ``site_id`` stays the site, for suppression). Without
  ``within`` a group's onsets need not cluster (``timedelta.max``): a standby pump has stood for days.
* ``rule.suppressed_by`` names the site-level rules whose active alarm on the same site explains this
  rule's alarm (power cut -> pump and lighting alarms): data for the suppression stage, which the
  engine itself does not apply (the alarm is still produced, so it can be listed under the cause).
* ``rule.judges_absence`` is True for no-data / offline rules (``stale(...)``, ``device_online``):
  the rules to hold back while the collector itself is disconnected or lagging.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Any

from core.domain import Asset, AssetKind, MetricValue, Reading, Site
from core.zones import UTC_ZONE, site_zone
from rules.lateness import revise
from rules.model import DEVICE_ONLINE, DailyWindow, Rule, Scope
from rules.sitewide import SiteTracker
from rules.windows import Frame, Window

_NO_VALUES: Mapping[str, MetricValue] = MappingProxyType({})
# Expected report interval of an asset the engine was not told about (``register``).
DEFAULT_INTERVAL_S = {AssetKind.ELEVATOR: 60.0, AssetKind.PUMP: 60.0, AssetKind.LIGHTING: 300.0}
DEFAULT_LATENESS = timedelta(minutes=5)
SNAPSHOT_VERSION = 1


class TransitionKind(enum.StrEnum):
    RAISE = "raise"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class Transition:
    """A rule starting or stopping on an asset (or a site) at event time ``at``.

    For RAISE, ``at`` is the time that completed the on-delay and ``since`` the time the condition
    first held; for CLEAR, ``since`` is when the clear condition first held (``at`` minus the off-delay,
    or ``at`` itself without one). ``scope`` is SITE for a site-level rule, whose ``assets`` are the
    assets whose condition held.
    """

    kind: TransitionKind
    at: datetime
    since: datetime
    scope: Scope = Scope.ASSET
    assets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleState:
    """Where one rule stands on one asset.

    ``last_at`` and ``values`` are kept by ``step`` (the standalone form); the engine keeps them once
    per asset instead and leaves them empty here.
    """

    pending_since: datetime | None = None
    active: bool = False
    last_at: datetime | None = None
    values: Mapping[str, MetricValue] = field(default_factory=lambda: _NO_VALUES)
    clearing_since: datetime | None = None


INITIAL = RuleState()


def decide(rule: Rule, state: RuleState, holds: bool | None, cleared: bool | None,
           at: datetime) -> tuple[RuleState, Transition | None]:
    """The on-delay / off-delay state machine, given whether the raise and the clear condition hold.

    None (unknown) waits. Returns ``state`` itself when nothing changed, so a caller can skip storing it.
    """
    if state.active:
        if cleared is None:
            return state, None
        if not cleared:
            return (state, None) if state.clearing_since is None else (replace(state, clearing_since=None), None)
        since = state.clearing_since or at
        if at - since >= rule.clear_for:
            return INITIAL, Transition(TransitionKind.CLEAR, at, since, rule.scope)
        return (state, None) if state.clearing_since is not None else (replace(state, clearing_since=at), None)
    if holds is None:
        return state, None
    if not holds:
        return (state, None) if state.pending_since is None else (_reset(state), None)
    since = state.pending_since or at
    if at - since >= rule.for_:
        return (RuleState(pending_since=since, active=True),
                Transition(TransitionKind.RAISE, at, since, rule.scope))
    return (state, None) if state.pending_since is not None else (replace(state, pending_since=at), None)


def _reset(state: RuleState) -> RuleState:
    # The engine's fast path recognises the initial state by identity.
    return INITIAL if state.last_at is None and not state.values else replace(state, pending_since=None)


def judge(rule: Rule, active: bool, values: Mapping[str, MetricValue],
          at: datetime, zone: tzinfo = UTC) -> tuple[bool | None, bool | None]:
    """(raise condition holds, clear condition holds) of ``rule`` on ``values`` at ``at``.

    Outside the rule's time of day (read in ``zone``, the site's) the condition counts as false (and an
    active alarm clears).
    """
    if rule.during is not None and not rule.during.covers(at, zone):
        return False, True
    if not active:
        return rule.condition.truth(values), None
    if rule.clear_condition is None:
        holds = rule.condition.truth(values)
        return holds, None if holds is None else not holds
    return None, rule.clear_condition.truth(values)


def advance(rule: Rule, state: RuleState, values: Mapping[str, MetricValue],
            at: datetime, zone: tzinfo = UTC) -> tuple[RuleState, Transition | None]:
    """The core step: judge ``rule`` on the asset's latest ``values`` at event time ``at`` (site zone ``zone``)."""
    holds, cleared = judge(rule, state.active, values, at, zone)
    return decide(rule, state, holds, cleared, at)


def step(rule: Rule, state: RuleState, reading: Reading) -> tuple[RuleState, Transition | None]:
    """Apply one reading to one rule's state; a reading older than ``state.last_at`` changes nothing.

    The reading may carry only some metrics: they are merged over the values seen before. Window
    functions are unknown here (the windows live in the engine).
    """
    if state.last_at is not None and reading.at < state.last_at:
        return state, None
    values = {**state.values, **{k: v for k, v in reading.metrics.items() if k in rule.metrics}}
    new, transition = advance(rule, state, values, reading.at)
    return replace(new, last_at=reading.at, values=values), transition


Firing = tuple[Rule, Reading, Transition]


class _Track:
    """One asset: its frame (latest values and windows), and the state of each rule that applies to it."""

    __slots__ = ("asset_id", "counts", "feeds", "frame", "kind", "last_at", "plan", "rules", "site_id",
                 "sites", "states", "timed", "times", "windowed", "zone")

    def __init__(self, site_id: str, kind: AssetKind, asset_id: str, interval_s: float, zone: tzinfo,
                 lateness_s: float) -> None:
        self.site_id, self.kind, self.asset_id = site_id, kind, asset_id
        self.zone = zone  # the site's local time, for ``during``
        self.times = Window(lateness_s)  # recent reading times: what a late reading's timers are revised by
        self.frame = Frame(interval_s)
        self.frame[DEVICE_ONLINE] = True  # presumed connected until its last will says otherwise
        self.last_at: datetime | None = None
        self.rules: tuple[Rule, ...] = ()
        self.states: list[RuleState] = []
        self.timed: tuple[int, ...] = ()  # indexes of the rules judged again at each watermark
        self.windowed: tuple[int, ...] = ()  # rules reading windows (judged again after a late sample)
        self.feeds: tuple[tuple[str, Window], ...] = ()  # metric windows fed by readings
        self.counts: tuple[tuple[Window, Any], ...] = ()  # count(cond) windows and their condition
        self.sites: tuple[SiteTracker, ...] = ()
        self.plan: tuple[tuple[int, Rule, Any, DailyWindow | None], ...] = ()

    def bind(self, rules: tuple[Rule, ...], sites: tuple[SiteTracker, ...]) -> None:
        """Take a (new) rule list, keeping the state of every rule that is unchanged, and its windows."""
        old = {rule.id: (rule, state) for rule, state in zip(self.rules, self.states, strict=True)}
        self.states = [old[rule.id][1] if rule.id in old and old[rule.id][0] == rule else INITIAL
                       for rule in rules]
        self.rules = rules
        self.plan = tuple((i, rule, rule.condition.evaluate, rule.during) for i, rule in enumerate(rules))
        self.timed = tuple(i for i, rule in enumerate(rules) if rule.judges_absence)
        self.windowed = tuple(i for i, rule in enumerate(rules) if rule.series and not rule.judges_absence)
        self.sites = sites
        horizons: dict[str, float] = {}
        conditions: dict[str, Any] = {}
        for rule in (*rules, *(tracker.rule for tracker in sites)):
            for need in rule.series:
                horizons[need.key] = max(horizons.get(need.key, 0.0), need.horizon_s)
                if need.condition is not None:
                    conditions[need.key] = need.condition
        series = self.frame.series
        for key in list(series):
            if key not in horizons:
                del series[key]
        for key, horizon in horizons.items():
            if key in series:
                series[key].horizon_s = horizon
            else:
                series[key] = Window(horizon)
        self.feeds = tuple((key, series[key]) for key in horizons if key not in conditions)
        self.counts = tuple((series[key], conditions[key]) for key in horizons if key in conditions)


class RuleEngine:
    """Holds every (rule, asset) and (site rule, site) state; feed it readings in event-time order per asset.

    A reading older than its asset's newest is *late*: within ``allowed_lateness`` it is used (added to
    the windows, so averages and counts include it) but does not move timers backwards; later ones are
    only counted. Not thread-safe: one engine per consumer thread (rule state is partitioned by asset);
    ``reload`` must run on that thread too.
    """

    def __init__(self, rules: Iterable[Rule], assets: Iterable[Asset] = (),
                 allowed_lateness: timedelta = DEFAULT_LATENESS, default_zone: tzinfo = UTC_ZONE) -> None:
        self.allowed_lateness = allowed_lateness
        self.default_zone = default_zone  # the local time of a site the engine was not told about
        self._zones: dict[str, tzinfo] = {}
        self._assets: dict[str, Asset] = {}
        self._tracks: dict[str, _Track] = {}
        self._sites: dict[tuple[str, str], SiteTracker] = {}
        self._watermark: datetime | None = None
        self._newest: datetime | None = None  # the newest event time evaluated, over all assets
        self.evaluated = 0
        self.out_of_order = 0  # late readings, used or not
        self.late_used = 0
        self.late_dropped = 0
        self.unknown_status = 0
        self._install(tuple(rules))
        self.register(assets)

    # --- rules and assets ---------------------------------------------------------------------------

    def _install(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        by_kind: dict[AssetKind, list[Rule]] = {kind: [] for kind in AssetKind}
        site_by_kind: dict[AssetKind, list[Rule]] = {kind: [] for kind in AssetKind}
        for rule in rules:
            for kind in rule.applies_to:
                (site_by_kind if rule.scope is Scope.SITE else by_kind)[kind].append(rule)
        self._by_kind = {kind: tuple(found) for kind, found in by_kind.items()}
        self._site_by_kind = {kind: tuple(found) for kind, found in site_by_kind.items()}

    def register(self, assets: Iterable[Asset], sites: Iterable[Site] = ()) -> None:
        """Tell the engine the assets (attributes for ``where``, report intervals for ``stale()``, and the
        members of each site for site rules) and the sites (their zones, for ``during``). Assets not
        registered are judged on first sight with no attributes and their kind's default interval; a site
        without a zone keeps the engine's ``default_zone``. Registering a site again changes its zone at once."""
        for site in sites:
            self._zones[site.id] = site_zone(site, self.default_zone)
        for known in self._tracks.values():
            known.zone = self._zones.get(known.site_id, self.default_zone)
        for asset in assets:
            self._assets[asset.id] = asset
            track = self._tracks.get(asset.id)
            if track is None:
                self._track(asset.site_id, asset.kind, asset.id)
            else:
                track.frame.interval_s = asset.report_interval_s
                self._bind(track)

    @property
    def sites(self) -> frozenset[str]:
        """The sites registered (``register``): given, or holding a registered asset. A partition registers
        only the sites it owns, so its site rules, groups (pump pairs) and silence span those."""
        return frozenset(self._zones) | frozenset(asset.site_id for asset in self._assets.values())

    def reset(self) -> None:
        """Forget every timer, window and state, keeping the rules, the registered assets and the zones: a
        snapshot restored onto it is then exactly that snapshot (``restore`` alone keeps what it does not name)."""
        assets = list(self._assets.values())
        self._assets, self._tracks, self._sites = {}, {}, {}
        self._watermark = self._newest = None
        self.register(assets)

    def retain(self, site_ids: Iterable[str]) -> None:
        """Forget every site but ``site_ids`` (moved to another partition): its assets, timers and site rules."""
        keep = set(site_ids)
        self._zones = {site: zone for site, zone in self._zones.items() if site in keep}
        self._assets = {key: asset for key, asset in self._assets.items() if asset.site_id in keep}
        self._tracks = {key: track for key, track in self._tracks.items() if track.site_id in keep}
        self._sites = {key: tracker for key, tracker in self._sites.items() if key[1].split("/")[0] in keep}

    def reload(self, rules: Iterable[Rule]) -> dict[str, int]:
        """Replace the rules without a restart: an unchanged rule (same id and definition) keeps its
        timers, windows and active state; a changed or new one starts from normal. Returns counts."""
        old = {rule.id: rule for rule in self.rules}
        self._install(tuple(rules))
        new = {rule.id: rule for rule in self.rules}
        for key, tracker in list(self._sites.items()):
            if new.get(key[0]) != tracker.rule:
                del self._sites[key]
        for track in self._tracks.values():
            self._bind(track)
        kept = sum(1 for rule_id, rule in new.items() if old.get(rule_id) == rule)
        return {"kept": kept, "changed": sum(1 for rule_id in new if rule_id in old) - kept,
                "added": len(set(new) - set(old)), "removed": len(set(old) - set(new))}

    def _track(self, site_id: str, kind: AssetKind, asset_id: str) -> _Track:
        asset = self._assets.get(asset_id)
        interval = asset.report_interval_s if asset is not None else DEFAULT_INTERVAL_S[kind]
        zone = self._zones.get(site_id, self.default_zone)
        track = self._tracks[asset_id] = _Track(site_id, kind, asset_id, interval, zone,
                                                self.allowed_lateness.total_seconds())
        self._bind(track)
        return track

    def _bind(self, track: _Track) -> None:
        asset = self._assets.get(track.asset_id)
        attributes: Mapping[str, str | float | bool] = asset.attributes if asset is not None else {}
        rules = tuple(rule for rule in self._by_kind[track.kind] if rule.applies(attributes))
        sites = []
        for rule in self._site_by_kind[track.kind]:
            if rule.applies(attributes):
                key = group_key(rule, track.site_id, attributes)
                if key is None:
                    continue  # a group rule on an asset without the grouping attribute
                tracker = self._sites.get((rule.id, key))
                if tracker is None:
                    tracker = self._sites[rule.id, key] = SiteTracker(rule, key, INITIAL)
                tracker.members.add(track.asset_id)
                sites.append(tracker)
        track.bind(rules, tuple(sites))

    # --- evaluation ---------------------------------------------------------------------------------

    def evaluate(self, reading: Reading) -> list[Firing]:
        """The transitions this reading causes, in rule order (site rules last)."""
        track = self._tracks.get(reading.asset_id)
        if track is None:
            track = self._track(reading.site_id, reading.kind, reading.asset_id)
        at = reading.at
        last = track.last_at
        if last is not None and at < last:
            return self._late(track, reading, last)
        self.evaluated += 1
        track.last_at = at
        if self._newest is None or at > self._newest:
            self._newest = at
        frame = track.frame
        metrics = reading.metrics
        frame.update(metrics)
        if frame.get(DEVICE_ONLINE) is False:
            frame[DEVICE_ONLINE] = True  # a reading proves the device is connected
        frame.at_s = frame.last_s = at_s = at.timestamp()
        track.times.add(at_s, 0.0)
        for key, window in track.feeds:
            value = metrics.get(key)
            if value is not None:
                window.add(at_s, float(value))
        for window, condition in track.counts:
            holds = condition(frame)
            if holds is not None:
                window.add(at_s, 1.0 if holds else 0.0)
        states, zone = track.states, track.zone
        fired: list[Firing] = []
        for index, rule, condition, during in track.plan:
            state = states[index]
            # Fast path: a rule at rest whose condition does not hold (or is unknown) stays at rest.
            if state is INITIAL and (not condition(frame) or (during is not None and not during.covers(at, zone))):
                continue
            new, transition = advance(rule, state, frame, at, zone)
            if new is not state:
                states[index] = new
                if transition is not None:
                    fired.append((rule, reading, transition))
        for tracker in track.sites:
            if tracker.state is INITIAL and track.asset_id not in tracker.onsets and \
                    not tracker.rule.condition.evaluate(frame):
                continue
            self._observe_site(tracker, track, at, fired)
        return fired

    def _observe_site(self, tracker: SiteTracker, track: _Track, at: datetime, fired: list[Firing]) -> None:
        holds, _cleared = judge(tracker.rule, False, track.frame, at, track.zone)
        transition = tracker.observe(track.asset_id, holds, at)
        if transition is not None:
            site = Reading(track.site_id, track.kind, tracker.site_id, at, {})
            fired.append((tracker.rule, site, transition))

    def _late(self, track: _Track, reading: Reading, last: datetime) -> list[Firing]:
        """A late reading within the lateness feeds the windows and revises the timers it falls into
        (``rules.lateness``); rules reading windows are judged again at the asset's newest time."""
        self.out_of_order += 1
        if reading.at < last - self.allowed_lateness:
            self.late_dropped += 1
            return []
        self.late_used += 1
        at_s = reading.at.timestamp()
        fed = bool(track.counts)
        for key, window in track.feeds:
            value = reading.metrics.get(key)
            if value is not None:
                window.add(at_s, float(value))
                fed = True
        # The late reading's own metrics over the asset's latest others, judged at its time.
        values = Frame(track.frame.interval_s)
        values.update(track.frame)
        values.update(reading.metrics)
        values.series, values.at_s, values.last_s = track.frame.series, at_s, at_s
        for window, condition in track.counts:
            holds = condition(values)
            if holds is not None:
                window.add(at_s, 1.0 if holds else 0.0)
        fired: list[Firing] = []
        self._revise_timers(track, reading, values, fired)
        track.times.add(at_s, 0.0)
        if fed:
            self._rejudge_windows(track, last, fired)
        return fired

    def _revise_timers(self, track: _Track, reading: Reading, values: Frame, fired: list[Firing]) -> None:
        late, at_s, times = reading.metrics.keys(), reading.at.timestamp(), track.times.times
        for index, rule in enumerate(track.rules):
            state = track.states[index]
            if (state.pending_since is None and state.clearing_since is None) or rule.metrics.isdisjoint(late):
                continue
            holds, cleared = judge(rule, state.active, values, reading.at, track.zone)
            new, transition = revise(rule, state, holds, cleared, at_s, times)
            if new is not state:
                track.states[index] = new
                if transition is not None:
                    synthetic = Reading(track.site_id, track.kind, track.asset_id, transition.at, {})
                    fired.append((rule, synthetic, transition))

    def _rejudge_windows(self, track: _Track, last: datetime, fired: list[Firing]) -> None:
        frame, saved = track.frame, track.frame.at_s
        frame.at_s = last.timestamp()
        reading: Reading | None = None
        for index in track.windowed:
            rule, state = track.rules[index], track.states[index]
            new, transition = advance(rule, state, frame, last, track.zone)
            if new is not state:
                track.states[index] = new
                if transition is not None:
                    reading = reading or Reading(track.site_id, track.kind, track.asset_id, last, {})
                    fired.append((rule, reading, transition))
        frame.at_s = saved

    def advance_time(self, watermark: datetime) -> list[Firing]:
        """Judge the no-data rules (``stale``, ``device_online``) of every asset at ``watermark``: event
        time up to which the stream is complete. A watermark that does not move forward does nothing;
        an asset with readings newer than the watermark is judged by those instead."""
        if self._watermark is not None and watermark <= self._watermark:
            return []
        self._watermark = watermark
        at_s = watermark.timestamp()
        fired: list[Firing] = []
        for track in self._tracks.values():
            if track.timed and (track.last_at is None or track.last_at <= watermark):
                track.frame.at_s = at_s
                self._judge_timed(track, watermark, fired)
        return fired

    def device_status(self, asset_id: str, status: str, at: datetime) -> list[Firing]:
        """The device's connection status ("online"/"offline", the MQTT last will) at ``at``."""
        track = self._tracks.get(asset_id)
        if track is None:
            asset = self._assets.get(asset_id)
            if asset is None:
                self.unknown_status += 1
                return []
            track = self._track(asset.site_id, asset.kind, asset_id)
        track.frame[DEVICE_ONLINE] = status == "online"
        if track.last_at is not None and at < track.last_at:
            at = track.last_at
        track.frame.at_s = at.timestamp()
        fired: list[Firing] = []
        self._judge_timed(track, at, fired)
        return fired

    def _judge_timed(self, track: _Track, at: datetime, fired: list[Firing]) -> None:
        reading: Reading | None = None
        for index in track.timed:
            rule, state = track.rules[index], track.states[index]
            new, transition = advance(rule, state, track.frame, at, track.zone)
            if new is not state:
                track.states[index] = new
                if transition is not None:
                    reading = reading or Reading(track.site_id, track.kind, track.asset_id, at, {})
                    fired.append((rule, reading, transition))

    # --- inspection ---------------------------------------------------------------------------------

    @property
    def watermark(self) -> datetime | None:
        """The last watermark given to ``advance_time``."""
        return self._watermark

    @property
    def stream_watermark(self) -> datetime | None:
        """The newest event time seen minus the allowed lateness: a watermark taken from the stream
        itself, not from a clock. Passing ``min(clock watermark, stream_watermark)`` to ``advance_time``
        keeps no-data rules quiet when the whole stream stalls (our outage, or a lagging pipeline under
        the accelerated demo clock) while still judging single silent devices."""
        return None if self._newest is None else self._newest - self.allowed_lateness

    def state(self, rule_id: str, asset_id: str) -> RuleState | None:
        """The state of a rule on an asset (or a site rule on a site id), or None if unknown."""
        tracker = self._sites.get((rule_id, asset_id))
        if tracker is not None:
            return tracker.state
        track = self._tracks.get(asset_id)
        if track is None:
            return None
        for rule, state in zip(track.rules, track.states, strict=True):
            if rule.id == rule_id:
                return replace(state, last_at=track.last_at, values=dict(track.frame))
        return None

    def holding(self, rule_id: str, key: str) -> tuple[str, ...]:
        """For a site-level rule on a site (or group) key: the assets whose condition holds now, sorted."""
        tracker = self._sites.get((rule_id, key))
        return () if tracker is None else tuple(sorted(tracker.onsets))

    def values(self, asset_id: str) -> Mapping[str, MetricValue]:
        """The latest value of each metric the asset has reported; for a site id, ``count``/``total``
        of the most recently changed site rule there."""
        track = self._tracks.get(asset_id)
        if track is not None:
            return MappingProxyType(track.frame)
        trackers = [t for (_rule, site), t in self._sites.items() if site == asset_id]
        active = [t for t in trackers if t.state.active] or trackers
        return MappingProxyType(active[0].values()) if active else _NO_VALUES

    def stats(self) -> dict[str, int]:
        return {"readings_evaluated": self.evaluated, "readings_out_of_order": self.out_of_order,
                "readings_late_used": self.late_used, "readings_late_dropped": self.late_dropped,
                "status_unknown_asset": self.unknown_status, "assets": len(self._tracks)}

    # --- checkpoints --------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Every timer, window and value as a JSON-safe dict (for checkpoints); see ``restore``."""
        assets: dict[str, Any] = {}
        for track in self._tracks.values():
            frame = track.frame
            assets[track.asset_id] = {
                "site": track.site_id, "kind": track.kind.value, "last_at": _iso(track.last_at),
                "values": dict(frame),
                "rules": {rule.id: _state_json(rule, state)
                          for rule, state in zip(track.rules, track.states, strict=True) if state != INITIAL},
                "series": {key: [window.times, window.values] for key, window in frame.series.items()
                           if window.times},
                "times": track.times.times,
            }
        sites = [{"rule": key[0], "site": key[1], **_state_json(tracker.rule, tracker.state),
                  **tracker.snapshot()} for key, tracker in self._sites.items()]
        return {"version": SNAPSHOT_VERSION, "watermark": _iso(self._watermark), "newest": _iso(self._newest),
                "assets": assets,
                "sites": sites, "counters": self.stats()}

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Continue from a ``snapshot``: states of rules whose definition changed since are dropped."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            return
        self._watermark = _time(snapshot.get("watermark"))
        self._newest = _time(snapshot.get("newest"))
        for asset_id, data in snapshot.get("assets", {}).items():
            track = self._tracks.get(asset_id) or self._track(data["site"], AssetKind(data["kind"]), asset_id)
            track.last_at = _time(data["last_at"])
            track.frame.update(data["values"])
            track.frame.last_s = track.last_at.timestamp() if track.last_at else 0.0
            for index, rule in enumerate(track.rules):
                saved = data["rules"].get(rule.id)
                if saved is not None and saved["fingerprint"] == fingerprint(rule):
                    track.states[index] = _state_from(saved)
            track.times.times = [float(t) for t in data.get("times", ())]
            track.times.values = [0.0] * len(track.times.times)
            for key, (times, values) in data["series"].items():
                window = track.frame.series.get(key)
                if window is not None:
                    window.times, window.values = [float(t) for t in times], [float(v) for v in values]
        for data in snapshot.get("sites", []):
            tracker = self._sites.get((data["rule"], data["site"]))
            if tracker is not None and data["fingerprint"] == fingerprint(tracker.rule):
                tracker.state = _state_from(data)
                tracker.restore(data)


def group_key(rule: Rule, site_id: str, attributes: Mapping[str, str | float | bool]) -> str | None:
    """Where a site rule keeps its state for an asset: the site id, or ``site/value`` of the rule's
    ``group_by`` attribute (None when the asset lacks it: it is no member)."""
    if rule.group_by is None:
        return site_id
    value = attributes.get(rule.group_by)
    if value is None or value == "":
        return None
    return f"{site_id}/{value}"


def fingerprint(rule: Rule) -> str:
    """What must be equal for a saved state to still mean the same thing."""
    clear = rule.clear_condition.source if rule.clear_condition else ""
    where = rule.where.source if rule.where else ""
    return "|".join((rule.condition.source, clear, str(rule.for_), str(rule.clear_for), str(rule.during),
                     where, rule.scope.value, f"{rule.quorum:g}", str(rule.within), rule.group_by or ""))


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _state_json(rule: Rule, state: RuleState) -> dict[str, Any]:
    return {"fingerprint": fingerprint(rule), "pending_since": _iso(state.pending_since),
            "active": state.active, "clearing_since": _iso(state.clearing_since)}


def _state_from(data: Mapping[str, Any]) -> RuleState:
    if data["pending_since"] is None and not data["active"] and data["clearing_since"] is None:
        return INITIAL
    return RuleState(pending_since=_time(data["pending_since"]), active=bool(data["active"]),
                     clearing_since=_time(data["clearing_since"]))
