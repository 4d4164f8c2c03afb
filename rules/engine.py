"""Rule evaluation on event time: a pure step per (rule, asset) and an engine that holds the states.

A rule raises when its condition has been true on every reading of the asset for at least ``for_``
(the on-delay), measured on the readings' own timestamps, so a replay or an accelerated demo gives
the same alarms as live time. An unknown condition (a metric never reported) neither starts, resets
nor completes anything: the state waits. Readings older than the asset's newest are ignored here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from core.domain import AssetKind, MetricValue, Reading
from rules.model import Rule

_NO_VALUES: Mapping[str, MetricValue] = MappingProxyType({})


class TransitionKind(enum.StrEnum):
    RAISE = "raise"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class Transition:
    """A rule starting or stopping on an asset at event time ``at``.

    For RAISE, ``at`` is the time of the reading that completed the on-delay and ``since`` the time
    the condition first held; for CLEAR both are the time of the reading that cleared it.
    """

    kind: TransitionKind
    at: datetime
    since: datetime


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


INITIAL = RuleState()


def advance(rule: Rule, state: RuleState, values: Mapping[str, MetricValue],
            at: datetime) -> tuple[RuleState, Transition | None]:
    """The core step: judge ``rule`` on the asset's latest ``values`` at event time ``at``.

    Returns ``state`` itself when nothing changed, so a caller can skip storing it.
    """
    if state.active:
        if rule.clear_condition is None:
            holds = rule.condition.truth(values)
            cleared = None if holds is None else not holds
        else:
            cleared = rule.clear_condition.truth(values)
        if cleared:
            return replace(state, pending_since=None, active=False), Transition(TransitionKind.CLEAR, at, at)
        return state, None
    holds = rule.condition.truth(values)
    if holds is None:
        return state, None
    if not holds:
        return (state, None) if state.pending_since is None else (replace(state, pending_since=None), None)
    since = state.pending_since or at
    if at - since >= rule.for_:
        return (replace(state, pending_since=since, active=True),
                Transition(TransitionKind.RAISE, at, since))
    return (state, None) if state.pending_since is not None else (replace(state, pending_since=at), None)


def step(rule: Rule, state: RuleState, reading: Reading) -> tuple[RuleState, Transition | None]:
    """Apply one reading to one rule's state; a reading older than ``state.last_at`` changes nothing.

    The reading may carry only some metrics: they are merged over the values seen before.
    """
    if state.last_at is not None and reading.at < state.last_at:
        return state, None
    values = {**state.values, **{k: v for k, v in reading.metrics.items() if k in rule.metrics}}
    new, transition = advance(rule, state, values, reading.at)
    return replace(new, last_at=reading.at, values=values), transition


class _Track:
    """One asset's latest values and the state of each rule of its kind (same order as the rules)."""

    __slots__ = ("last_at", "rules", "states", "values")

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.last_at: datetime | None = None
        self.values: dict[str, MetricValue] = {}
        self.states: list[RuleState] = [INITIAL] * len(rules)


Firing = tuple[Rule, Reading, Transition]


class RuleEngine:
    """Holds every (rule, asset) state; ``evaluate`` feeds readings in event-time order per asset.

    Not thread-safe: one engine per consumer thread (rule state is partitioned by asset).
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        by_kind: dict[AssetKind, list[Rule]] = {kind: [] for kind in AssetKind}
        for rule in self.rules:
            for kind in rule.applies_to:
                by_kind[kind].append(rule)
        self._by_kind = {kind: tuple(rules) for kind, rules in by_kind.items()}
        self._tracks: dict[str, _Track] = {}
        self.evaluated = 0
        self.out_of_order = 0

    def evaluate(self, reading: Reading) -> list[Firing]:
        """The transitions this reading causes, in rule order; an out-of-order reading is counted only."""
        rules = self._by_kind[reading.kind]
        track = self._tracks.get(reading.asset_id)
        if track is None:
            track = self._tracks[reading.asset_id] = _Track(rules)
        at = reading.at
        if track.last_at is not None and at < track.last_at:
            self.out_of_order += 1
            return []
        self.evaluated += 1
        track.last_at = at
        values = track.values
        values.update(reading.metrics)
        states = track.states
        rules = track.rules
        fired: list[Firing] = []
        for index, rule in enumerate(rules):
            state = states[index]
            new, transition = advance(rule, state, values, at)
            if new is not state:
                states[index] = new
                if transition is not None:
                    fired.append((rule, reading, transition))
        return fired

    def state(self, rule_id: str, asset_id: str) -> RuleState | None:
        """The state of a rule on an asset, or None if the asset has not reported (for tests, the API)."""
        track = self._tracks.get(asset_id)
        if track is None:
            return None
        for rule, state in zip(track.rules, track.states, strict=True):
            if rule.id == rule_id:
                return replace(state, last_at=track.last_at, values=dict(track.values))
        return None

    def values(self, asset_id: str) -> Mapping[str, MetricValue]:
        """The latest value of each metric the asset has reported."""
        track = self._tracks.get(asset_id)
        return MappingProxyType(track.values) if track else _NO_VALUES
