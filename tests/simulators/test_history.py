"""History export: run-to-failure CSV per kind, a failure table consistent with it, deterministic for a seed."""

from __future__ import annotations

import csv
from pathlib import Path

from core.catalogue import CATALOGUE
from core.domain import AssetKind
from simulators.history import export_history


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_history_has_the_catalogue_features_and_a_consistent_failure_table(tmp_path: Path) -> None:
    summary = export_history(tmp_path, assets_per_kind=4, days=200, seed=3, step_s=6 * 3600)
    failures = {row["asset_id"]: row for row in rows(tmp_path / "failures.csv")}
    assert len(failures) == summary["assets"] == 12
    assert 0 < summary["failed"] < 12  # some run to failure within the horizon, some survive (censored)
    for kind in AssetKind:
        table = rows(tmp_path / f"{kind.value}.csv")
        assert list(table[0]) == ["asset_id", "site_id", "at", *CATALOGUE[kind], "true_wear"]
        by_asset: dict[str, list[dict[str, str]]] = {}
        for row in table:
            by_asset.setdefault(row["asset_id"], []).append(row)
        for asset_id, series in by_asset.items():
            wear = [float(row["true_wear"]) for row in series]
            assert wear == sorted(wear)  # no repair in a run-to-failure history
            failure = failures[asset_id]
            assert int(failure["rows"]) == len(series)
            if failure["failed"] == "1":
                assert failure["failure_at"] == series[-1]["at"]
                assert wear[-1] >= 1.0
            else:
                assert failure["failure_at"] == ""
                assert wear[-1] < 1.0


def test_history_condition_signals_drift_towards_failure(tmp_path: Path) -> None:
    export_history(tmp_path, assets_per_kind=6, days=365, seed=1, step_s=3600, kinds=[AssetKind.PUMP])
    failed = [row["asset_id"] for row in rows(tmp_path / "failures.csv") if row["failed"] == "1"]
    assert failed
    table = rows(tmp_path / "pump.csv")
    for asset_id in failed:
        vibration = [float(row["vibration_mm_s"]) for row in table if row["asset_id"] == asset_id]
        assert max(vibration[:24]) < 3
        assert min(vibration[-3:]) > 7


def test_same_seed_same_files_and_another_seed_other_files(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        export_history(tmp_path / name, assets_per_kind=2, days=30, seed=seed, step_s=4 * 3600)
    files = ("pump.csv", "elevator.csv", "lighting.csv", "failures.csv")
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a" / "pump.csv").read_bytes() != (tmp_path / "c" / "pump.csv").read_bytes()
