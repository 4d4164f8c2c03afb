"""Why a forecast's health and remaining life disagree, in one sentence (empty when they agree).

Health is the asset's condition now (its worst wear indicators against their limits); the remaining life
comes from the learned model or the kind's prior, which judge age and use. The two can part: a pump with
vibration near its limit but few run hours (health 21, life 15 years), or a well-kept lift whose door
operator has done most of its rated cycles (health 90, life 40 days). Shown beside both so that nobody reads
one against the other without the reason. Pure: computed at the edge from the stored forecast.
"""

from __future__ import annotations

import math

from core.domain import Forecast

LOW_HEALTH = 40.0  # below this, health says "act soon"
HIGH_HEALTH = 80.0  # at or above this, health says "fine"
LONG_LIFE_DAYS = 365.0
SHORT_LIFE_DAYS = 90.0
METER_VALUE = "meter_value"  # the forecast detail holding the usage meter when it was made (predictor sets it)


def life_note(forecast: Forecast) -> str:
    """One sentence saying why health and remaining life part, or "" when they tell the same story."""
    health, life = forecast.health, forecast.rul_days
    if life is None:
        return "no remaining-life estimate for this asset yet: its health alone describes it"
    if health <= 0.0:
        return ""  # failing now: life is 0 as well
    if health < LOW_HEALTH and life > LONG_LIFE_DAYS:
        return _worn_but_young(forecast, life)
    if health >= HIGH_HEALTH and life < SHORT_LIFE_DAYS:
        meter = forecast.details.get(METER_VALUE)
        used = (f" ({meter:,.0f} {forecast.usage_unit} on the meter)"
                if meter is not None and math.isfinite(meter) and forecast.usage_unit else "")
        return (f"health {health:.0f} sees no worn indicator; the remaining life of {life:.0f} days is "
                f"{forecast.model}'s judgement of age and use{used}")
    return ""


def _worn_but_young(forecast: Forecast, life: float) -> str:
    top = forecast.drivers[0] if forecast.drivers else None
    cause = f" ({top.text})" if top is not None else ""
    note = (f"health {forecast.health:.0f} is the condition now{cause}; the remaining life of {life:.0f} days "
            f"is {forecast.model}'s judgement of age and use, which does not see it")
    metric = (top.feature if top is not None else forecast.driver).split(".")[0]
    trend = forecast.details.get(f"trend_rul_days.{metric}")
    if trend is not None and math.isfinite(trend) and trend >= 0:
        return f"{note}; at its present trend {metric} reaches its limit in {trend:.0f} days"
    return f"{note}; inspect it rather than wait for that date"
