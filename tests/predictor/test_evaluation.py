"""Generic evaluation: metrics against a hand-computed example, CSV errors, and `facmon predictor evaluate`."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidRequest
from facmon.cli import main
from predictor import rul_metrics
from predictor.evaluation import read_series, read_truth
from tests.predictor.rul_fleet import cut, make_fleet

# Three units: true remaining life 10, 20, 30; predicted 13, 20, 17, so d = predicted - true = 3, 0, -13.
TRUE = [10.0, 20.0, 30.0]
PREDICTED = [13.0, 20.0, 17.0]


def test_rmse_of_the_example():
    # sqrt((3^2 + 0^2 + 13^2) / 3) = sqrt(178 / 3) = sqrt(59.333...) = 7.70281...
    assert rul_metrics.rmse(TRUE, PREDICTED) == pytest.approx(7.702813, abs=1e-6)


def test_mae_of_the_example():
    # (3 + 0 + 13) / 3 = 5.333...
    assert rul_metrics.mae(TRUE, PREDICTED) == pytest.approx(16 / 3)


def test_phm08_score_of_the_example_punishes_late_more_than_early():
    # late by 3: e^(3/10) - 1 = 0.349859; exact: e^0 - 1 = 0; early by 13: e^(13/13) - 1 = e - 1 = 1.718282.
    assert rul_metrics.phm08_score(TRUE, PREDICTED) == pytest.approx(0.349859 + 1.718282, abs=1e-6)
    assert rul_metrics.phm08_score([50.0], [60.0]) > rul_metrics.phm08_score([50.0], [40.0])


def test_coverage_of_the_example_includes_both_ends():
    # 10 in [5, 15] yes; 20 in [21, 25] no; 30 in [10, 30] yes (the upper end counts): 2 of 3.
    assert rul_metrics.coverage(TRUE, [5.0, 21.0, 10.0], [15.0, 25.0, 30.0]) == pytest.approx(2 / 3)


def test_interval_metrics_scores_the_middle_column():
    quantiles = np.array([[5.0, 13.0, 15.0], [21.0, 20.0, 25.0], [10.0, 17.0, 30.0]])
    metrics = rul_metrics.interval_metrics(TRUE, quantiles)
    assert metrics["rmse"] == pytest.approx(math.sqrt(178 / 3))
    assert metrics["coverage_p10_p90"] == pytest.approx(2 / 3)


def write(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def test_rows_are_grouped_by_unit_and_sorted_by_time(tmp_path):
    path = write(tmp_path / "t.csv", [["unit", "time", "a", "b"], ["x", 2, 1, 2], ["y", 0, 5, 6], ["x", 1, 3, 4]])
    table = read_series(path)
    assert table.feature_names == ("a", "b")
    assert [u.unit for u in table.units] == ["x", "y"]
    assert table.units[0].time.tolist() == [1.0, 2.0]
    assert table.units[0].features.tolist() == [[3.0, 4.0], [1.0, 2.0]]


@pytest.mark.parametrize(("rows", "message"), [
    ([["unit", "cycle", "a"], ["x", 1, 2]], r"t\.csv:1: the header must be unit,time"),
    ([["unit", "time"], ["x", 1]], r"t\.csv:1: the header must be unit,time,<feature"),
    ([["unit", "time", "a", "a"], ["x", 1, 2, 3]], "unique"),
    ([["unit", "time", "a"], ["x", 1, 2], ["x", 2, "n/a"]], r"t\.csv:3: column 'a': 'n/a' is not a number"),
    ([["unit", "time", "a"], ["x", 1, "inf"]], r"t\.csv:2: column 'a': 'inf' is not a finite number"),
    ([["unit", "time", "a"], ["x", 1]], r"t\.csv:2: 2 cells, the header has 3"),
    ([["unit", "time", "a"]], "no data rows"),
])
def test_a_broken_series_file_names_the_file_and_line(tmp_path, rows, message):
    with pytest.raises(InvalidRequest, match=message):
        read_series(write(tmp_path / "t.csv", rows))


@pytest.mark.parametrize(("rows", "message"), [
    ([["unit", "remaining"], ["x", 3]], r"truth\.csv:1: the header must be unit,rul"),
    ([["unit", "rul"], ["x", "soon"]], r"truth\.csv:2: column 'rul': 'soon' is not a number"),
    ([["unit", "rul"], ["x", 3], ["x", 4]], r"truth\.csv:3: unit 'x' appears twice"),
    ([["unit", "rul"], ["x", -1]], "must not be negative"),
])
def test_a_broken_truth_file_names_the_file_and_line(tmp_path, rows, message):
    with pytest.raises(InvalidRequest, match=message):
        read_truth(write(tmp_path / "truth.csv", rows))


def write_benchmark(tmp_path: Path, truth_rows: list[list[object]] | None = None) -> list[str]:
    """Tiny TRAIN/TEST/TRUTH files from the synthetic fleet; TEST's columns in another order than TRAIN's."""
    header = ["unit", "time", "rising", "falling", "noise", "constant"]
    train = make_fleet(7, 8)
    test, truth = cut(make_fleet(8, 4), seed=2)
    train_rows = [[u.unit, t, *f] for u in train for t, f in zip(u.time, u.features, strict=True)]
    write(tmp_path / "TRAIN.csv", [header, *train_rows])
    order = [3, 2, 1, 0]  # constant, noise, falling, rising
    test_rows = [[u.unit, t, *f[order]] for u in test for t, f in zip(u.time, u.features, strict=True)]
    write(tmp_path / "TEST.csv", [header[:2] + [header[2 + i] for i in order], *test_rows])
    rows = truth_rows if truth_rows is not None else [[u.unit, r] for u, r in zip(test, truth, strict=True)]
    write(tmp_path / "TRUTH.csv", [["unit", "rul"], *rows])
    return ["predictor", "evaluate", "--train", str(tmp_path / "TRAIN.csv"), "--test", str(tmp_path / "TEST.csv"),
            "--truth", str(tmp_path / "TRUTH.csv"), "--seed", "3"]


def test_evaluate_prints_one_json_object_with_the_scores(tmp_path, capsys):
    assert main(write_benchmark(tmp_path)) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("rmse", "mae", "phm08", "coverage_p10_p90", "fit_s", "predict_s"):
        assert isinstance(report[key], float)
    assert report["n_train_units"] == 8
    assert report["n_test_units"] == 4
    assert report["features"] == ["rising", "falling", "noise"]
    assert report["model"]["random_state"] == 3
    assert 0.0 <= report["coverage_p10_p90"] <= 1.0


def test_evaluate_refuses_truth_for_an_unknown_unit_with_status_2(tmp_path, capsys):
    argv = write_benchmark(tmp_path, truth_rows=[["nobody", 5]])
    assert main(argv) == 2
    assert "TRUTH.csv: units not in TEST: nobody" in capsys.readouterr().err


def test_evaluate_refuses_a_non_numeric_cell_with_status_2(tmp_path, capsys):
    argv = write_benchmark(tmp_path)
    with (tmp_path / "TEST.csv").open("a", encoding="utf-8") as file:
        file.write("u8-0,999,1,2,x,4\n")
    assert main(argv) == 2
    assert "TEST.csv:" in capsys.readouterr().err
