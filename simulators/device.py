"""The device-model contract and the small physics helpers the models share (all pure)."""

from __future__ import annotations

import hashlib
import math
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from typing import ClassVar

from core.domain import Asset, AssetKind, MetricValue

# Active faults on a device: fault name -> seconds since that fault started (for gradual faults).
Faults = Mapping[str, float]
NO_FAULTS: Faults = MappingProxyType({})

Metrics = dict[str, MetricValue]


class DeviceModel(ABC):
    """One simulated machine. ``__init__`` draws the unit's own character from ``rng``; ``step``
    advances the machine by ``dt_s`` seconds to ``at`` and returns one report's metrics.

    Models keep all randomness in the ``rng`` they are given (never the global random state), so a
    seed, a start time and a sequence of step times give the same stream every time.
    """

    kind: ClassVar[AssetKind]
    zone: tzinfo = UTC  # the site's local time: schedules, daylight and demand follow its clock

    def __init__(self, asset: Asset, rng: random.Random) -> None:  # noqa: ARG002 - subclasses draw from it
        if asset.kind is not self.kind:
            raise ValueError(f"{type(self).__name__} simulates {self.kind} assets, not {asset.kind} ({asset.id})")
        self.asset = asset

    def local(self, at: datetime) -> datetime:
        """``at`` on the site's clock (what time-of-day behaviour reads)."""
        return at.astimezone(self.zone)

    @abstractmethod
    def health(self) -> float:
        """The wear of the component that fails first: 0 new .. 1 failed (the ground truth of the history)."""

    @abstractmethod
    def service(self) -> None:
        """Completed maintenance: the serviced component is renewed (its wear reset)."""

    @property
    def failed(self) -> bool:
        return self.health() >= 1.0

    @abstractmethod
    def step(self, at: datetime, dt_s: float, rng: random.Random, faults: Faults = NO_FAULTS) -> Metrics:
        """Advance to ``at`` (``dt_s`` seconds after the previous step) and report every catalogue metric."""


def unit_rng(seed: int, asset_id: str) -> random.Random:
    """A generator for one device, seeded from (seed, asset id) by a stable hash (not ``hash()``)."""
    digest = hashlib.blake2b(f"{seed}:{asset_id}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def stable_fraction(seed: int, asset_id: str) -> float:
    """A number in [0, 1) fixed by (seed, asset id): e.g. where in its interval a device reports."""
    digest = hashlib.blake2b(f"phase:{seed}:{asset_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def jitter(rng: random.Random, sigma: float) -> float:
    """Gaussian sensor noise, truncated at three sigma so that healthy values stay in their bands."""
    return max(-3 * sigma, min(3 * sigma, rng.gauss(0.0, sigma)))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: Knuth's method for the small means of one report interval, a rounded normal beyond 30
    (long history steps), where Knuth's loop would cost a draw per event."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def lag(current: float, target: float, dt_s: float, tau_s: float) -> float:
    """First-order approach of ``current`` to ``target`` over ``dt_s`` (thermal inertia)."""
    return target + (current - target) * math.exp(-dt_s / tau_s)


def ramp(elapsed_s: float, over_s: float) -> float:
    """0 -> 1 along a smoothstep over ``over_s`` seconds: a gradual fault's progress."""
    x = min(1.0, max(0.0, elapsed_s / over_s))
    return x * x * (3 - 2 * x)


def hour_of_day(at: datetime) -> float:
    """Hours since midnight of ``at`` as given (pass a device's ``local(at)`` for its site's clock)."""
    return at.hour + at.minute / 60 + at.second / 3600


def attribute(asset: Asset, name: str, default: float) -> float:
    """A numeric attribute of ``asset`` (e.g. ``rated_kw``), or ``default``."""
    value = asset.attributes.get(name, default)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def initial_wear(asset: Asset, rng: random.Random, low: float, high: float) -> float:
    """The unit's wear at the start: the ``initial_wear`` attribute (0..1, e.g. set by the history export for a
    fleet of mixed ages) or a draw in [low, high). The draw is made either way, so the stream stays the same."""
    drawn = rng.uniform(low, high)
    return attribute(asset, "initial_wear", drawn)


def age_years(asset: Asset, at: datetime, default: float = 5.0) -> float:
    """Years in service at ``at`` (from ``installed_on``), to start the counters where an old unit would be."""
    if asset.installed_on is None:
        return default
    return max(0.0, (at.date() - asset.installed_on).days / 365.25)
