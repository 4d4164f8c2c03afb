"""Fault scenarios: which fault hits which asset (or site), when, and for how long, in clock time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from core.catalogue import CATALOGUE
from core.configfile import load_yaml, read_config_file
from core.domain import Asset, AssetKind
from core.errors import ConfigError
from simulators.portfolio import Portfolio

# The demo runs the demo scenario from this simulated instant: a Monday, 17:00 in Asia/Shanghai (the
# default portfolio's zone; 09:00 UTC), so that lighting switches on at 18:00 local time and the faults of
# the first evening and night hit lit circuits and busy lifts.
DEMO_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Each fault and the kind of asset it applies to (None: any kind).
FAULT_KINDS: dict[str, AssetKind | None] = {
    "pump_bearing": AssetKind.PUMP,
    "burst_pipe": AssetKind.PUMP,
    "entrapment": AssetKind.ELEVATOR,
    "door_fault": AssetKind.ELEVATOR,
    "circuit_failure": AssetKind.LIGHTING,
    "driver_overtemp": AssetKind.LIGHTING,
    "dry_running": AssetKind.PUMP,
    "cavitation": AssetKind.PUMP,
    "motor_overcurrent": AssetKind.ELEVATOR,
    "leveling_fault": AssetKind.ELEVATOR,
    "out_of_service": AssetKind.ELEVATOR,
    "lights_stuck_on": AssetKind.LIGHTING,
    "lights_stuck_off": AssetKind.LIGHTING,
    "power_cut": None,
    "offline": None,
    # Sensor faults (need `metric`): the reported value freezes, gets noisier (`sigma`) or drifts (`per_hour`).
    "sensor_stuck": None,
    "sensor_noisy": None,
    "sensor_drift": None,
    # Transport faults: the device's clock runs `offset` off, it sends each report twice, swaps consecutive
    # reports, or sends malformed payloads instead of its reports.
    "clock_skew": None,
    "duplicate": None,
    "out_of_order": None,
    "malformed": None,
}
SENSOR_FAULTS = frozenset({"sensor_stuck", "sensor_noisy", "sensor_drift"})
# The parameter each fault needs, beyond its target and times.
FAULT_PARAMS: dict[str, tuple[str, ...]] = {
    "sensor_stuck": ("metric",),
    "sensor_noisy": ("metric", "sigma"),
    "sensor_drift": ("metric", "per_hour"),
    "clock_skew": ("offset",),
}
# Faults that may name a whole site instead of one asset.
SITE_FAULTS = frozenset({"power_cut", "offline", "clock_skew", "duplicate", "out_of_order", "malformed"})

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PARAM_KEYS = frozenset({"metric", "sigma", "per_hour", "offset"})
_ENTRY_KEYS = frozenset({"fault", "asset", "site", "at", "for"}) | _PARAM_KEYS
_SCENARIO_KEYS = frozenset({"faults", "description", "raises", "start", "duration"})


@dataclass(frozen=True, slots=True)
class Fault:
    """``name`` hits ``target`` from ``start`` after the run start, for ``duration`` or, if None, until the
    run ends (nothing repairs it). ``target`` is an asset id; for the SITE_FAULTS it may be a site id,
    which hits every asset of that site."""

    name: str
    target: str
    start: timedelta
    duration: timedelta | None = None
    metric: str | None = None  # sensor faults: which metric's sensor
    magnitude: float = 0.0  # sensor_noisy: sigma; sensor_drift: units per hour; clock_skew: seconds

    def __post_init__(self) -> None:
        if self.name not in FAULT_KINDS:
            raise ConfigError(f"unknown fault {self.name!r}; known: {', '.join(FAULT_KINDS)}")
        if self.name in SENSOR_FAULTS and not self.metric:
            raise ConfigError(f"fault {self.name!r} needs a 'metric'")
        if self.start < timedelta(0) or (self.duration is not None and self.duration <= timedelta(0)):
            raise ConfigError(f"fault {self.name!r} needs a start >= 0 and a positive duration")

    def applies_to(self, asset: Asset) -> bool:
        return asset.id == self.target or (self.name in SITE_FAULTS and asset.site_id == self.target)

    def elapsed_s(self, since_start: timedelta) -> float | None:
        """Seconds into this fault at ``since_start`` into the run, or None when it is not active."""
        into = since_start - self.start
        if into < timedelta(0) or (self.duration is not None and into >= self.duration):
            return None
        return into.total_seconds()


@dataclass(frozen=True, slots=True)
class Scenario:
    """Faults in clock time. ``description``, ``raises`` (the alarm rule ids it must raise), ``start`` (the
    instant it is meant to start at, e.g. an evening for lighting faults) and ``duration`` (how long to run it)
    document a shipped scenario; they do not change what the faults do."""

    faults: Sequence[Fault] = ()
    description: str = ""
    raises: tuple[str, ...] = ()
    start: datetime | None = None
    duration: timedelta | None = None

    def active_faults(self, asset: Asset, since_start: timedelta) -> list[tuple[Fault, float]]:
        """The faults (with their parameters) on ``asset`` at ``since_start``, with seconds since each started."""
        return [(fault, elapsed) for fault in self.faults
                if fault.applies_to(asset) and (elapsed := fault.elapsed_s(since_start)) is not None]

    def active(self, asset: Asset, since_start: timedelta) -> dict[str, float]:
        """The faults on ``asset`` at ``since_start`` into the run: name -> seconds since it started."""
        active: dict[str, float] = {}
        for fault in self.faults:
            if fault.applies_to(asset) and (elapsed := fault.elapsed_s(since_start)) is not None:
                active[fault.name] = max(elapsed, active.get(fault.name, elapsed))
        return active

    def check(self, portfolio: Portfolio) -> None:
        """Raise ConfigError if a fault's target is not in ``portfolio`` (or is ambiguous), or is an asset
        of the wrong kind."""
        assets = {asset.id: asset for asset in portfolio.assets}
        sites = {site.id for site in portfolio.sites}
        for fault in self.faults:
            if fault.name in SITE_FAULTS and fault.target in sites:
                if fault.target in assets:
                    raise ConfigError(f"fault {fault.name!r}: {fault.target!r} is both a site and an asset")
                continue
            asset = assets.get(fault.target)
            if asset is None:
                what = "asset or site" if fault.name in SITE_FAULTS else "asset"
                raise ConfigError(f"fault {fault.name!r} names unknown {what} {fault.target!r}")
            kind = FAULT_KINDS[fault.name]
            if kind is not None and asset.kind is not kind:
                raise ConfigError(f"fault {fault.name!r} applies to {kind} assets, but {asset.id!r} is a {asset.kind}")
            if fault.metric is not None and fault.metric not in CATALOGUE[asset.kind]:
                raise ConfigError(f"fault {fault.name!r}: {asset.kind} assets have no metric {fault.metric!r}")


def parse_duration(value: Any) -> timedelta:
    """``90s``, ``10m``, ``2h``, ``1d``, ``1h30m`` or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip()
    if not text or _DURATION.sub("", text):
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 10m, 2h, 1d)")
    return timedelta(seconds=sum(float(number) * _UNIT_S[unit] for number, unit in _DURATION.findall(text)))


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario YAML file; raises ConfigError naming the file and the offending entry."""
    text = read_config_file(path, "scenario")
    return parse_scenario(text, str(path))


def demo_scenario() -> Scenario:
    """The demo's faults, all within the first 16 simulated hours from DEMO_START."""
    text = resources.files("simulators.scenarios").joinpath("demo.yaml").read_text(encoding="utf-8")
    return parse_scenario(text, "simulators/scenarios/demo.yaml")


