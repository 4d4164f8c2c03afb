"""A booster pump of a duty/standby pair: demand-following flow, a pump curve, bearing wear and heat."""

from __future__ import annotations

import math
import random
from datetime import datetime

from core.domain import Asset, AssetKind
from simulators.demand import RESIDENTIAL, activity
from simulators.device import NO_FAULTS, DeviceModel, Faults, Metrics, age_years, attribute, jitter, lag, ramp

AMBIENT_C = 20.0
BEARING_TAU_S = 15 * 60.0  # thermal time constant of the bearing housing
BEARING_FAULT_RAMP_S = 4 * 3600.0  # a failing bearing takes about four hours to reach its peak
_VOLTS_X_ROOT3_X_PF = math.sqrt(3) * 400 * 0.85  # three-phase 400 V, power factor 0.85


class Pump(DeviceModel):
    """Physics, per report:

    - The duty pump runs continuously; the standby pump stands still (it starts only when a burst pipe
      collapses the pressure). Flow follows the building's demand, 16-39 m3/h.
    - Discharge = suction + pump head, and head falls with flow squared (a pump curve).
    - Bearing wear grows with run hours; vibration grows with wear squared and off-design flow, bearing
      temperature with load and wear, through a 15-minute thermal lag.
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
        self.wear = rng.uniform(0.05, 0.35)  # 0 new bearing .. 1 end of life
        self.life_h = rng.uniform(3000.0, 6000.0)
        self.fault_vibration = rng.uniform(9.5, 11.5)
        self.fault_temp = rng.uniform(97.0, 104.0)
        self.hours_per_year = rng.uniform(3000, 6000) if self.is_duty else 50.0
        self.starts_per_year = rng.uniform(20, 60)
        self.run_hours = 0.0
        self.starts = 0.0
        self.running: bool | None = None  # None until the first step, which sets the counters by age
        self.bearing_temp: float | None = None

    def step(self, at: datetime, dt_s: float, rng: random.Random, faults: Faults = NO_FAULTS) -> Metrics:
        mains = "power_cut" not in faults
        burst = "burst_pipe" in faults and mains
        running = mains and (self.is_duty or burst)
        if self.running is None:
            years = age_years(self.asset, at)
            self.run_hours = round(years * self.hours_per_year, 1)
            self.starts = float(round(years * self.starts_per_year))
        elif running and self.running is False:
            self.starts += 1
        self.running = running
        if running:
            self.run_hours += dt_s / 3600
            self.wear += dt_s / 3600 / self.life_h
        demand = activity(self.usage, at)
        suction = self.suction0 - 0.3 * demand - (0.3 if burst else 0.0) + jitter(rng, 0.02)
        if not running:
            return self._standing(dt_s, rng, suction, mains)
        flow = (64.0 + 6.0 * demand + jitter(rng, 1.0)) if burst else 16.5 + 22.0 * demand + jitter(rng, 0.3)
        head = self.head0 - 0.0006 * flow**2
        discharge = (0.8 + jitter(rng, 0.1)) if burst else suction + head + jitter(rng, 0.03)
        load = flow / 40.0
        power = self.rated_kw * (0.3 + 0.5 * load) * (1 + 0.05 * self.wear) + jitter(rng, 0.03)
        vibration = self.vibration0 + 2.5 * self.wear**2 + 0.3 * abs(flow / 28.0 - 1)
        target_temp = AMBIENT_C + self.temp_rise * (0.6 + 0.4 * min(load, 1.0)) + 25 * self.wear**2
        if "pump_bearing" in faults:
            progress = ramp(faults["pump_bearing"], BEARING_FAULT_RAMP_S)
            vibration += progress * (self.fault_vibration - vibration)
            target_temp += progress * (self.fault_temp - target_temp)
        self.bearing_temp = target_temp if self.bearing_temp is None else lag(
            self.bearing_temp, target_temp, dt_s, BEARING_TAU_S)
        return self._report(True, flow, discharge, suction, power, vibration + jitter(rng, 0.04),
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
