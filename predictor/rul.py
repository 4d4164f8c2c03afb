"""A learned remaining-useful-life model for any numeric feature set: gradient boosting, conformalised quantiles.

Data: :class:`UnitSeries`, one per unit (a pump, an engine): its times and a (rows x features) table.
Training units usually run to failure, so the remaining life of a row is ``time[-1] - time``.

The model (:class:`RulModel`):

* Features: :mod:`predictor.rul_features` window statistics per row (last value, trailing means, stds,
  slopes, exponentially weighted means, age). Input columns constant over the training set are dropped.
* Point (P50): :class:`~sklearn.ensemble.HistGradientBoostingRegressor` with squared error on the remaining
  life clipped at ``cap`` (the piecewise-linear target of the C-MAPSS literature: early in life the sensors
  show no wear, so the model is asked only for "at least ``cap``"). Squared error, not the 0.5-quantile
  loss, because the benchmarks score RMSE, and on a clipped target mean and median nearly agree.
* Interval (P10, P90): two quantile-loss boosters on the *unclipped* remaining life, so a healthy unit's
  P90 says how long it may really last; then conformalised (CQR, Romano, Patterson and Candes 2019):
  each bound is shifted by the empirical quantile of its misses on calibration units never seen in
  fitting, one side at a time, so P10 and P90 are each calibrated, not only the 80 % band. Quantile loss
  alone under-covers on new units (the boosters fit their training units too well); CQR repairs that
  with a finite-sample guarantee (for exchangeable units) and keeps the quantile models' adaptivity.
* The three columns are sorted, so P50 is the point estimate clipped into [P10, P90]: where the interval
  says more life is left than ``cap`` (a healthy unit), P50 follows it past the cap.
* Calibration splits BY UNIT (a unit's rows are strongly correlated: splitting rows would leak). The
  held-out units' rows give ``validation_``; then the boosters are refitted on all units and keep the
  calibration offsets (slightly conservative: the refit model has seen more data).

Files: :meth:`RulModel.to_bytes` / :meth:`RulModel.from_bytes` use skops with an explicit allow-list of
types, never pickle, so a stored model cannot run code when loaded.
"""

from __future__ import annotations

import itertools
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # no stubs shipped

from predictor import rul_metrics
from predictor.rul_features import (
    DEFAULT_EWM_ALPHAS,
    DEFAULT_WINDOWS,
    FloatArray,
    feature_names_out,
    window_features,
)

DEFAULT_CAP_QUANTILE = 0.05  # cap = this quantile of training lifetimes when no cap is given (see _choose_cap)


@dataclass(frozen=True)
class UnitSeries:
    """One unit's history: ``time`` (n,) ascending, ``features`` (n, k) in the model's feature order."""

    unit: str
    time: FloatArray
    features: FloatArray

    def __post_init__(self) -> None:
        time = np.asarray(self.time, dtype=np.float64)
        features = np.asarray(self.features, dtype=np.float64)
        if features.ndim != 2 or time.ndim != 1 or features.shape[0] != time.shape[0] or time.size == 0:
            raise ValueError(f"unit {self.unit!r}: time must be (n,) and features (n, k) with n >= 1")
        if np.any(np.diff(time) < 0):
            raise ValueError(f"unit {self.unit!r}: time must not decrease")
        object.__setattr__(self, "time", time)
        object.__setattr__(self, "features", features)


