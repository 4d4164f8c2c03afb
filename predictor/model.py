"""TrendToLimit: a robust linear trend of a wear indicator over time, and the time until it reaches a limit."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
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

    The fit cannot fail on finite data: if the Huber solver does not converge (scikit-learn raises
    ``ValueError`` when L-BFGS-B's line search fails and warns ``ConvergenceWarning`` when it runs out of
    iterations; both depend on the platform's floating point) or returns non-finite coefficients, the trend
    is the ordinary least-squares line instead, and ``robust_`` is False.

    Learned attributes: ``coef_``, ``intercept_``, ``slope_`` (coefficient of the first column, per day),
    ``n_features_in_``, ``n_iter_`` (Huber solver iterations, 0 after the fallback), ``robust_``.
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
        coef, intercept, self.n_iter_, self.robust_ = self._fit_standardized(
            (X - x_center) / x_scale, (y - y_center) / y_scale)
        self.coef_ = (coef * y_scale / x_scale).astype(np.float64)
        self.intercept_ = float(y_center + y_scale * intercept - self.coef_ @ x_center)
        self.slope_ = float(self.coef_[0])
        return self

    def _fit_standardized(self, X: Any, y: Any) -> tuple[Any, float, int, bool]:
        """(coef, intercept, n_iter, robust) of the Huber fit; of least squares if that fit fails."""
        huber = HuberRegressor(epsilon=self.epsilon, alpha=self.alpha, max_iter=self.max_iter)
        try:
            with warnings.catch_warnings():
                # A fit that stopped short of the optimum is not trusted: it is replaced, not reported.
                warnings.simplefilter("error", ConvergenceWarning)
                huber.fit(X, y)
        except (ValueError, ConvergenceWarning):
            pass  # the parameters were checked in fit, so a ValueError here is the solver's line search failing
        else:
            if np.all(np.isfinite(huber.coef_)) and math.isfinite(huber.intercept_):
                return huber.coef_, float(huber.intercept_), int(huber.n_iter_), True
        return (*_least_squares(X, y), 0, False)

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
        if math.isnan(gap) or math.isnan(self.slope_):
            return math.inf
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
        if not _is_real(self.epsilon) or not self.epsilon >= 1.0:
            raise ValueError(f"epsilon must be a number >= 1, got {self.epsilon!r}")
        if not _is_real(self.alpha) or not self.alpha >= 0.0:
            raise ValueError(f"alpha must be a number >= 0, got {self.alpha!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int | np.integer) or self.max_iter < 0:
            raise ValueError(f"max_iter must be an integer >= 0, got {self.max_iter!r}")


def _least_squares(X: Any, y: Any) -> tuple[Any, float]:
    """Ordinary least squares ``(coef, intercept)`` of centred data (no trend if even that is not finite)."""
    x_mean, y_mean = X.mean(axis=0), float(y.mean())
    coef = np.linalg.lstsq(X - x_mean, y - y_mean, rcond=None)[0]
    if not np.all(np.isfinite(coef)):
        coef = np.zeros(X.shape[1])
    return coef, y_mean - float(coef @ x_mean)


def _is_real(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


def _nonzero(scale: Any) -> Any:
    """``scale`` with zeros (a constant column) replaced by 1, so that dividing by it is harmless."""
    return np.where(scale > 0, scale, 1.0)
