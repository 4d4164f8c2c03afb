"""Sensor faults on top of a model's report: a frozen value, extra noise, a drift (pure)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.catalogue import CATALOGUE
from core.domain import AssetKind, MetricValue
from simulators.device import Metrics
from simulators.scenario import SENSOR_FAULTS, Fault


class SensorFaults:
    """One device's sensor faults. ``apply`` changes the reported metrics only (the machine is unaffected):

    - ``sensor_stuck``: the metric keeps the value it had when the fault started;
    - ``sensor_noisy``: Gaussian noise of ``sigma`` (the fault's magnitude) is added;
    - ``sensor_drift``: the value drifts by ``per_hour`` (the magnitude) per hour since the fault started.

    Values stay inside the catalogue's plausible range (a sensor saturates). The noise comes from its own
    generator, so a sensor fault does not change the machine's random stream.
    """

    def __init__(self, kind: AssetKind, rng: random.Random) -> None:
        self.kind = kind
        self.rng = rng
        self._stuck: dict[Fault, MetricValue] = {}

    def apply(self, metrics: Metrics, active: Sequence[tuple[Fault, float]]) -> Metrics:
        sensor = [(fault, elapsed) for fault, elapsed in active if fault.name in SENSOR_FAULTS]
        for fault in set(self._stuck) - {fault for fault, _ in sensor}:
            del self._stuck[fault]  # that fault ended: a later one freezes afresh
        for fault, elapsed in sensor:
            name = fault.metric or ""
            if name in metrics:
                metrics[name] = self._faulty(fault, elapsed, metrics[name])
        return metrics

    def _faulty(self, fault: Fault, elapsed_s: float, value: MetricValue) -> MetricValue:
        if fault.name == "sensor_stuck":
            return self._stuck.setdefault(fault, value)
        if isinstance(value, bool):
            return value  # noise and drift make no sense on a flag
        if fault.name == "sensor_noisy":
            value += self.rng.gauss(0.0, fault.magnitude)
        else:
            value += fault.magnitude * elapsed_s / 3600
        low, high = CATALOGUE[self.kind][fault.metric or ""].plausible
        return round(min(high, max(low, value)), 3)
