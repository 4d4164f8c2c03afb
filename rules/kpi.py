"""ISA-18.2 alarm-system performance figures and chatter detection, pure, from the alarm history.

Figures over a period [since, until), cut into 10-minute intervals aligned to the epoch:
- ``per_10min_avg`` / ``per_10min_max``: annunciations (raises and re-raises) per interval; ISA-18.2
  calls ~1 per 10 minutes "very likely acceptable" and ~2 "maximum manageable";
- ``flood_minutes`` / ``flood_share``: time in intervals with more than 10 annunciations;
- ``top10_share``: the share of annunciations from the 10 most frequent sources (rule, asset);
  ISA-18.2's target is below 1-5 %;
- ``priority_mix``: the share per severity (target about 5 % critical, 15 % high, 80 % medium/low).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.domain import Severity

INTERVAL = timedelta(minutes=10)
FLOOD_ABOVE = 10  # more than 10 alarms in 10 minutes is a flood
ACCEPTABLE_PER_10MIN = 1.0
MANAGEABLE_PER_10MIN = 2.0
CHATTER_TOGGLES = 3
CHATTER_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Annunciation:
    """One time an alarm went active (raised, or raised again after returning to normal)."""

    at: datetime
    rule_id: str
    asset_id: str
    severity: Severity


def is_chattering(toggles: Sequence[datetime], at: datetime, count: int = CHATTER_TOGGLES,
                  window: timedelta = CHATTER_WINDOW) -> bool:
    """True if ``count`` or more of the toggle times (raise or clear) fall in the ``window`` ending at ``at``."""
    return sum(1 for t in toggles if at - window < t <= at) >= count


def performance(annunciations: Iterable[Annunciation], since: datetime, until: datetime,
                chattering: int = 0) -> dict[str, Any]:
    """The ISA-18.2 figures of the annunciations in [since, until) (others are ignored)."""
    if until <= since:
        raise ValueError("until must be after since")
    within = [a for a in annunciations if since <= a.at < until]
    step = INTERVAL.total_seconds()
    first = int(since.timestamp() // step)
    last = int((until.timestamp() - 1e-6) // step)
    buckets = Counter(int(a.at.timestamp() // step) for a in within)
    intervals = last - first + 1
    flooded = [b for b, n in buckets.items() if n > FLOOD_ABOVE]
    flood_s = sum(_overlap(b, step, since, until) for b in flooded)
    period_s = (until - since).total_seconds()
    sources = Counter((a.rule_id, a.asset_id) for a in within)
    top = sources.most_common(10)
    total = len(within)
    severities = Counter(a.severity for a in within)
    average = total / (period_s / step)
    return {
        "since": since.isoformat(), "until": until.isoformat(), "alarms": total, "intervals": intervals,
        "per_10min_avg": round(average, 3), "per_10min_max": max(buckets.values(), default=0),
        "flood_minutes": round(flood_s / 60, 3), "flood_share": round(flood_s / period_s, 4),
        "top10_share": round(sum(n for _key, n in top) / total, 4) if total else 0.0,
        "top10": [{"rule_id": rule, "asset_id": asset, "alarms": n} for (rule, asset), n in top],
        "priority_mix": {s.value: round(severities[s] / total, 4) if total else 0.0 for s in Severity},
        "chattering": chattering,
        "rating": _rating(average),
    }


def _overlap(bucket: int, step: float, since: datetime, until: datetime) -> float:
    start, end = bucket * step, (bucket + 1) * step
    return max(0.0, min(end, until.timestamp()) - max(start, since.timestamp()))


def _rating(per_10min: float) -> str:
    if per_10min <= ACCEPTABLE_PER_10MIN:
        return "acceptable"
    return "manageable" if per_10min <= MANAGEABLE_PER_10MIN else "overloaded"
