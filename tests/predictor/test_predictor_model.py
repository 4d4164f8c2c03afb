"""Tests for predictor.model.TrendToLimit: the scikit-learn contract and the time-to-limit arithmetic."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor
from sklearn.utils.estimator_checks import estimator_checks_generator

import predictor.model
from predictor.model import TrendToLimit

# Two checks depend on optional extras that facmon does not install, and would otherwise be skipped:
# pandas (check_regressor_data_not_an_array) and SCIPY_ARRAY_API=1 plus array-api-strict
# (check_array_api_input). TrendToLimit accepts any array-like through sklearn's validate_data.
NEEDS_OPTIONAL_EXTRAS = {"check_regressor_data_not_an_array", "check_array_api_input"}


def _check_name(check: Any) -> str:
    return str(getattr(check, "func", check).__name__)


CHECKS = [(estimator, check) for estimator, check in estimator_checks_generator(TrendToLimit())
          if _check_name(check) not in NEEDS_OPTIONAL_EXTRAS]


def test_the_excluded_checks_exist() -> None:
    names = {_check_name(check) for _, check in estimator_checks_generator(TrendToLimit())}
    assert names >= NEEDS_OPTIONAL_EXTRAS
    assert len(CHECKS) > 40


@pytest.mark.parametrize(("estimator", "check"), CHECKS, ids=[_check_name(c) for _, c in CHECKS])
def test_sklearn_estimator_contract(estimator: TrendToLimit, check: Any) -> None:
    check(estimator)


def _line(per_day: float, now_value: float, days: float = 20.0, n: int = 200,
          noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(-days, 0.0, n)
    y = now_value + per_day * t + noise * np.random.default_rng(seed).normal(size=n)
    return t.reshape(-1, 1), y


def test_linear_drift_reaches_the_limit_when_arithmetic_says() -> None:
    X, y = _line(per_day=0.1, now_value=4.3, noise=0.05)
    model = TrendToLimit(limit=7.1).fit(X, y)
    assert model.slope_ == pytest.approx(0.1, rel=0.05)
    assert model.time_to_limit(0.0) == pytest.approx(28.0, rel=0.05)
    assert model.time_to_limit(10.0) == pytest.approx(18.0, rel=0.08)


def test_spikes_do_not_move_the_robust_trend() -> None:
    X, y = _line(per_day=0.1, now_value=4.3)
    y[::20] += 30.0  # 5 % wild outliers
    model = TrendToLimit(limit=7.1).fit(X, y)
    assert model.time_to_limit(0.0) == pytest.approx(28.0, rel=0.02)


def test_flat_or_improving_trend_never_reaches_the_limit() -> None:
    assert TrendToLimit(limit=7.1).fit(*_line(0.0, 2.0)).time_to_limit(0.0) == math.inf
    assert TrendToLimit(limit=7.1).fit(*_line(-0.1, 2.0)).time_to_limit(0.0) == math.inf
    assert TrendToLimit().fit(*_line(0.1, 2.0)).time_to_limit(0.0) == math.inf  # no limit


def test_trend_past_the_limit_gives_zero() -> None:
    assert TrendToLimit(limit=7.1).fit(*_line(0.1, 9.0)).time_to_limit(0.0) == 0.0
    assert TrendToLimit(limit=7.1).fit(*_line(-0.1, 9.0)).time_to_limit(0.0) == 0.0


def test_falling_indicator_counts_down_to_a_lower_limit() -> None:
    model = TrendToLimit(limit=10.0, direction="falling").fit(*_line(-1.0, 30.0))
    assert model.time_to_limit(0.0) == pytest.approx(20.0)
    assert TrendToLimit(limit=10.0, direction="falling").fit(*_line(1.0, 30.0)).time_to_limit(0.0) == math.inf


def test_fewer_than_min_points_is_an_error() -> None:
    X, y = _line(0.1, 4.0, n=4)
    with pytest.raises(ValueError, match="min_points=5"):
        TrendToLimit(min_points=5).fit(X, y)
    assert TrendToLimit(min_points=4).fit(X, y).n_features_in_ == 1


@pytest.mark.parametrize("params", [{"direction": "up"}, {"min_points": 1}, {"limit": "high"},
                                    {"limit": math.nan}, {"epsilon": 0.5}, {"alpha": -1.0},
                                    {"max_iter": 2.5}, {"max_iter": -1}])
def test_bad_parameters_are_refused_at_fit(params: dict[str, Any]) -> None:
    model = TrendToLimit(**params)  # the contract: __init__ only stores
    assert clone(model).get_params()[next(iter(params))] is params[next(iter(params))]
    with pytest.raises(ValueError, match=next(iter(params))):
        model.fit(*_line(0.1, 4.0))


def test_time_to_limit_needs_one_time_column() -> None:
    X = np.column_stack([np.arange(10.0), np.arange(10.0) ** 2])
    model = TrendToLimit(limit=100.0).fit(X, np.arange(10.0))
    with pytest.raises(ValueError, match="single time column"):
        model.time_to_limit(0.0)


class _LineSearchFails(HuberRegressor):  # type: ignore[misc]
    """What HuberRegressor does when L-BFGS-B's line search fails (platform dependent, sklearn issue 27777)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        raise ValueError("HuberRegressor convergence failed: l-BFGS-b solver terminated with ABNORMAL: ")


class _RunsOutOfIterations(HuberRegressor):  # type: ignore[misc]
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        super().fit(X, y, sample_weight)
        warnings.warn("lbfgs failed to converge after 200 iteration(s) (status=1)", ConvergenceWarning, stacklevel=2)
        return self


class _NonFinite(HuberRegressor):  # type: ignore[misc]
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        super().fit(X, y, sample_weight)
        self.coef_ = np.full(np.shape(X)[1], np.nan)
        return self


@pytest.mark.filterwarnings("error")  # a non-converged solver must be handled, not leak a warning
@pytest.mark.parametrize("huber", [_LineSearchFails, _RunsOutOfIterations, _NonFinite])
def test_a_failed_robust_fit_falls_back_to_least_squares(monkeypatch: pytest.MonkeyPatch, huber: type) -> None:
    monkeypatch.setattr(predictor.model, "HuberRegressor", huber)
    X, y = _line(per_day=0.1, now_value=4.3, noise=0.05)
    model = TrendToLimit(limit=7.1).fit(X, y)
    assert (model.robust_, model.n_iter_) == (False, 0)
    assert model.slope_ == pytest.approx(np.polyfit(X[:, 0], y, 1)[0])
    assert model.time_to_limit(0.0) == pytest.approx(28.0, rel=0.05)


@pytest.mark.filterwarnings("error")
def test_a_converged_robust_fit_is_used() -> None:
    model = TrendToLimit(limit=7.1).fit(*_line(per_day=0.1, now_value=4.3, noise=0.05))
    assert model.robust_
    assert model.n_iter_ > 0


def test_a_trend_that_is_not_finite_never_reaches_the_limit() -> None:
    model = TrendToLimit(limit=7.1).fit(*_line(0.1, 2.0))
    model.slope_ = math.nan
    assert model.time_to_limit(0.0) == math.inf
