"""Generic evaluation of the learned RUL model on long-format run-to-failure CSVs (public benchmarks or our own).

Formats (UTF-8, comma-separated, one header row):

* ``TRAIN.csv`` and ``TEST.csv``: ``unit,time,<feature>,<feature>...``; one row per unit and time, any
  number of numeric feature columns, rows in any order. Train units run to failure at their last row;
  test units are cut short. TEST must have the same feature columns as TRAIN (any order).
* ``TRUTH.csv``: ``unit,rul``; the remaining life of each test unit after its last row, in time units.

A broken file raises :class:`~core.errors.InvalidRequest` naming the file and line, which the CLI turns
into exit status 2.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidRequest
from predictor import rul_metrics
from predictor.rul import RulModel, UnitSeries


@dataclass(frozen=True)
class SeriesTable:
    """The units of one TRAIN or TEST file, and the names of its feature columns."""

    feature_names: tuple[str, ...]
    units: tuple[UnitSeries, ...]

    def reordered(self, names: Sequence[str], source: str) -> SeriesTable:
        """The same units with their feature columns in ``names``' order (TEST follows TRAIN)."""
        if set(names) != set(self.feature_names):
            missing, extra = sorted(set(names) - set(self.feature_names)), sorted(set(self.feature_names) - set(names))
            raise InvalidRequest(f"{source}: feature columns differ from TRAIN's (missing {missing}, extra {extra})")
        index = [self.feature_names.index(n) for n in names]
        units = tuple(UnitSeries(u.unit, u.time, u.features[:, index]) for u in self.units)
        return SeriesTable(tuple(names), units)


def read_series(path: Path) -> SeriesTable:
    """Read a TRAIN or TEST file; units in order of first appearance, each sorted by time."""
    rows = _rows(path)
    header = next(rows, None)
    if header is None or [h.strip() for h in header[1][:2]] != ["unit", "time"] or len(header[1]) < 3:
        raise InvalidRequest(f"{path}:1: the header must be unit,time,<feature columns...>")
    names = tuple(h.strip() for h in header[1][2:])
    if len(set(names)) != len(names) or "" in names:
        raise InvalidRequest(f"{path}:1: feature column names must be unique and not empty")
    columns = ("time", *names)
    grouped: dict[str, list[list[float]]] = {}
    for line, cells in rows:
        if len(cells) != len(columns) + 1:
            raise InvalidRequest(f"{path}:{line}: {len(cells)} cells, the header has {len(columns) + 1}")
        unit = cells[0].strip()
        if not unit:
            raise InvalidRequest(f"{path}:{line}: the unit is empty")
        values = [_number(path, line, column, text) for column, text in zip(columns, cells[1:], strict=True)]
        grouped.setdefault(unit, []).append(values)
    if not grouped:
        raise InvalidRequest(f"{path}: no data rows")
    units = []
    for unit, unit_rows in grouped.items():
        table = np.array(unit_rows, dtype=np.float64)
        table = table[np.argsort(table[:, 0], kind="stable")]
        units.append(UnitSeries(unit, table[:, 0], table[:, 1:]))
    return SeriesTable(names, tuple(units))


def read_truth(path: Path) -> dict[str, float]:
    """Read TRUTH.csv: the remaining life (>= 0) of each test unit."""
    rows = _rows(path)
    header = next(rows, None)
    if header is None or [h.strip() for h in header[1]] != ["unit", "rul"]:
        raise InvalidRequest(f"{path}:1: the header must be unit,rul")
    truth: dict[str, float] = {}
    for line, cells in rows:
        if len(cells) != 2:
            raise InvalidRequest(f"{path}:{line}: {len(cells)} cells, expected 2 (unit,rul)")
        unit, rul = cells[0].strip(), _number(path, line, "rul", cells[1])
        if unit in truth:
            raise InvalidRequest(f"{path}:{line}: unit {unit!r} appears twice")
        if rul < 0:
            raise InvalidRequest(f"{path}:{line}: rul must not be negative, got {rul:g}")
        truth[unit] = rul
    return truth


def evaluate(train: SeriesTable, test: SeriesTable, truth: dict[str, float], model: RulModel, *,
             truth_source: str = "TRUTH", clock: Callable[[], float] = time.perf_counter) -> dict[str, Any]:
    """Fit ``model`` on ``train``, predict ``test``'s units, score against ``truth``; the report as a dict."""
    test = test.reordered(train.feature_names, "TEST")
    _check_truth_units(test, truth, truth_source)
    began = clock()
    model.fit(train.units)
    fitted = clock()
    predicted = model.predict(test.units)
    done = clock()
    true = np.array([truth[u.unit] for u in test.units])
    capped = rul_metrics.interval_metrics(np.minimum(true, model.cap_), predicted)
    return {**rul_metrics.interval_metrics(true, predicted),
            "capped_truth": capped,
            "n_train_units": len(train.units), "n_train_rows": sum(u.time.size for u in train.units),
            "n_test_units": len(test.units),
            "features": list(model.kept_features_), "n_features_engineered": len(model.feature_names_out_),
            "fit_s": round(fitted - began, 3), "predict_s": round(done - fitted, 3),
            "model": {"name": "RulModel", **model.params(), "cap_used": model.cap_},
            "validation": model.validation_}


def evaluate_files(train_path: Path, test_path: Path, truth_path: Path, *, seed: int = 0,
                   cap: float | None = None) -> dict[str, Any]:
    """:func:`evaluate` on three CSV files, with a default :class:`RulModel`."""
    train, test, truth = read_series(train_path), read_series(test_path), read_truth(truth_path)
    model = RulModel(train.feature_names, random_state=seed, cap=cap)
    return evaluate(train, test, truth, model, truth_source=str(truth_path))


def _check_truth_units(test: SeriesTable, truth: dict[str, float], source: str) -> None:
    names = {u.unit for u in test.units}
    unknown, missing = sorted(set(truth) - names), sorted(names - set(truth))
    if unknown:
        raise InvalidRequest(f"{source}: units not in TEST: {', '.join(unknown[:10])}")
    if missing:
        raise InvalidRequest(f"{source}: no truth for TEST units: {', '.join(missing[:10])}")


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank row; an unreadable file is an InvalidRequest."""
    try:
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield reader.line_num, cells
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidRequest(f"{path}: cannot read: {error}") from error


def _number(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidRequest(f"{path}:{line}: column {column!r}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidRequest(f"{path}:{line}: column {column!r}: {text.strip()!r} is not a finite number")
    return value
