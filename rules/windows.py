"""Bounded per-(asset, series) time windows in memory, and the frame an expression is evaluated on.

A window holds the recent samples of one metric of one asset (or of one ``count(cond, w)``
condition, stored as 1.0/0.0) in time order, trimmed to the longest horizon any rule asks for and to
``MAX_SAMPLES``; nothing is ever read back from a store. Window functions judge the samples with
``at - w < t <= at`` where ``at`` is the evaluation time (the reading's time, or the watermark).
The window functions of the expression language (``avg``, ``min``, ``max``, ``delta``, ``rate``,
``count``, ``stale``) are built here as evaluators over a ``Frame``.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.domain import MetricValue

MAX_SAMPLES = 4096  # per window: bounds memory whatever a rule asks for
STALE_REPORTS = 3  # ``stale()`` without a duration: silent for more than this many report intervals


class Window:
    """The samples of one series: parallel lists of times (epoch seconds) and values."""

    __slots__ = ("horizon_s", "times", "values")

    def __init__(self, horizon_s: float) -> None:
        self.horizon_s = horizon_s
        self.times: list[float] = []
        self.values: list[float] = []

    def add(self, t: float, value: float) -> None:
        """Add a sample; a sample at the time of the newest replaces it (a duplicate), a late one is
        inserted in order."""
        times = self.times
        if not times or t > times[-1]:
            times.append(t)
            self.values.append(value)
            if len(times) > 64 and times[0] < t - self.horizon_s - self.horizon_s:
                self._trim(t)
            elif len(times) > MAX_SAMPLES:
                del times[0], self.values[0]
            return
        if t == times[-1]:
            self.values[-1] = value
            return
        index = bisect_right(times, t)
        if index and times[index - 1] == t:
            self.values[index - 1] = value
            return
        insort(times, t)
        self.values.insert(index, value)

    def _trim(self, newest: float) -> None:
        # Keep one sample older than the horizon as the baseline of delta/rate.
        cut = max(bisect_right(self.times, newest - self.horizon_s) - 1, len(self.times) - MAX_SAMPLES, 0)
        del self.times[:cut], self.values[:cut]

    def since(self, at: float, span_s: float) -> int:
        """Index of the first sample inside ``(at - span_s, at]``."""
        return bisect_right(self.times, at - span_s)

    def last_time(self) -> float | None:
        return self.times[-1] if self.times else None


class Frame(dict[str, MetricValue]):
    """An asset's latest value of each metric, plus what window functions need: the evaluation time
    ``at_s``, the time of the asset's newest reading ``last_s``, its expected report interval and its
    windows by series key."""

    __slots__ = ("at_s", "interval_s", "last_s", "series")

    def __init__(self, interval_s: float) -> None:
        super().__init__()
        self.at_s = 0.0
        self.last_s = 0.0
        self.interval_s = interval_s
        self.series: dict[str, Window] = {}


@dataclass(frozen=True, slots=True)
class SeriesNeed:
    """A window an expression reads: ``key`` is a metric name or ``count(<condition>)``; ``horizon_s``
    the longest span asked for. For a count the engine evaluates ``condition`` on every reading."""

    key: str
    horizon_s: float
    condition: object | None = None  # an expression.Evaluator for counts (untyped here: no import cycle)


# --- window functions: evaluators over a Frame (the expression compiler builds them) ---------------

FrameValue = float | bool | None
Aggregate = Callable[[Window, int], float | None]


def _mean(window: Window, first: int) -> float | None:
    values = window.values
    n = len(values) - first
    return None if n <= 0 else sum(values[first:]) / n


def _min(window: Window, first: int) -> float | None:
    return min(window.values[first:]) if first < len(window.values) else None


def _max(window: Window, first: int) -> float | None:
    return max(window.values[first:]) if first < len(window.values) else None


def _delta(window: Window, first: int) -> float | None:
    values = window.values
    return values[-1] - values[first] if len(values) - first >= 2 else None


def _rate(window: Window, first: int) -> float | None:
    values, times = window.values, window.times
    if len(values) - first < 2:
        return None
    return (values[-1] - values[first]) / (times[-1] - times[first])


def _count(window: Window, first: int) -> float | None:
    return float(sum(window.values[first:]))


AGGREGATES: dict[str, Aggregate] = {"avg": _mean, "min": _min, "max": _max, "delta": _delta, "rate": _rate,
                                    "count": _count}


def window_function(name: str, key: str, span_s: float) -> Callable[[Mapping[str, Any]], FrameValue]:
    """``name(key, span)`` over the frame's window ``key``; unknown outside the engine (no frame)."""
    aggregate = AGGREGATES[name]
    empty = 0.0 if name == "count" else None

    def evaluate(values: Mapping[str, Any]) -> FrameValue:
        if not isinstance(values, Frame):
            return None
        window = values.series.get(key)
        if window is None:
            return empty
        return aggregate(window, window.since(values.at_s, span_s))

    return evaluate


def stale_function(span_s: float | None, metric: str | None) -> Callable[[Mapping[str, Any]], FrameValue]:
    """``stale(...)``: silent for more than ``span_s`` (None: STALE_REPORTS report intervals)."""
    def evaluate(values: Mapping[str, Any]) -> FrameValue:
        if not isinstance(values, Frame):
            return None
        limit = span_s if span_s is not None else STALE_REPORTS * values.interval_s
        if metric is None:  # an asset that never reported is unknown, not stale
            return None if not values.last_s else values.at_s - values.last_s > limit
        window = values.series.get(metric)
        last = window.last_time() if window is not None else None
        return None if last is None else values.at_s - last > limit

    return evaluate
