"""The random time model of simulated operations (``facmon sim ops``): when residents call, how long people
take at each step of the loop, how an inspection item reads and how satisfied the resident is.

Pure and seeded: every draw comes from a ``random.Random`` the caller owns, and times are data (the
caller passes ``now``), so the same seed and the same sequence of calls give the same operations. The
driver that acts on these draws through the services is ``facmon/ops.py``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class OpsRates:
    """How much happens, per simulated day over the whole portfolio."""

    requests_per_day: float = 6.0  # residents' repair requests (phone, web, mobile)
    complaint_share: float = 0.12  # of the requests, the share that comes with a complaint about the service
    emergencies_per_day: float = 0.5  # alarm-born emergencies the driver raises itself (0: only real alarms)
    phone_share: float = 0.5  # of the requests, the share that comes by phone through the desk
    item_fail_rate: float = 0.02  # chance that an inspection item fails
    waiting_share: float = 0.12  # repairs that wait for parts or the resident
    cancel_share: float = 0.05  # requests withdrawn by the resident before anyone is sent
    pace: float = 1.0  # a factor on every human delay (the demo compresses them so a short run shows the loop)


@dataclass(frozen=True, slots=True)
class JobTimes:
    """The delays of one order's walk around the loop, each counted from the step before."""

    dispatch: timedelta  # the desk dispatches (auto)
    accept: timedelta  # the technician accepts
    travel: timedelta  # ... travels and arrives on site
    start: timedelta  # ... starts the repair
    repair: timedelta  # ... repairs (the labour), then completes
    wait: timedelta | None  # a pause for parts or the resident inside the repair, if any
    verify: timedelta  # the requester (or the supervisor) verifies
    follow_up: timedelta  # the desk calls back
    close: timedelta  # the desk closes
    satisfaction: int  # 1-5, the resident's answer on the follow-up call
    code_pick: float  # in [0, 1): which failure code (the driver maps it on the asset kind's list)
    cancel: bool  # the resident withdraws the request before dispatch


# Median repair minutes and the spread (sigma of the log) by priority: emergencies are released or made
# safe quickly; ordinary repairs take from half an hour to a few hours.
_REPAIR = {"emergency": (50.0, 0.5), "urgent": (80.0, 0.6), "normal": (90.0, 0.7), "planned": (120.0, 0.6)}
_TRAVEL = {"emergency": (15.0, 0.4), "urgent": (35.0, 0.5), "normal": (60.0, 0.6), "planned": (120.0, 0.6)}
_ACCEPT = {"emergency": (3.0, 0.6), "urgent": (10.0, 0.6), "normal": (20.0, 0.8), "planned": (90.0, 0.8)}
_SATISFACTION = (1, 2, 3, 4, 5)
_SATISFACTION_WEIGHTS = (0.03, 0.05, 0.12, 0.4, 0.4)


def _minutes(rng: random.Random, median: float, sigma: float) -> timedelta:
    """A log-normal duration: most near the median, a long tail of slow jobs."""
    return timedelta(minutes=median * math.exp(rng.gauss(0.0, sigma)))


def job_times(rng: random.Random, priority: str, rates: OpsRates, cancellable: bool = False) -> JobTimes:
    """One order's delays, drawn for its priority (``emergency``, ``urgent``, ``normal``, ``planned``)."""
    key = priority if priority in _REPAIR else "normal"
    waits = rng.random() < rates.waiting_share

    def draw(median: float, sigma: float) -> timedelta:
        return _minutes(rng, median * rates.pace, sigma)

    return JobTimes(
        dispatch=draw(2.0 if key == "emergency" else 10.0, 0.5),
        accept=draw(*_ACCEPT[key]),
        travel=draw(*_TRAVEL[key]),
        start=draw(5.0, 0.5),
        repair=draw(*_REPAIR[key]),
        wait=draw(240.0, 0.7) if waits else None,
        verify=draw(120.0, 0.8),
        follow_up=draw(600.0, 0.6),
        close=draw(15.0, 0.5),
        satisfaction=rng.choices(_SATISFACTION, _SATISFACTION_WEIGHTS)[0],
        code_pick=rng.random(),
        cancel=cancellable and rng.random() < rates.cancel_share,
    )


def next_arrival(rng: random.Random, per_day: float, after: datetime, daytime: bool = True) -> datetime | None:
    """The next event of a Poisson stream at ``per_day`` after ``after`` (None: the stream is off). With
    ``daytime`` residents call mostly 07:00-22:00 (UTC, the simulated sites' local time): a night draw is
    kept one time in five. Drawn one after the other from its own generator, the stream does not depend on
    how often the driver looks."""
    if per_day <= 0:
        return None
    rate_per_s = per_day / 86400 / (0.7 if daytime else 1.0)  # make up for the thinned nights
    at = after
    while True:
        at += timedelta(seconds=rng.expovariate(rate_per_s))
        if not daytime or 7 <= at.hour < 22 or rng.random() < 0.2:
            return at


def step_done_after(rng: random.Random, within: timedelta, pace: float = 1.0) -> timedelta:
    """When an emergency plan step is checked off, from the plan's start: mostly inside its limit, a few late."""
    return within * rng.uniform(0.3, 1.15) * min(pace, 1.0)


def reading(rng: random.Random, minimum: float | None, maximum: float | None, fail: bool) -> float:
    """A measurement inside [minimum, maximum], or just outside it when ``fail``."""
    low = minimum if minimum is not None else (maximum or 0.0) - 10.0
    high = maximum if maximum is not None else low + 10.0
    span = max(high - low, 1.0)
    if not fail:
        return round(rng.uniform(low + 0.1 * span, high - 0.1 * span), 2)
    off = rng.uniform(0.05, 0.3) * span
    return round(high + off if maximum is not None else low - off, 2)


def pick(rng: random.Random, options: list[str] | tuple[str, ...]) -> str:
    """One of ``options`` (a seeded choice, so runs repeat)."""
    return options[rng.randrange(len(options))]
