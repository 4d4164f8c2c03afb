"""A fast daily fleet simulator (numpy, one vectorised state per asset kind) for maintenance-policy benchmarks.

The wear physics follow the minute-step device models, aggregated to one day:

- pump (simulators/pump.py): bearing wear grows per run hour, faster off the best-efficiency flow
  (``1 + 1.5 * stress``); vibration and bearing temperature grow with wear squared and steeply past the knee
  (0.8) to wear-out at 1.0;
- elevator (simulators/elevator.py): the door operator wears per door cycle, ``door_close_s = base + wear``
  seconds per 100,000 cycles, worn out at 8 s;
- lighting (simulators/lighting.py): the LED driver wears per burn hour, doubling its rate for every 10 degC
  of driver temperature over 50 degC; the driver runs hotter as it wears.

Failure modes, drawn per asset from the seed (see docs/simulators.md, "Fleet simulator"):

(a) wear-out when wear reaches 1.0;
(b) random defects (seal, door roller, driver capacitor) that start at Poisson times and progress over a
    P-F interval of days to weeks, showing in the indicators as ``progress**2`` of the way to the fault level;
    the asset fails when progress reaches 1;
(c) sudden failures with no warning (Poisson, a few per cent of all failures): no policy can prevent them.

Every random draw comes from the seed and the asset (arrival processes drawn up front) or from the seed and
the day (daily noise), never from what a policy did, so every policy meets the same defects, the same sudden
failures and the same noise (common random numbers). Failure times are hidden: a policy sees only
:class:`Observation`s (noisy daily indicator means and meters, and which assets failed that day) and the
effect of its own :meth:`KindFleet.service` calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

WEAR_KNEE = 0.8  # as simulators/pump.py: past this, spalling makes vibration and heat climb steeply
MAX_INITIAL_WEAR = 0.8  # a fleet of mixed ages: wear at the start spread over [0, 0.8)
SERVICED_WEAR = 0.02  # a renewed part, run in
ARRIVALS = 12  # pre-drawn arrivals per asset of each Poisson process (far more than two years need)


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One kind's failure-mode mix and repair delay."""

    kind: str
    indicators: tuple[str, ...]
    meter: str
    defect_per_year: float  # rate of random defects (mode b)
    pf_days: tuple[float, float]  # P-F interval of a defect, uniform in this range
    sudden_per_year: float  # rate of failures with no warning (mode c)
    repair_days: int  # a failed asset is out this many days before the repair restores it


SPECS = {
    "pump": KindSpec("pump", ("vibration_mm_s", "bearing_temp_c"), "run_h", 0.25, (20.0, 60.0), 0.03, 1),
    "elevator": KindSpec("elevator", ("door_close_s", "reopen_ratio"), "door_cycles", 0.4, (14.0, 45.0), 0.04, 1),
    "lighting": KindSpec("lighting", ("driver_temp_c", "power_ratio"), "burn_h", 0.06, (14.0, 60.0), 0.02, 3),
}
KIND_NUMBER = {"pump": 1, "elevator": 2, "lighting": 3}


@dataclass(frozen=True, slots=True)
class Failure:
    asset: int
    day: int
    mode: str  # "wear_out", "defect" or "sudden"


@dataclass(frozen=True, slots=True)
class Observation:
    """What a policy sees of one kind at the end of a day: indicators (n, k), meters (n,: usage since the part
    in place at the start was renewed, then counting on), who failed today, who is down."""

    day: int
    indicators: FloatArray
    meter: FloatArray
    failed: IntArray
    down: NDArray[np.bool_]


