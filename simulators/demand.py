"""How busy a building is by time of day: drives elevator traffic and water demand (pure)."""

from __future__ import annotations

import math
from datetime import datetime

from simulators.device import hour_of_day

RESIDENTIAL = "residential"
OFFICE = "office"
USAGES = (RESIDENTIAL, OFFICE)


def _peak(hour: float, centre: float, width: float) -> float:
    return math.exp(-0.5 * ((hour - centre) / width) ** 2)


def activity(usage: str, at: datetime) -> float:
    """0 (empty building, night) .. 1 (rush hour). Residential: morning and evening peaks every day;
    office: arrivals, lunch and departures on weekdays, nearly idle at weekends."""
    hour, weekend = hour_of_day(at), at.weekday() >= 5
    if usage == OFFICE:
        if weekend:
            level = 0.04 + 0.10 * _peak(hour, 12.0, 3.0)
        else:
            working = 0.30 if 8.5 <= hour <= 17.5 else 0.0
            level = (0.03 + working + 0.65 * _peak(hour, 8.5, 0.7) + 0.35 * _peak(hour, 12.5, 0.6)
                     + 0.60 * _peak(hour, 17.5, 0.7))
    else:
        morning = _peak(hour, 9.0, 1.5) if weekend else _peak(hour, 7.7, 0.9)
        level = 0.06 + 0.75 * morning + 0.20 * _peak(hour, 13.0, 3.0) + 0.70 * _peak(hour, 19.0, 1.8)
    return min(1.0, level)
