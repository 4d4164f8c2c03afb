"""A booster pump of a duty/standby pair: demand-following flow, a pump curve, bearing wear and heat."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from core.domain import Asset, AssetKind
from simulators.demand import RESIDENTIAL, activity
from simulators.device import (
    NO_FAULTS,
    DeviceModel,
    Faults,
    Metrics,
    age_years,
    attribute,
    initial_wear,
    jitter,
    lag,
    ramp,
)

AMBIENT_C = 20.0
BEARING_TAU_S = 15 * 60.0  # thermal time constant of the bearing housing
BEARING_FAULT_RAMP_S = 4 * 3600.0  # a failing bearing takes about four hours to reach its peak
PUMP_CURVE_K = 0.0006  # bar per (m3/h)^2: the pump curve H = H0 - k Q^2
BEST_FLOW = 28.0  # m3/h, the best-efficiency point
ROTATION_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: duty rotation counts periods from here
WEAR_KNEE = 0.8  # past this bearing wear, spalling makes vibration and heat climb steeply to failure at 1.0
_VOLTS_X_ROOT3_X_PF = math.sqrt(3) * 400 * 0.85  # three-phase 400 V, power factor 0.85


class Pump(DeviceModel):
    """Physics, per report:

    - The duty pump runs continuously; the standby pump stands still (it starts only when a burst pipe
      collapses the pressure). With ``rotate_every_d`` the pair swaps duty every so many days.
    - The operating point is where the pump curve H = H0 - k Q^2 meets the system curve H = Hs + r Q^2;
      demand (the building's activity) opens taps, lowering r, so the flow rises 16-39 m3/h.
      Discharge = suction + H. Power = hydraulic power (Q * H) / efficiency(Q) + losses; current from power.
    - Bearing wear grows with run hours, faster off the best-efficiency flow; vibration grows with wear
      squared, steeply past the knee (0.8) to failure at 1.0; bearing temperature follows load and wear
      through a 15-minute thermal lag.
    """

    kind = AssetKind.PUMP

    def __init__(self, asset: Asset, rng: random.Random) -> None:
        super().__init__(asset, rng)
        self.is_duty = asset.attributes.get("role", "duty") != "standby"
        self.usage = str(asset.attributes.get("usage", RESIDENTIAL))
        self.rated_kw = attribute(asset, "rated_kw", 7.5)
        self.suction0 = rng.uniform(1.0, 1.5)  # mains pressure at the inlet
        self.head0 = rng.uniform(4.0, 4.4)  # shut-off head in bar
        self.vibration0 = rng.uniform(0.8, 1.2)
        self.temp_rise = rng.uniform(22.0, 30.0)
        self.wear = initial_wear(asset, rng, 0.05, 0.35)  # 0 new bearing .. 1 failed
        self.life_h = rng.uniform(3000.0, 6000.0)
        self.fault_vibration = rng.uniform(9.5, 11.5)
        self.fault_temp = rng.uniform(97.0, 104.0)
        self.hours_per_year = rng.uniform(3000, 6000) if self.is_duty else 50.0
        self.starts_per_year = rng.uniform(20, 60)
        self.static_head = rng.uniform(2.5, 2.7)  # bar: the building's height above the pump (system curve Hs)
        self.conductance = rng.uniform(13.0, 14.5)  # m3/h per sqrt(bar) of the network with its taps closed
        self.best_efficiency = rng.uniform(0.66, 0.74)  # wire-to-water, at the best-efficiency flow
        rotate_d = attribute(asset, "rotate_every_d", 0.0)
        self.rotate_every = timedelta(days=rotate_d) if rotate_d > 0 else None
        self.run_hours = 0.0
        self.starts = 0.0
        self.running: bool | None = None  # None until the first step, which sets the counters by age
        self.bearing_temp: float | None = None
        self._surge = 1.0

    def on_duty(self, at: datetime) -> bool:
        """Whether this pump is the pair's duty pump at ``at``: its role, swapped every ``rotate_every_d`` days
        (counted from ROTATION_EPOCH) when the pair rotates duty to share the wear."""
        if self.rotate_every is None:
            return self.is_duty
        swapped = (at - ROTATION_EPOCH) // self.rotate_every % 2 == 1
        return self.is_duty != swapped

    def health(self) -> float:
        return self.wear

    def service(self) -> None:
        self.wear = 0.02  # new bearings, run in

    def step(self, at: datetime, dt_s: float, rng: random.Random, faults: Faults = NO_FAULTS) -> Metrics:
        mains = "power_cut" not in faults
        burst = "burst_pipe" in faults and mains
        running = mains and (self.on_duty(at) or burst)
        if self.running is None:
            years = age_years(self.asset, at)
            self.run_hours = round(years * self.hours_per_year, 1)
            self.starts = float(round(years * self.starts_per_year))
        elif running and self.running is False:
            self.starts += 1
        self.running = running
        if running:
            self.run_hours += dt_s / 3600
        demand = activity(self.usage, self.local(at))
        suction = self.suction0 - 0.3 * demand - (0.3 if burst else 0.0) + jitter(rng, 0.02)
        if not running:
            return self._standing(dt_s, rng, suction, mains)
        if "dry_running" in faults:  # the inlet tank ran dry: the impeller churns air
            return self._dry(dt_s, rng, mains)
        if burst:
            flow = 64.0 + 6.0 * demand + jitter(rng, 1.0)
            head = self.head0 - PUMP_CURVE_K * flow**2
        else:
            # More taps open = a more conductive network: the system curve flattens and the flow rises.
            resistance = 1 / (self.conductance + 33.5 * demand) ** 2
            flow, head = operating_point(self.head0, PUMP_CURVE_K, self.static_head, resistance)
            flow += jitter(rng, 0.3)
        if "cavitation" in faults:  # inlet pressure near vapour pressure: the discharge surges report to report
            suction = rng.uniform(0.1, 0.25)
            self._surge = -self._surge
            head += 0.65 * self._surge
        # Stress: running off the best-efficiency flow (~28 m3/h) loads the bearing harder.
        self.wear += dt_s / 3600 / self.life_h * (1 + 1.5 * abs(flow / 28.0 - 1))
        discharge = (0.8 + jitter(rng, 0.1)) if burst else suction + head + jitter(rng, 0.03)
        load = flow / 40.0
        hydraulic_kw = flow / 3600 * max(head, 0.0) * 100  # Q [m3/s] * dp [kPa]
        power = (hydraulic_kw / self._efficiency(flow) * (1 + 0.05 * self.wear) + 0.08 * self.rated_kw
                 + jitter(rng, 0.03))
        late = max(0.0, min(self.wear, 1.1) - WEAR_KNEE) / (1 - WEAR_KNEE)  # 0 .. ~1.7 past the knee
        vibration = self.vibration0 + 2.5 * self.wear**2 + 0.3 * abs(flow / 28.0 - 1) + 7.0 * late**2
        target_temp = AMBIENT_C + self.temp_rise * (0.6 + 0.4 * min(load, 1.0)) + 25 * self.wear**2 + 45 * late**2
        if "pump_bearing" in faults:
            progress = ramp(faults["pump_bearing"], BEARING_FAULT_RAMP_S)
            vibration += progress * (self.fault_vibration - vibration)
            target_temp += progress * (self.fault_temp - target_temp)
        self.bearing_temp = target_temp if self.bearing_temp is None else lag(
            self.bearing_temp, target_temp, dt_s, BEARING_TAU_S)
        return self._report(True, flow, discharge, suction, power, vibration + jitter(rng, 0.04),
                            self.bearing_temp + jitter(rng, 0.2), mains)

    def _efficiency(self, flow: float) -> float:
        """Wire-to-water efficiency: a parabola peaking at the best-efficiency flow (28 m3/h)."""
        return max(0.15, self.best_efficiency * (1 - ((flow - BEST_FLOW) / BEST_FLOW) ** 2))

    def _dry(self, dt_s: float, rng: random.Random, mains: bool) -> Metrics:
        suction = rng.uniform(0.05, 0.15)
        target = AMBIENT_C + self.temp_rise * 0.8
        self.bearing_temp = target if self.bearing_temp is None else lag(self.bearing_temp, target, dt_s,
                                                                         BEARING_TAU_S)
        return self._report(True, rng.uniform(0.0, 1.0), suction + rng.uniform(0.1, 0.3), suction,
                            self.rated_kw * 0.22 + jitter(rng, 0.03), self.vibration0 + 0.6 + jitter(rng, 0.1),
                            self.bearing_temp + jitter(rng, 0.2), mains)

    def _standing(self, dt_s: float, rng: random.Random, suction: float, mains: bool) -> Metrics:
        # A standing pump reads the inlet pressure on both gauges and feels its running neighbour.
        self.bearing_temp = AMBIENT_C if self.bearing_temp is None else lag(
            self.bearing_temp, AMBIENT_C, dt_s, BEARING_TAU_S)
        vibration = (0.33 if mains else 0.05) + jitter(rng, 0.01)
        return self._report(False, 0.0, suction + jitter(rng, 0.01), suction, 0.0, vibration,
                            self.bearing_temp + jitter(rng, 0.2), mains)

    def _report(self, running: bool, flow: float, discharge: float, suction: float, power_kw: float,
                vibration: float, bearing_temp: float, mains: bool) -> Metrics:
        return {
            "running": running,
            "flow_m3h": round(max(0.0, flow), 2),
            "discharge_bar": round(discharge, 3),
            "suction_bar": round(suction, 3),
            "power_kw": round(max(0.0, power_kw), 3),
            "motor_current_a": round(max(0.0, power_kw) * 1000 / _VOLTS_X_ROOT3_X_PF, 2),
            "vibration_mm_s": round(max(0.0, vibration), 3),
            "bearing_temp_c": round(bearing_temp, 2),
            "run_hours": round(self.run_hours, 4),
            "starts": self.starts,
            "mains_ok": mains,
        }


def operating_point(h0: float, k: float, static: float, resistance: float) -> tuple[float, float]:
    """Where the pump curve H = h0 - k Q^2 meets the system curve H = static + resistance Q^2: (Q, H).
    A pump that cannot lift the static head delivers nothing (Q = 0, H = h0)."""
    if h0 <= static:
        return 0.0, h0
    flow = math.sqrt((h0 - static) / (k + resistance))
    return flow, h0 - k * flow**2