class KindFleet:
    """All assets of one kind: their hidden state, advanced one day at a time by :meth:`step`."""

    def __init__(self, kind: str, n: int, sites: int, seed: int) -> None:
        self.spec = SPECS[kind]
        self.n = n
        self.seed = seed
        rng = np.random.default_rng([seed, KIND_NUMBER[kind]])
        self.site = np.arange(n) * sites // max(n, 1)  # assets spread evenly over the sites
        self.wear = rng.uniform(0.0, MAX_INITIAL_WEAR, n)
        self.params = _draw_params(kind, rng, n)
        self.defect_at = _arrivals(rng, n, self.spec.defect_per_year)
        self.pf = rng.uniform(*self.spec.pf_days, (n, ARRIVALS))
        self.sudden_at = _arrivals(rng, n, self.spec.sudden_per_year)
        self.defect_ptr = np.zeros(n, dtype=np.int64)
        self.sudden_ptr = np.zeros(n, dtype=np.int64)
        self.down_until = np.full(n, -1, dtype=np.int64)
        # The meter reads the usage since the part was last renewed (the maintenance records know that day), so
        # it starts where the unit's wear says: initial wear / wear per unit of usage.
        self.meter = self.wear / _wear_rate(kind, self.params, self.wear / 2)
        self.failures: list[Failure] = []

    def defect_progress(self, day: int) -> FloatArray:
        """Progress 0..1 of each asset's active defect (0: none). Hidden from policies."""
        start = self.defect_at[np.arange(self.n), self.defect_ptr]
        pf = self.pf[np.arange(self.n), self.defect_ptr]
        return np.clip((day - start) / pf, 0.0, None) * (start <= day)

    def service(self, assets: IntArray, day: int) -> None:
        """Planned maintenance done on ``day`` (before the day runs): the part renewed, an active defect removed."""
        self._renew(np.asarray(assets, dtype=np.int64), day)

    def _renew(self, assets: IntArray, day: int) -> None:
        self.wear[assets] = SERVICED_WEAR
        for arrivals, ptr in ((self.defect_at, self.defect_ptr), (self.sudden_at, self.sudden_ptr)):
            # The next defect (or sudden failure) is the first arrival after today: the same for every policy.
            ptr[assets] = np.minimum((arrivals[assets] <= day).sum(axis=1), ARRIVALS - 1)

    def step(self, day: int) -> Observation:
        """Run ``day``: wear with usage, defects progress, failures happen; return the day's observation."""
        noise = np.random.default_rng([self.seed, KIND_NUMBER[self.spec.kind], day, 7])
        up = self.down_until < day
        repaired = np.flatnonzero(self.down_until == day - 1)
        self._renew(repaired, day)
        usage = _usage(self.spec.kind, self.params, noise, self.n) * up
        self.meter += usage
        self.wear += _wear_rate(self.spec.kind, self.params, self.wear) * usage
        progress = self.defect_progress(day)
        sudden = self.sudden_at[np.arange(self.n), self.sudden_ptr] <= day
        failed = np.flatnonzero(up & ((self.wear >= 1.0) | (progress >= 1.0) | sudden))
        for asset in failed:
            mode = "sudden" if sudden[asset] else "wear_out" if self.wear[asset] >= 1.0 else "defect"
            self.failures.append(Failure(int(asset), day, mode))
        self.down_until[failed] = day + self.spec.repair_days - 1
        indicators = _indicators(self.spec.kind, self.params, self.wear, np.minimum(progress, 1.0), noise, self.n)
        return Observation(day, indicators, self.meter.copy(), failed, self.down_until >= day)


class Fleet:
    """The whole fleet: one :class:`KindFleet` per kind, independent (each kind has its own trade)."""

    def __init__(self, pumps: int, elevators: int, luminaires: int, seed: int, sites: int | None = None) -> None:
        sites = sites if sites is not None else max(1, elevators)  # one elevator per building by default
        self.sites = sites
        self.kinds = {kind: KindFleet(kind, n, sites, seed) for kind, n in
                      (("pump", pumps), ("elevator", elevators), ("lighting", luminaires)) if n > 0}


def _arrivals(rng: np.random.Generator, n: int, per_year: float) -> FloatArray:
    """Day numbers of a Poisson process per asset (cumulative exponential gaps)."""
    return np.cumsum(rng.exponential(365.0 / per_year, (n, ARRIVALS)), axis=1)


