"""TrendToLimit: a robust linear trend of a wear indicator over time, and the time until it reaches a limit."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import HuberRegressor
from sklearn.utils.validation import check_is_fitted, validate_data

from predictor.features import Direction


class TrendToLimit(RegressorMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no type hints
    """Fit ``y = slope * t + intercept`` robustly (Huber loss) and extrapolate to ``limit``.

    ``X`` holds time in days as its (first) column; ``y`` is the indicator. The fit composes the stock
    :class:`~sklearn.linear_model.HuberRegressor`, so isolated spikes in the history (a pump starting,
    a sensor glitch) barely move the trend. Several columns are accepted, as for any linear model, but
    :meth:`time_to_limit` needs a single time column.

    Parameters
    ----------
    limit : the indicator's failure limit (``inf``: no limit, time to limit is always ``inf``).
    direction : ``"rising"`` if wear raises the indicator, ``"falling"`` if it lowers it.
    min_points : fewer samples than this make ``fit`` raise ``ValueError``.
    epsilon, alpha, max_iter : passed to ``HuberRegressor``.

    Learned attributes: ``coef_``, ``intercept_``, ``slope_`` (coefficient of the first column, per day),
    ``n_features_in_``, ``n_iter_``.
    """

    def __init__(self, limit: float = math.inf, direction: str = "rising", min_points: int = 3,
                 epsilon: float = 1.35, alpha: float = 0.0, max_iter: int = 200) -> None:
        self.limit = limit
        self.direction = direction
        self.min_points = min_points
        self.epsilon = epsilon
        self.alpha = alpha
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any) -> TrendToLimit:
        self._check_params()
        X, y = validate_data(self, X, y, y_numeric=True)
        n_samples = X.shape[0]
        if n_samples < self.min_points:
            raise ValueError(f"TrendToLimit needs at least min_points={self.min_points} samples, "
                             f"got {n_samples} sample(s)")
        # The solver fails on badly scaled data (a large offset, a tiny slope), so it fits standardized
        # copies; the coefficients are mapped back to the original units.
        x_center, x_scale = X.mean(axis=0), _nonzero(X.std(axis=0))
        y_center, y_scale = float(np.median(y)), float(_nonzero(np.atleast_1d(y.std()))[0])
        huber = HuberRegressor(epsilon=self.epsilon, alpha=self.alpha, max_iter=self.max_iter)
        huber.fit((X - x_center) / x_scale, (y - y_center) / y_scale)
        self.coef_ = (huber.coef_ * y_scale / x_scale).astype(np.float64)
        self.intercept_ = float(y_center + y_scale * huber.intercept_ - self.coef_ @ x_center)
        self.slope_ = float(self.coef_[0])
        self.n_iter_ = int(huber.n_iter_)
        return self

    def predict(self, X: Any) -> Any:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return X @ self.coef_ + self.intercept_

    def time_to_limit(self, now_days: float) -> float:
        """Days from ``now_days`` until the fitted trend reaches ``limit``.

        0 if the trend is already at or past the limit; ``inf`` if the trend does not move towards it.
        """
        check_is_fitted(self)
        if self.n_features_in_ != 1:
            raise ValueError("time_to_limit needs a model fitted on a single time column")
        sign = Direction(self.direction).sign
        gap = self.limit - (self.slope_ * now_days + self.intercept_)
        if sign * gap <= 0:
            return 0.0
        if sign * self.slope_ <= 0:
            return math.inf
        return float(gap / self.slope_)

    def _check_params(self) -> None:
        if self.direction not in (Direction.RISING.value, Direction.FALLING.value):
            raise ValueError(f"direction must be 'rising' or 'falling', got {self.direction!r}")
        if not isinstance(self.min_points, int | np.integer) or self.min_points < 2:
            raise ValueError(f"min_points must be an integer >= 2, got {self.min_points!r}")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int | float | np.number):
            raise ValueError(f"limit must be a number, got {self.limit!r}")
        if math.isnan(self.limit):
            raise ValueError("limit must not be NaN")


def _nonzero(scale: Any) -> Any:
    """``scale`` with zeros (a constant column) replaced by 1, so that dividing by it is harmless."""
    return np.where(scale > 0, scale, 1.0)