def parse_scenario(text: str, source: str) -> Scenario:
    """The scenario in YAML ``text``: ``faults: [{fault, asset | site, at, for?}, ...]``."""
    data = load_yaml(text, source)
    if data is None:
        return Scenario()
    if not isinstance(data, dict) or set(data) - _SCENARIO_KEYS or not isinstance(data.get("faults", []), list):
        raise ConfigError(f"{source}: a scenario is a mapping with a list 'faults' (and optionally "
                          "'description', 'raises', 'start', 'duration')")
    faults = tuple(_fault(entry, f"{source}: faults[{index}]") for index, entry in enumerate(data.get("faults") or []))
    raises = data.get("raises") or []
    if not isinstance(raises, list) or not all(isinstance(rule, str) for rule in raises):
        raise ConfigError(f"{source}: 'raises' must be a list of rule ids")
    try:
        start = None if data.get("start") is None else _instant(data["start"])
        duration = None if data.get("duration") is None else parse_duration(data["duration"])
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    return Scenario(faults, str(data.get("description") or "").strip(), tuple(raises), start, duration)


def _instant(value: Any) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError(f"'start' needs a time zone: {value!r}")
    return at.astimezone(UTC)


def shipped_scenarios() -> dict[str, Scenario]:
    """The scenarios shipped in simulators/scenarios/ by name (file stem), the demo included."""
    folder = resources.files("simulators.scenarios")
    return {entry.name.removesuffix(".yaml"): parse_scenario(entry.read_text(encoding="utf-8"),
                                                             f"simulators/scenarios/{entry.name}")
            for entry in sorted(folder.iterdir(), key=lambda e: e.name) if entry.name.endswith(".yaml")}


def _fault(entry: Any, where: str) -> Fault:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a mapping like {{fault: burst_pipe, asset: ID, at: 2h, for: 1h}}")
    unknown = sorted(str(key) for key in entry if key not in _ENTRY_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ENTRY_KEYS))}")
    if "fault" not in entry or "at" not in entry:
        raise ConfigError(f"{where}: needs 'fault' and 'at'")
    targets = [key for key in ("asset", "site") if key in entry]
    if len(targets) != 1:
        raise ConfigError(f"{where}: needs exactly one of 'asset' or 'site'")
    name = str(entry["fault"])
    if targets == ["site"] and name not in SITE_FAULTS:
        raise ConfigError(f"{where}: {name!r} hits one asset; only {', '.join(sorted(SITE_FAULTS))} take a site")
    missing = [key for key in FAULT_PARAMS.get(name, ()) if key not in entry]
    if missing:
        raise ConfigError(f"{where}: {name!r} needs {', '.join(missing)}")
    try:
        start = parse_duration(entry["at"])
        duration = None if entry.get("for") is None else parse_duration(entry["for"])
        return Fault(name, str(entry[targets[0]]), start, duration, _metric(entry), _magnitude(entry))
    except (ValueError, ConfigError) as error:
        raise ConfigError(f"{where}: {error}") from None


def _metric(entry: dict[str, Any]) -> str | None:
    return None if entry.get("metric") is None else str(entry["metric"])


def _magnitude(entry: dict[str, Any]) -> float:
    if "offset" in entry:  # clock_skew: a signed duration, e.g. -90s or 2h
        offset = entry["offset"]
        if not isinstance(offset, str):
            return parse_duration(offset).total_seconds()
        sign = -1.0 if offset.strip().startswith("-") else 1.0
        return sign * parse_duration(offset.strip().lstrip("+-")).total_seconds()
    for key in ("sigma", "per_hour"):
        if key in entry:
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"'{key}' must be a number, got {value!r}")
            return float(value)
    return 0.0