def _draw_params(kind: str, rng: np.random.Generator, n: int) -> dict[str, FloatArray]:
    """Each unit's own character, in the ranges of the device models."""
    if kind == "pump":
        return {"life_h": rng.uniform(3000, 6000, n), "hours_per_day": rng.uniform(3000, 6000, n) / 365,
                "stress": rng.uniform(0.05, 0.4, n), "v0": rng.uniform(0.8, 1.2, n),
                "temp_rise": rng.uniform(22, 30, n), "fault_v": rng.uniform(9.5, 11.5, n),
                "fault_t": rng.uniform(97, 104, n)}
    if kind == "elevator":
        base = rng.uniform(2.7, 3.1, n)
        per_1e5 = rng.uniform(0.4, 0.8, n)
        return {"base_s": base, "per_1e5": per_1e5, "cycles_to_fail": (8.0 - base) / per_1e5 * 1e5,
                "cycles_per_day": rng.uniform(80_000, 150_000, n) * 1.08 / 365}
    return {"life_h": rng.uniform(6000, 10000, n), "ambient": rng.uniform(20, 23, n),
            "rise": rng.uniform(20, 28, n), "burn_per_day": rng.uniform(4200, 4800, n) / 365,
            "overtemp": rng.uniform(96, 101, n)}


def _usage(kind: str, p: dict[str, FloatArray], noise: np.random.Generator, n: int) -> FloatArray:
    """Today's meter increment: run hours, door cycles or burn hours."""
    if kind == "pump":
        return np.asarray(np.clip(p["hours_per_day"] * noise.uniform(0.8, 1.2, n), 0.0, 24.0))
    if kind == "elevator":
        return np.asarray(p["cycles_per_day"] * noise.uniform(0.7, 1.3, n))
    return np.asarray(p["burn_per_day"] * noise.uniform(0.95, 1.05, n))


def _wear_rate(kind: str, p: dict[str, FloatArray], wear: FloatArray) -> FloatArray:
    """Wear per unit of usage."""
    if kind == "pump":
        return np.asarray((1 + 1.5 * p["stress"]) / p["life_h"])
    if kind == "elevator":
        return np.asarray(1.0 / p["cycles_to_fail"])
    temp = p["ambient"] + p["rise"] * (1 + 0.5 * wear)
    return np.asarray(2 ** ((temp - 50) / 10) / p["life_h"])  # Arrhenius: double per 10 degC over 50


def _indicators(kind: str, p: dict[str, FloatArray], wear: FloatArray, progress: FloatArray,
                noise: np.random.Generator, n: int) -> FloatArray:
    """The day's mean of each indicator (noisy); a defect moves it ``progress**2`` of the way to its fault level."""
    w = np.minimum(wear, 1.1)
    late = np.clip((w - WEAR_KNEE) / (1 - WEAR_KNEE), 0.0, None)
    d = progress**2
    if kind == "pump":
        vib = p["v0"] + 2.5 * w**2 + 0.3 * p["stress"] + 7.0 * late**2
        temp = 20 + p["temp_rise"] * 0.9 + 25 * w**2 + 45 * late**2
        vib = vib + d * np.maximum(p["fault_v"] - vib, 0) + noise.normal(0, 0.15, n)
        temp = temp + d * np.maximum(p["fault_t"] - temp, 0) + noise.normal(0, 1.0, n)
        return np.column_stack([vib, temp])
    if kind == "elevator":
        door = p["base_s"] + wear * (8.0 - p["base_s"]) + d * 6.0 + noise.normal(0, 0.05, n)
        reopen = 0.06 + 0.25 * d + noise.normal(0, 0.01, n)  # a sticking roller makes the door reopen
        return np.column_stack([door, reopen])
    normal = p["ambient"] + p["rise"] * (1 + 0.5 * w)
    temp = normal + d * np.maximum(p["overtemp"] - normal, 0) + noise.normal(0, 0.5, n)
    power = 0.985 - 0.15 * d + noise.normal(0, 0.004, n)  # LED strings dropping out as the driver fails
    return np.column_stack([temp, power])