class RulModel:
    """Remaining useful life P10/P50/P90 at each unit's last row; see the module docstring for the method.

    Parameters
    ----------
    feature_names : the names of the feature columns (any number, any meaning).
    quantiles : the three levels returned by :meth:`predict` (lower, middle, upper).
    random_state : seeds the calibration split and the boosters.
    cap : ceiling of the point model's target, in time units; ``None`` chooses ``DEFAULT_CAP_QUANTILE`` of
        the training units' lifetimes (125 cycles is the C-MAPSS custom; days suit a fleet).
    calibration_fraction : share of training units held out for calibration and validation.
    windows, ewm_alphas : the trailing windows (rows) and smoothing factors of the features.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf : passed to every booster.
    """

    def __init__(self, feature_names: Sequence[str], *, quantiles: tuple[float, float, float] = (0.1, 0.5, 0.9),
                 random_state: int = 0, cap: float | None = None, calibration_fraction: float = 0.25,
                 windows: tuple[int, ...] = DEFAULT_WINDOWS, ewm_alphas: tuple[float, ...] = DEFAULT_EWM_ALPHAS,
                 max_iter: int = 300, learning_rate: float = 0.05, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 40) -> None:
        if not 0.0 < quantiles[0] < quantiles[1] < quantiles[2] < 1.0:
            raise ValueError(f"quantiles must be increasing inside (0, 1), got {quantiles}")
        self.feature_names = list(feature_names)
        self.quantiles = quantiles
        self.random_state = random_state
        self.cap = cap
        self.calibration_fraction = calibration_fraction
        self.windows = tuple(windows)
        self.ewm_alphas = tuple(ewm_alphas)
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.validation_: dict[str, float] = {}

    def params(self) -> dict[str, Any]:
        """The constructor's settings (JSON-friendly), as an evaluation report wants them."""
        return {"quantiles": list(self.quantiles), "random_state": self.random_state, "cap": self.cap,
                "calibration_fraction": self.calibration_fraction, "windows": list(self.windows),
                "ewm_alphas": list(self.ewm_alphas), "max_iter": self.max_iter,
                "learning_rate": self.learning_rate, "max_leaf_nodes": self.max_leaf_nodes,
                "min_samples_leaf": self.min_samples_leaf}

    # -- fitting -------------------------------------------------------------------------------------
    def fit(self, units: Sequence[UnitSeries], rul: Sequence[FloatArray] | None = None) -> RulModel:
        """Learn from ``units``; ``rul`` per row per unit, by default run to failure (``time[-1] - time``)."""
        self._check_units(units)
        if len(units) < 4:
            raise ValueError(f"RulModel needs at least 4 training units (to hold some out), got {len(units)}")
        targets = [u.time[-1] - u.time for u in units] if rul is None else [np.asarray(r, float) for r in rul]
        if len(targets) != len(units) or any(t.shape != u.time.shape for t, u in zip(targets, units, strict=False)):
            raise ValueError("rul must hold one value per row of each unit")
        spread = np.ptp(np.vstack([u.features for u in units]), axis=0)
        self.kept_features_ = [name for name, s in zip(self.feature_names, spread, strict=True) if s > 0]
        self._kept = np.flatnonzero(spread > 0)
        self.cap_ = float(self.cap) if self.cap is not None else _choose_cap(targets)
        self.feature_names_out_ = feature_names_out(self.kept_features_, self.windows, self.ewm_alphas)
        tables = [self._table(u) for u in units]
        fit_idx, cal_idx = self._split(len(units))
        models = self._fit_boosters([tables[i] for i in fit_idx], [targets[i] for i in fit_idx])
        cal_x, cal_y = np.vstack([tables[i] for i in cal_idx]), np.concatenate([targets[i] for i in cal_idx])
        with threadpool_limits(limits=1, user_api="openmp"):
            raw = np.column_stack([m.predict(cal_x) for m in models])
        self.offsets_ = _cqr_offsets(raw, cal_y, self.quantiles)
        held_out = _sorted_quantiles(raw + self.offsets_)
        capped = rul_metrics.interval_metrics(np.minimum(cal_y, self.cap_), held_out)
        self.validation_ = {**rul_metrics.interval_metrics(cal_y, held_out),
                            **{f"{name}_capped": value for name, value in capped.items()},
                            "n_units": float(len(cal_idx)), "n_rows": float(cal_y.size), "cap": self.cap_}
        self.models_ = self._fit_boosters(tables, targets)
        return self

    def _fit_boosters(self, tables: list[FloatArray], targets: list[FloatArray]) -> list[HistGradientBoostingRegressor]:
        x, y = np.vstack(tables), np.concatenate(targets)
        lower, _, upper = self.quantiles
        boosters = [self._booster("quantile", lower), self._booster("squared_error", None),
                    self._booster("quantile", upper)]
        # One OpenMP thread: on these small tables (tens of thousands of rows) threads that wait for busy
        # cores made fitting ten times slower on a shared 2-core machine, never faster.
        with threadpool_limits(limits=1, user_api="openmp"):
            for booster, target in zip(boosters, (y, np.minimum(y, self.cap_), y), strict=True):
                booster.fit(x, target)
        return boosters

    def _booster(self, loss: str, quantile: float | None) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss=loss, quantile=quantile, max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            early_stopping=False, random_state=self.random_state)

    def _split(self, n_units: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        order = np.random.default_rng(self.random_state).permutation(n_units)
        n_cal = min(max(2, round(self.calibration_fraction * n_units)), n_units - 2)
        return np.sort(order[n_cal:]), np.sort(order[:n_cal])

    # -- predicting ----------------------------------------------------------------------------------
    def predict(self, units: Sequence[UnitSeries]) -> FloatArray:
        """(m, 3) remaining life at each unit's last row: the three quantiles, sorted and non-negative."""
        if not hasattr(self, "models_"):
            raise ValueError("this RulModel is not fitted yet: call fit() or load one with from_bytes()")
        self._check_units(units)
        if not units:
            return np.zeros((0, 3))
        last_rows = np.vstack([self._table(u)[-1:] for u in units])
        with threadpool_limits(limits=1, user_api="openmp"):
            raw = np.column_stack([m.predict(last_rows) for m in self.models_])
        return _sorted_quantiles(raw + self.offsets_)

    def _table(self, unit: UnitSeries) -> FloatArray:
        return window_features(unit.time, unit.features[:, self._kept], self.windows, self.ewm_alphas)

    def _check_units(self, units: Sequence[UnitSeries]) -> None:
        for unit in units:
            if unit.features.shape[1] != len(self.feature_names):
                raise ValueError(f"unit {unit.unit!r} has {unit.features.shape[1]} feature columns, "
                                 f"the model has {len(self.feature_names)}")

    # -- files ---------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The fitted model as a skops file (no pickle)."""
        from skops.io import dumps

        state = {"params": self.params(), "feature_names": self.feature_names, "kept": self._kept,
                 "kept_features": self.kept_features_, "cap": self.cap_, "offsets": self.offsets_,
                 "validation": self.validation_, "models": self.models_}
        # Deflated: an FD001 model takes 2.4 MB instead of 6.9 MB; writing and reading each take ~0.5 s.
        return bytes(dumps(state, compression=zipfile.ZIP_DEFLATED))

    @classmethod
    def from_bytes(cls, blob: bytes) -> RulModel:
        """Load :meth:`to_bytes`' output; a file holding any type outside the allow-list is refused."""
        from skops.io import get_untrusted_types, loads

        untrusted = [t for t in get_untrusted_types(data=blob) if t not in TRUSTED_TYPES]
        if untrusted:
            raise ValueError(f"refusing a model file with untrusted types: {', '.join(sorted(untrusted))}")
        state = loads(blob, trusted=list(TRUSTED_TYPES))
        keys = {"params", "feature_names", "kept", "kept_features", "cap", "offsets", "validation", "models"}
        if not isinstance(state, dict) or set(state) != keys or not all(
                isinstance(m, HistGradientBoostingRegressor) for m in state["models"]):
            raise ValueError("not a RulModel file (written by RulModel.to_bytes)")
        params = state["params"]
        params["quantiles"] = tuple(params["quantiles"])
        params["windows"] = tuple(params["windows"])
        params["ewm_alphas"] = tuple(params["ewm_alphas"])
        model = cls(state["feature_names"], **params)
        model._kept = np.asarray(state["kept"], dtype=np.int64)
        model.kept_features_ = list(state["kept_features"])
        model.cap_ = float(state["cap"])
        model.offsets_ = np.asarray(state["offsets"], dtype=np.float64)
        model.validation_ = dict(state["validation"])
        model.models_ = list(state["models"])
        model.feature_names_out_ = feature_names_out(model.kept_features_, model.windows, model.ewm_alphas)
        return model


# Types a stored RulModel may contain beyond skops' defaults (primitives, containers, numpy arrays and
# scikit-learn's own estimators, which skops trusts by default); anything else refuses the file.
TRUSTED_TYPES = (
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.loss.PinballLoss",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "numpy.float64",
    "numpy.int64",
)


def _choose_cap(targets: Sequence[FloatArray]) -> float:
    """A quantile of the training lifetimes: most units show wear only in their last stretch of that length."""
    lifetimes = np.array([float(t[0]) for t in targets])
    return float(max(np.quantile(lifetimes, DEFAULT_CAP_QUANTILE), 1e-9))


def _cqr_offsets(raw: FloatArray, y: FloatArray, quantiles: tuple[float, float, float]) -> FloatArray:
    """Per-side CQR: shift each bound by the finite-sample quantile of how far it misses; the middle stays."""
    lower, _, upper = quantiles
    n = y.size
    below = raw[:, 0] - y  # > 0 where the lower bound is above the truth
    above = y - raw[:, 2]  # > 0 where the upper bound is below the truth
    q_low = min(1.0, math.ceil((n + 1) * (1 - lower)) / n)
    q_high = min(1.0, math.ceil((n + 1) * upper) / n)
    return np.array([-np.quantile(below, q_low, method="higher"), 0.0,
                     np.quantile(above, q_high, method="higher")])


def _sorted_quantiles(values: FloatArray) -> FloatArray:
    return np.sort(np.maximum(values, 0.0), axis=1)


def failure_probability(p10: float, p50: float, p90: float, within: float) -> float:
    """P(remaining life <= ``within``) from a CDF through the quantiles (inputs are sorted, negatives as 0).

    Piecewise linear through (0, 0), (P10, 0.1), (P50, 0.5), (P90, 0.9); nothing fails at a negative time;
    a tie makes a jump. Beyond P90 an exponential tail ``1 - 0.1 exp(-(t - P90) / s)`` whose density meets
    the last segment's (``s = (P90 - P50) / 4``), so the tail is as steep as the data just before it.
    """
    points = sorted(max(0.0, float(p)) for p in (p10, p50, p90))
    if any(math.isnan(p) for p in points) or math.isnan(within):
        raise ValueError("failure_probability needs numbers, got NaN")
    if within < 0:
        return 0.0
    knots = [(0.0, 0.0), (points[0], 0.1), (points[1], 0.5), (points[2], 0.9)]
    if within >= points[2]:
        scale = (points[2] - points[1]) / 4.0
        return 1.0 if scale <= 0 else 1.0 - 0.1 * math.exp(-(within - points[2]) / scale)
    for (x_a, f_a), (x_b, f_b) in itertools.pairwise(knots):
        if x_a <= within < x_b:
            return f_a + (f_b - f_a) * (within - x_a) / (x_b - x_a)
    return 0.9  # unreachable: within < P90 lies in some segment
