"""The metric catalogue: per asset kind, each metric's unit, type and plausible range.

This is the single source for the collector's validation, the simulators' models and the console's
labels. ``plausible`` bounds what a working sensor can report at all (outside it a reading is rejected);
``normal`` is what a healthy machine shows in service (the simulators stay inside it when no fault runs).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.domain import AssetKind


class MetricType(enum.StrEnum):
    GAUGE = "gauge"  # a level that goes up and down
    COUNTER = "counter"  # a running total that only grows (until a device reset)
    FLAG = "flag"  # a boolean state


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    unit: str
    type: MetricType
    description: str
    plausible: tuple[float, float] = (0.0, 1.0)
    normal: tuple[float, float] = (0.0, 1.0)

    def is_plausible(self, value: float) -> bool:
        low, high = self.plausible
        return low <= value <= high


def _gauge(name: str, unit: str, description: str, plausible: tuple[float, float],
           normal: tuple[float, float]) -> MetricSpec:
    return MetricSpec(name, unit, MetricType.GAUGE, description, plausible, normal)


def _counter(name: str, unit: str, description: str) -> MetricSpec:
    return MetricSpec(name, unit, MetricType.COUNTER, description, (0.0, 1e12), (0.0, 1e12))


def _flag(name: str, description: str) -> MetricSpec:
    return MetricSpec(name, "", MetricType.FLAG, description, (0.0, 1.0), (0.0, 1.0))


_MAINS = _flag("mains_ok", "mains power present at the asset")

CATALOGUE: dict[AssetKind, dict[str, MetricSpec]] = {
    AssetKind.ELEVATOR: {m.name: m for m in (
        _counter("trips", "trips", "car journeys since commissioning"),
        _counter("door_cycles", "cycles", "door open/close cycles since commissioning"),
        _gauge("door_close_s", "s", "time the doors took to close on the last cycle", (0, 60), (2.0, 4.5)),
        _gauge("door_reopenings", "count", "door reopenings in the last report interval", (0, 500), (0, 3)),
        _gauge("motor_current_a", "A", "hoist motor current", (0, 400), (0, 60)),
        _gauge("car_vibration_mm_s", "mm/s", "car vibration velocity (RMS)", (0, 100), (0.2, 2.0)),
        _gauge("leveling_error_mm", "mm", "stop position error at the landing", (-200, 200), (-10, 10)),
        _gauge("floor", "floor", "current floor", (-10, 200), (-2, 40)),
        _gauge("load_kg", "kg", "car load", (0, 10000), (0, 1000)),
        _flag("occupied", "someone is in the car"),
        _flag("alarm_button", "the car's alarm button is pressed"),
        _flag("in_service", "the elevator is in normal service"),
        _MAINS,
    )},
    AssetKind.PUMP: {m.name: m for m in (
        _flag("running", "the motor is running"),
        _gauge("flow_m3h", "m3/h", "delivered flow", (0, 2000), (0, 60)),
        _gauge("discharge_bar", "bar", "discharge pressure", (-1, 40), (0, 7)),
        _gauge("suction_bar", "bar", "suction pressure", (-1, 20), (0.3, 3)),
        _gauge("power_kw", "kW", "electrical input power", (0, 1000), (0, 15)),
        _gauge("motor_current_a", "A", "motor current", (0, 2000), (0, 30)),
        _gauge("vibration_mm_s", "mm/s", "bearing housing vibration velocity (RMS, ISO 10816)",
               (0, 100), (0.3, 2.8)),
        _gauge("bearing_temp_c", "degC", "drive-end bearing temperature", (-40, 200), (15, 70)),
        _counter("run_hours", "h", "motor running hours since commissioning"),
        _counter("starts", "starts", "motor starts since commissioning"),
        _MAINS,
    )},
    AssetKind.LIGHTING: {m.name: m for m in (
        _flag("on", "the circuit is switched on"),
        _gauge("power_w", "W", "circuit power", (0, 50000), (0, 2000)),
        _gauge("current_a", "A", "circuit current", (0, 200), (0, 10)),
        _gauge("voltage_v", "V", "supply voltage", (0, 500), (0, 253)),
        _gauge("driver_temp_c", "degC", "LED driver case temperature", (-40, 200), (5, 75)),
        _gauge("ambient_lux", "lx", "daylight sensor", (0, 200000), (0, 100000)),
        _gauge("failed_lamps", "lamps", "lamps reported failed on the circuit", (0, 1000), (0, 0)),
        _counter("burn_hours", "h", "hours switched on since commissioning"),
        _counter("switch_cycles", "cycles", "on/off cycles since commissioning"),
        _MAINS,
    )},
}


def metric_spec(kind: AssetKind, name: str) -> MetricSpec | None:
    """The catalogue entry for ``name`` on assets of ``kind``, or None if the kind has no such metric."""
    return CATALOGUE[kind].get(name)
