"""Scores of remaining-useful-life predictions: RMSE, MAE, the asymmetric PHM08 score and interval coverage."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from predictor.rul_features import FloatArray


def rmse(true: ArrayLike, predicted: ArrayLike) -> float:
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    return float(np.sqrt(np.mean(d * d)))


def mae(true: ArrayLike, predicted: ArrayLike) -> float:
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    return float(np.mean(np.abs(d)))


def phm08_score(true: ArrayLike, predicted: ArrayLike) -> float:
    """The PHM08 challenge score (lower is better; 0 is perfect), summed over units, ``d = predicted - true``.

    ``exp(-d/13) - 1`` for an early prediction (d < 0) and ``exp(d/10) - 1`` for a late one: predicting
    a failure too late costs more than too early, as in maintenance.
    """
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    return float(np.sum(np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0))))


def coverage(true: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of true values inside ``[lower, upper]`` (both ends included)."""
    y = np.asarray(true, dtype=np.float64)
    return float(np.mean((np.asarray(lower) <= y) & (y <= np.asarray(upper))))


def interval_metrics(true: ArrayLike, quantiles: FloatArray) -> dict[str, float]:
    """rmse, mae, phm08 (of the middle column) and coverage of the outer columns of (m, 3) ``quantiles``."""
    return {"rmse": rmse(true, quantiles[:, 1]), "mae": mae(true, quantiles[:, 1]),
            "phm08": phm08_score(true, quantiles[:, 1]),
            "coverage_p10_p90": coverage(true, quantiles[:, 0], quantiles[:, 2])}
