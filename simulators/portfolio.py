"""The simulated portfolio: sites and their assets, from a YAML file or the built-in default."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from core.configfile import load_yaml, read_config_file
from core.domain import Asset, AssetKind, Site
from core.errors import ConfigError
from core.wire import is_valid_id
from core.zones import parse_zone
from simulators.demand import RESIDENTIAL, USAGES

# Default report interval per kind, in clock seconds.
REPORT_INTERVAL_S: dict[AssetKind, float] = {AssetKind.ELEVATOR: 60.0, AssetKind.PUMP: 60.0,
                                              AssetKind.LIGHTING: 300.0}
PUMP_ROLES = ("duty", "standby")
_SITE_KEYS = frozenset({"id", "name", "address", "usage", "time_zone", "assets"})
_ASSET_KEYS = frozenset({"id", "kind", "name", "installed_on", "report_interval_s", "attributes"})


@dataclass(frozen=True, slots=True)
class Portfolio:
    sites: list[Site] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)

    def assets_of(self, site_id: str) -> list[Asset]:
        return [asset for asset in self.assets if asset.site_id == site_id]


def load_portfolio(path: Path | str) -> Portfolio:
    """Read a portfolio YAML file; raises ConfigError naming the file and the offending entry."""
    text = read_config_file(path, "portfolio")
    return parse_portfolio(text, str(path))


def default_portfolio() -> Portfolio:
    """Two sites (a residential tower and an office building): 4 elevators, 6 pumps, 20 lighting circuits."""
    text = resources.files("simulators.portfolios").joinpath("default.yaml").read_text(encoding="utf-8")
    return parse_portfolio(text, "simulators/portfolios/default.yaml")


def parse_portfolio(text: str, source: str) -> Portfolio:
    """The portfolio in YAML ``text``; ``source`` names it in errors."""
    data = load_yaml(text, source)
    if not isinstance(data, dict) or set(data) != {"sites"} or not isinstance(data["sites"], list):
        raise ConfigError(f"{source}: a portfolio is a mapping with one key 'sites' holding a list")
    sites: list[Site] = []
    assets: list[Asset] = []
    for index, entry in enumerate(data["sites"]):
        site, site_assets = _site(entry, f"{source}: sites[{index}]")
        sites.append(site)
        assets.extend(site_assets)
    _check_unique([site.id for site in sites], source, "site")
    _check_unique([asset.id for asset in assets], source, "asset")
    return Portfolio(sites, assets)


def _site(entry: Any, where: str) -> tuple[Site, list[Asset]]:
    _check_mapping(entry, where, _SITE_KEYS, required=("id", "assets"))
    site_id = _id(entry["id"], where)
    where = f"{where} (site {site_id!r})"
    usage = entry.get("usage", RESIDENTIAL)
    if usage not in USAGES:
        raise ConfigError(f"{where}: usage must be one of {', '.join(USAGES)}, not {usage!r}")
    if not isinstance(entry["assets"], list):
        raise ConfigError(f"{where}: 'assets' must be a list")
    zone = entry.get("time_zone")
    if zone is not None:
        try:
            parse_zone(str(zone))
        except ConfigError as error:
            raise ConfigError(f"{where}: time_zone: {error}") from None
    site = Site(site_id, str(entry.get("name", site_id)), str(entry.get("address", "")),
                None if zone is None else str(zone))
    return site, [_asset(item, site_id, usage, f"{where}.assets[{index}]")
                  for index, item in enumerate(entry["assets"])]


def _asset(entry: Any, site_id: str, usage: str, where: str) -> Asset:
    _check_mapping(entry, where, _ASSET_KEYS, required=("id", "kind"))
    asset_id = _id(entry["id"], where)
    where = f"{where} (asset {asset_id!r})"
    try:
        kind = AssetKind(entry["kind"])
    except ValueError:
        kinds = ", ".join(kind.value for kind in AssetKind)
        raise ConfigError(f"{where}: kind must be one of {kinds}, not {entry['kind']!r}") from None
    interval = entry.get("report_interval_s", REPORT_INTERVAL_S[kind])
    if isinstance(interval, bool) or not isinstance(interval, int | float) or not 1 <= interval <= 86400:
        raise ConfigError(f"{where}: report_interval_s must be a number of seconds in [1, 86400], not {interval!r}")
    attributes = {"usage": usage, **_attributes(entry.get("attributes", {}), where)}
    if kind is AssetKind.PUMP and attributes.get("role", "duty") not in PUMP_ROLES:
        raise ConfigError(f"{where}: a pump's role must be duty or standby, not {attributes['role']!r}")
    return Asset(asset_id, site_id, kind, str(entry.get("name", asset_id)),
                 _installed_on(entry.get("installed_on"), where), float(interval), attributes)


def _check_mapping(entry: Any, where: str, allowed: frozenset[str], required: tuple[str, ...]) -> None:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a mapping, not {entry!r}")
    unknown = sorted(str(key) for key in entry if key not in allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    missing = [key for key in required if key not in entry]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")


def _id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not is_valid_id(value):
        raise ConfigError(f"{where}: id {value!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def _installed_on(value: Any, where: str) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: installed_on must be a date YYYY-MM-DD, not {value!r}") from None


def _attributes(value: Any, where: str) -> dict[str, str | float | bool]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: attributes must be a mapping")
    attributes: dict[str, str | float | bool] = {}
    for key, item in value.items():
        if isinstance(item, bool | str):
            attributes[str(key)] = item
        elif isinstance(item, int | float):
            attributes[str(key)] = float(item)
        else:
            raise ConfigError(f"{where}: attribute {key!r} must be a string, number or boolean, not {item!r}")
    return attributes


def _check_unique(ids: list[str], source: str, what: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ConfigError(f"{source}: {what} id {value!r} is used twice")
        seen.add(value)
