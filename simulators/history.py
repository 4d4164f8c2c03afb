"""Run-to-failure histories of a simulated fleet as CSV: the ground truth for training and judging the predictor.

Pure simulation (no MQTT): each asset of a fleet of mixed ages is stepped every ``step_s`` from ``start``
until its model reports failure (health >= 1) or the horizon ends. Files written to the output directory:

- ``<kind>.csv`` (one per kind): ``asset_id,site_id,at,<catalogue metrics of the kind...>,true_wear``, one row
  per asset and time step, in asset then time order. ``true_wear`` is the model's hidden wear (0 new .. 1
  failed): ground truth for judging a health estimate, not a feature a real site would have.
- ``failures.csv``: ``asset_id,kind,site_id,usage,initial_wear,start,end,failed,failure_at,rows`` per asset;
  ``failure_at`` is empty when the asset survived the horizon (right-censored).
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from core.catalogue import CATALOGUE
from core.domain import Asset, AssetKind
from simulators.demand import OFFICE, RESIDENTIAL
from simulators.device import unit_rng
from simulators.simulation import make_device

HISTORY_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
FLEET_SITES = ("fleet-res", "fleet-office")
MAX_INITIAL_WEAR = 0.9  # the fleet's ages spread wear over [0, 0.9) at the start


@dataclass(frozen=True, slots=True)
class AssetHistory:
    asset: Asset
    initial_wear: float
    start: datetime
    end: datetime
    failure_at: datetime | None
    rows: int


def fleet(assets_per_kind: int, seed: int = 0, kinds: Sequence[AssetKind] = tuple(AssetKind)) -> list[Asset]:
    """``assets_per_kind`` assets of each kind, alternating residential and office sites, with an initial wear
    drawn per asset from (seed, asset id). Pumps are all duty pumps (a standby pump hardly wears)."""
    assets = []
    for kind in kinds:
        for number in range(assets_per_kind):
            asset_id = f"{kind.value}-{number:05d}"
            usage = (RESIDENTIAL, OFFICE)[number % 2]
            wear = round(unit_rng(seed, f"history:{asset_id}").uniform(0, MAX_INITIAL_WEAR), 4)
            interval = 300.0 if kind is AssetKind.LIGHTING else 60.0
            attributes: dict[str, Any] = {"usage": usage, "initial_wear": wear}
            if kind is AssetKind.PUMP:
                attributes["role"] = "duty"
            assets.append(Asset(asset_id, FLEET_SITES[number % 2], kind, asset_id, report_interval_s=interval,
                                attributes=attributes))
    return assets


def simulate_asset(asset: Asset, seed: int, start: datetime, until: datetime,
                   step: timedelta) -> Iterable[tuple[datetime, dict[str, Any], float]]:
    """(time, metrics, true wear) every ``step`` from ``start`` until ``until`` or the step at which it fails."""
    model, rng = make_device(asset, seed)
    at = start
    while at < until:
        at += step
        metrics = model.step(at, step.total_seconds(), rng)
        yield at, metrics, model.health()
        if model.failed:
            return


def write_asset(writer: Any, asset: Asset, seed: int, start: datetime, until: datetime, step: timedelta,
                names: Sequence[str]) -> AssetHistory:
    """Simulate one asset and write its rows; its history summary."""
    rows, last, failure_at = 0, start, None
    for at, metrics, wear in simulate_asset(asset, seed, start, until, step):
        writer.writerow([asset.id, asset.site_id, at.isoformat().replace("+00:00", "Z"),
                         *(_cell(metrics[name]) for name in names), round(wear, 5)])
        rows, last = rows + 1, at
        if wear >= 1.0:
            failure_at = at
    initial = float(asset.attributes.get("initial_wear", 0.0))
    return AssetHistory(asset, initial, start, last, failure_at, rows)


def export_history(out: Path, assets_per_kind: int, days: float, seed: int = 0, step_s: float = 3600.0,
                   kinds: Sequence[AssetKind] = tuple(AssetKind), start: datetime = HISTORY_START,
                   progress: bool = False) -> dict[str, Any]:
    """Write the fleet's histories under ``out`` (created); a summary (assets, failures, rows, files, seconds)."""
    if assets_per_kind < 1 or days <= 0 or step_s <= 0:
        raise ValueError("assets, days and step must be positive")
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    assets = fleet(assets_per_kind, seed, kinds)
    until, step = start + timedelta(days=days), timedelta(seconds=step_s)
    histories: list[AssetHistory] = []
    bar = _Progress(len(assets), sys.stderr if progress else None)
    for kind in kinds:
        names = list(CATALOGUE[kind])
        with (out / f"{kind.value}.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["asset_id", "site_id", "at", *names, "true_wear"])
            for asset in (a for a in assets if a.kind is kind):
                histories.append(write_asset(writer, asset, seed, start, until, step, names))
                bar.advance()
    bar.close()
    _write_failures(out / "failures.csv", histories)
    return {"assets": len(histories), "failed": sum(h.failure_at is not None for h in histories),
            "rows": sum(h.rows for h in histories), "days": days, "step_s": step_s, "seed": seed,
            "out": str(out), "seconds": round(time.monotonic() - began, 2)}


def _write_failures(path: Path, histories: Sequence[AssetHistory]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["asset_id", "kind", "site_id", "usage", "initial_wear", "start", "end", "failed",
                         "failure_at", "rows"])
        for h in histories:
            writer.writerow([h.asset.id, h.asset.kind.value, h.asset.site_id, h.asset.attributes.get("usage"),
                             h.initial_wear, _iso(h.start), _iso(h.end), int(h.failure_at is not None),
                             "" if h.failure_at is None else _iso(h.failure_at), h.rows])


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _cell(value: object) -> object:
    return int(value) if isinstance(value, bool) else value


class _Progress:
    """A one-line progress bar on a terminal stream (no dependency: tqdm would be the only use)."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self._shown = -1

    def advance(self) -> None:
        self.done += 1
        percent = 100 * self.done // self.total
        if self.stream is not None and percent != self._shown:
            self._shown = percent
            filled = percent // 4
            self.stream.write(f"\rhistory [{'#' * filled}{'.' * (25 - filled)}] {self.done}/{self.total} assets")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
