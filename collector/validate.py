"""Validation of decoded readings against the asset registry and the metric catalogue (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.catalogue import CATALOGUE, MetricType, metric_spec
from core.domain import Asset, AssetKind, Reading
from core.errors import InvalidMessage, RejectReason

# Per kind, per metric: (is a flag, lowest, highest plausible value): the check every reading goes through.
_BOUNDS: dict[AssetKind, dict[str, tuple[bool, float, float]]] = {
    kind: {name: (spec.type is MetricType.FLAG, *spec.plausible) for name, spec in specs.items()}
    for kind, specs in CATALOGUE.items()}


@dataclass(frozen=True, slots=True)
class TimeLimits:
    """How far from the receive time a reading's event time may lie."""

    late: timedelta
    future: timedelta


def validate(reading: Reading, asset: Asset | None, received_at: datetime, limits: TimeLimits) -> None:
    """Raise InvalidMessage (with its reason) unless ``reading`` is acceptable for ``asset``."""
    if asset is None:
        raise InvalidMessage(RejectReason.UNKNOWN_ASSET, f"asset {reading.asset_id!r} is not registered")
    if asset.site_id != reading.site_id or asset.kind != reading.kind:
        raise InvalidMessage(
            RejectReason.ASSET_MISMATCH,
            f"asset {asset.id!r} is a {asset.kind} at {asset.site_id!r}, "
            f"but the topic says {reading.kind} at {reading.site_id!r}",
        )
    if reading.at > received_at + limits.future:
        raise InvalidMessage(RejectReason.TOO_FAR_IN_FUTURE, f"timestamp {reading.at.isoformat()} is ahead "
                             f"of the receive time {received_at.isoformat()} by more than {limits.future}")
    if reading.at < received_at - limits.late:
        raise InvalidMessage(RejectReason.TOO_LATE, f"timestamp {reading.at.isoformat()} is older than "
                             f"the late-data limit of {limits.late}")
    bounds = _BOUNDS[reading.kind]
    for name, value in reading.metrics.items():
        flag, low, high = bounds.get(name, _UNKNOWN)
        if flag is not (type(value) is bool) or not low <= value <= high:
            _check_metric(reading, name, value)  # raises, with the reason


_UNKNOWN = (False, 1.0, 0.0)  # an empty range: sends an unknown metric to _check_metric


def _check_metric(reading: Reading, name: str, value: float | bool) -> None:
    """Raise the InvalidMessage that says why ``value`` fails the catalogue."""
    spec = metric_spec(reading.kind, name)
    if spec is None:
        raise InvalidMessage(RejectReason.UNKNOWN_METRIC, f"{reading.kind} assets have no metric {name!r}")
    if (spec.type is MetricType.FLAG) != isinstance(value, bool):
        expected = "a boolean" if spec.type is MetricType.FLAG else "a number"
        raise InvalidMessage(RejectReason.WRONG_TYPE, f"metric {name!r} must be {expected}, got {value!r}")
    if not spec.is_plausible(float(value)):
        low, high = spec.plausible
        raise InvalidMessage(RejectReason.OUT_OF_RANGE,
                             f"metric {name!r} = {value} {spec.unit} is outside [{low}, {high}]")
