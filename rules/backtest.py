"""Backtest: run rules over stored telemetry and report the alarms they would have raised.

The pure core (``backtest``) takes time-ordered readings; ``stored_readings`` rebuilds them from a
``TelemetryStore`` (one query per asset and metric, one day at a time) so the rules see what the live
engine saw: one reading per (asset, time) carrying every metric stored at that time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from core.catalogue import CATALOGUE, MetricType
from core.domain import Asset, MetricValue, Reading, Site
from rules.engine import RuleEngine, TransitionKind
from rules.model import DEVICE_ONLINE, Rule
from storage.telemetry import TelemetryStore

CHATTER_TOGGLES = 3  # ISA-18.2: an alarm that raises this many times ...
CHATTER_SPAN = timedelta(minutes=1)  # ... within this span chatters
TICK = timedelta(minutes=1)  # event time between watermarks (no-data rules)
CHUNK = timedelta(days=1)  # telemetry read per query


@dataclass
class BacktestReport:
    """What the rules would have raised: ``episodes`` per rule, distinct targets, chattering targets."""

    readings: int = 0
    alarms: int = 0
    cleared: int = 0
    episodes: dict[str, int] = field(default_factory=dict)
    targets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    chattering: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    late: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "readings": self.readings, "alarms": self.alarms, "cleared": self.cleared,
            "episodes": dict(sorted(self.episodes.items())),
            "assets": {rule: len(found) for rule, found in sorted(self.targets.items())},
            "chatter": {rule: sorted(found) for rule, found in sorted(self.chattering.items())},
            "late_readings": self.late,
        }


def backtest(rules: Iterable[Rule], readings: Iterable[Reading], assets: Sequence[Asset] = (),
             tick: timedelta = TICK, sites: Sequence[Site] = (), default_zone: tzinfo = UTC) -> BacktestReport:
    """Replay time-ordered ``readings`` through a fresh engine, with a watermark every ``tick``; ``sites``
    give their zones (``during``), ``default_zone`` that of the others."""
    engine = RuleEngine(rules, default_zone=default_zone)
    engine.register(assets, sites)
    report = BacktestReport()
    raises: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    next_tick: datetime | None = None
    for reading in readings:
        if next_tick is None:
            next_tick = reading.at + tick
        while reading.at >= next_tick:
            _count(report, raises, engine.advance_time(next_tick))
            next_tick += tick
        report.readings += 1
        _count(report, raises, engine.evaluate(reading))
    report.late = engine.out_of_order
    return report


def _count(report: BacktestReport, raises: dict[tuple[str, str], list[datetime]],
           firings: Iterable[tuple[Rule, Reading, Any]]) -> None:
    for rule, reading, transition in firings:
        if transition.kind is TransitionKind.CLEAR:
            report.cleared += 1
            continue
        report.alarms += 1
        report.episodes[rule.id] = report.episodes.get(rule.id, 0) + 1
        report.targets[rule.id].add(reading.asset_id)
        times = raises[rule.id, reading.asset_id]
        times.append(transition.at)
        if len(times) >= CHATTER_TOGGLES and times[-1] - times[-CHATTER_TOGGLES] <= CHATTER_SPAN:
            report.chattering[rule.id].add(reading.asset_id)


def stored_readings(store: TelemetryStore, assets: Sequence[Asset], rules: Sequence[Rule],
                    since: datetime, until: datetime) -> Iterator[Reading]:
    """The stored telemetry of ``assets`` in [since, until) as readings in time order, a day at a time;
    only the metrics the rules read are fetched."""
    start = since
    while start < until:
        end = min(start + CHUNK, until)
        chunk: list[Reading] = []
        for asset in assets:
            metrics = sorted({name for rule in rules if asset.kind in rule.applies_to
                              for name in rule.metrics} - {DEVICE_ONLINE})
            points: dict[datetime, dict[str, MetricValue]] = defaultdict(dict)
            for metric in metrics:
                spec = CATALOGUE[asset.kind].get(metric)
                flag = spec is not None and spec.type is MetricType.FLAG  # stores keep flags as 0.0/1.0
                for at, value in store.query(asset.id, metric, start, end):
                    points[at][metric] = bool(value) if flag else value
            chunk += [Reading(asset.site_id, asset.kind, asset.id, at, values) for at, values in points.items()]
        chunk.sort(key=lambda reading: (reading.at, reading.asset_id))
        yield from chunk
        start = end
