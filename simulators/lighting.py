"""A switched LED lighting circuit: on by schedule, driver heat and wear, lamp and circuit failures."""

from __future__ import annotations

import math
import random
from datetime import datetime

from core.domain import Asset, AssetKind
from simulators.device import (
    NO_FAULTS,
    DeviceModel,
    Faults,
    Metrics,
    age_years,
    attribute,
    hour_of_day,
    initial_wear,
    jitter,
    lag,
)

ON_FROM_H = 18.0  # the schedule: on from 18:00 to 07:00, the site's local time
ON_UNTIL_H = 7.0
DRIVER_TAU_S = 10 * 60.0
PHOTOCELL_ON_LUX = 50.0  # control: daylight switches on below this ...
PHOTOCELL_OFF_LUX = 150.0  # ... and off above this (hysteresis, so a passing cloud does not flicker it)
POWER_FACTOR = 0.95


def is_scheduled_on(at: datetime) -> bool:
    hour = hour_of_day(at)
    return hour >= ON_FROM_H or hour < ON_UNTIL_H


class Lighting(DeviceModel):
    """Physics, per report:

    - On by schedule (18:00-07:00), or by its daylight sensor with ``control: daylight`` (a photocell with
      hysteresis: on below 50 lx, off above 150 lx); when on it draws ~its rated power (200-1500 W),
      current = P / (V * 0.95).
    - The LED driver heats towards ambient + a rise that grows with driver wear (10-minute lag);
      wear accumulates with burn hours, doubling its rate for every 10 degC over 50 degC (Arrhenius).
    - A daylight sensor reads the sun by hour (winter day, 07:30-16:30) under a passing cloud.
    """

    kind = AssetKind.LIGHTING

    def __init__(self, asset: Asset, rng: random.Random) -> None:
        super().__init__(asset, rng)
        self.rated_w = attribute(asset, "rated_w", 600.0)
        self.lamps = max(1.0, float(round(attribute(asset, "lamps", self.rated_w / 40))))
        self.ambient_c = rng.uniform(20.0, 23.0)
        self.driver_rise = rng.uniform(20.0, 28.0)
        self.wear = initial_wear(asset, rng, 0.0, 0.3)  # LED driver: 1 = failed (the circuit goes dark)
        self.life_h = rng.uniform(6000.0, 10000.0)
        self.sun_peak_lux = rng.uniform(8000.0, 30000.0)
        self.overtemp_c = rng.uniform(96.0, 101.0)  # where a failing driver's thermal runaway settles
        self.burn_per_year = rng.uniform(4200.0, 4800.0)
        self.burn_hours = -1.0  # set from the age on the first step
        self.switch_cycles = 0.0
        self.was_on: bool | None = None
        self.driver_temp = self.ambient_c
        self.photocell = asset.attributes.get("control", "schedule") == "daylight"

    def health(self) -> float:
        return self.wear

    def service(self) -> None:
        self.wear = 0.0  # driver replaced

    def step(self, at: datetime, dt_s: float, rng: random.Random, faults: Faults = NO_FAULTS) -> Metrics:
        mains = "power_cut" not in faults
        # A welded contactor keeps the circuit on; a failed photocell or timer keeps it off.
        lux = self._daylight(at, rng) if self.photocell else None
        wanted = self._photocell_on(lux) if lux is not None else is_scheduled_on(self.local(at))
        scheduled = ("lights_stuck_on" in faults or wanted) and "lights_stuck_off" not in faults
        on = mains and scheduled
        if self.burn_hours < 0:
            years = age_years(self.asset, at)
            self.burn_hours = round(years * self.burn_per_year, 1)
            self.switch_cycles = float(round(years * 365))
        elif on != self.was_on:
            self.switch_cycles += 1
        self.was_on = on
        dead = "circuit_failure" in faults or self.wear >= 1.0  # a worn-out driver fails open
        failed = on and dead
        voltage = 230.0 + jitter(rng, 1.5) if mains else 0.0
        if on:
            self.burn_hours += dt_s / 3600
            self.wear += dt_s / 3600 / self.life_h * 2 ** ((self.driver_temp - 50) / 10)
        if failed:
            power = rng.uniform(0.5, 3.0)  # an open circuit: only the control gear's trickle
        elif on:
            power = self.rated_w * 0.985 + jitter(rng, 0.004 * self.rated_w)
        else:
            power = rng.uniform(0.2, 0.8) if mains else 0.0  # drivers on standby
        target = self.ambient_c
        if on and not failed:
            overtemp = "driver_overtemp" in faults
            target = self.overtemp_c if overtemp else self.ambient_c + self.driver_rise * (1 + 0.5 * self.wear)
        self.driver_temp = lag(self.driver_temp, target, dt_s, DRIVER_TAU_S)
        return {
            "on": on,
            "power_w": round(power, 2),
            "current_a": round(power / (voltage * POWER_FACTOR), 4) if voltage else 0.0,
            "voltage_v": round(voltage, 2),
            "driver_temp_c": round(self.driver_temp + jitter(rng, 0.3), 2),
            "ambient_lux": round(self._daylight(at, rng) if lux is None else lux, 1),
            "failed_lamps": self.lamps if dead else 0.0,
            "burn_hours": round(self.burn_hours, 4),
            "switch_cycles": self.switch_cycles,
            "mains_ok": mains,
        }

    def _photocell_on(self, lux: float) -> bool:
        """A photocell with hysteresis: on below PHOTOCELL_ON_LUX, off above PHOTOCELL_OFF_LUX."""
        if lux < PHOTOCELL_ON_LUX:
            return True
        return bool(self.was_on) and lux <= PHOTOCELL_OFF_LUX

    def _daylight(self, at: datetime, rng: random.Random) -> float:
        sun = math.sin(math.pi * (hour_of_day(self.local(at)) - 7.5) / 9.0)
        return max(0.0, sun) * self.sun_peak_lux * rng.uniform(0.6, 1.0) + rng.uniform(0.0, 5.0)
