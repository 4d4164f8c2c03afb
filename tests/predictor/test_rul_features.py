"""Window features: equal to a plain loop over the trailing rows, and causal (a row never sees later rows)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from predictor.rul_features import feature_names_out, window_features

WINDOWS = (2, 3, 5)
ALPHAS = (0.5,)

series = st.integers(1, 12).flatmap(
    lambda n: arrays(np.float64, (n, 2), elements=st.floats(-1e3, 1e3, allow_nan=False)))


def by_loop(values: np.ndarray, i: int, name: str) -> float:
    """One feature of row ``i`` of column 0, computed the slow, obvious way."""
    x = values[:, 0]
    if name == "last":
        return float(x[i])
    kind, w = name.rstrip("0123456789"), int(name.lstrip("abcdefghijklmnopqrstuvwxyz"))
    window = x[max(0, i - w + 1):i + 1]
    if kind == "mean":
        return float(window.mean())
    if kind == "std":
        return float(window.std())
    rows = np.arange(window.size, dtype=np.float64)
    return 0.0 if window.size < 2 else float(np.polyfit(rows, window, 1)[0])


@settings(max_examples=60, deadline=None)
@given(series)
def test_window_statistics_match_a_plain_loop(values):
    time = np.arange(values.shape[0], dtype=np.float64)
    table = window_features(time, values, WINDOWS, ALPHAS)
    names = feature_names_out(["a", "b"], WINDOWS, ALPHAS)
    assert table.shape == (values.shape[0], len(names))
    # Running sums lose about sqrt(machine epsilon) of the data's scale in a std (E[x^2] - E[x]^2).
    tolerance = 1e-6 * max(1.0, float(np.abs(values).max()))
    for column, full in enumerate(names):
        if not full.startswith("a_") or "ewm" in full or "drift" in full:
            continue
        for i in range(values.shape[0]):
            expected = by_loop(values, i, full.removeprefix("a_"))
            assert np.isclose(table[i, column], expected, rtol=1e-6, atol=tolerance), (full, i)


@settings(max_examples=40, deadline=None)
@given(series, st.integers(1, 5))
def test_appending_rows_never_changes_earlier_rows(values, extra):
    longer = np.vstack([values, np.ones((extra, 2))])
    short = window_features(np.arange(values.shape[0], dtype=np.float64), values, WINDOWS, ALPHAS)
    long = window_features(np.arange(longer.shape[0], dtype=np.float64), longer, WINDOWS, ALPHAS)
    assert np.allclose(long[:values.shape[0]], short, rtol=1e-9, atol=1e-9)


def test_ewm_and_drift_of_a_step():
    values = np.array([[0.0], [0.0], [2.0]])
    table = window_features(np.array([0.0, 1.0, 2.0]), values, (2,), (0.5,))
    names = feature_names_out(["a"], (2,), (0.5,))
    ewm, drift, age = (table[:, names.index(n)] for n in ("a_ewm0.5", "a_drift0.5", "age"))
    assert ewm.tolist() == [0.0, 0.0, 1.0]  # 0.5 * 2 + 0.5 * 0
    assert drift.tolist() == [0.0, 0.0, 1.0 - 2.0 / 3.0]  # baseline: the mean of the rows so far (< 20)
    assert age.tolist() == [0.0, 1.0, 2.0]
