"""A synthetic run-to-failure fleet with known degradation, for the learned RUL model's tests."""

from __future__ import annotations

import numpy as np

from predictor.rul import UnitSeries


def make_unit(rng: np.random.Generator, name: str, n_noise: int = 1) -> UnitSeries:
    """A unit that runs to failure: two features drift once wear starts, ``n_noise`` features carry nothing.

    Life is 80-160 rows; wear starts 40-70 rows before the end and rises to 1 at failure. Each unit has its
    own offsets (as real units differ when new), and a constant column that the model must drop.
    """
    life = int(rng.integers(80, 161))
    time = np.arange(life, dtype=np.float64)
    onset = life - int(rng.integers(40, 71))
    wear = np.clip((time - onset) / (life - 1 - onset), 0.0, 1.0)
    offsets = rng.normal(0.0, 0.3, size=2)
    columns = [offsets[0] + 2.0 * wear**1.5 + rng.normal(0.0, 0.15, life),
               offsets[1] - 1.5 * wear + rng.normal(0.0, 0.15, life),
               *(rng.normal(0.0, 1.0, life) for _ in range(n_noise)),
               np.full(life, 7.0)]
    return UnitSeries(name, time, np.column_stack(columns))


def make_fleet(seed: int, n_units: int, n_noise: int = 1) -> list[UnitSeries]:
    rng = np.random.default_rng(seed)
    return [make_unit(rng, f"u{seed}-{i}", n_noise) for i in range(n_units)]


def cut(units: list[UnitSeries], seed: int) -> tuple[list[UnitSeries], np.ndarray]:
    """Each unit cut at a random row after its 20th; the cut units and their true remaining life."""
    rng = np.random.default_rng(seed)
    cuts, truth = [], []
    for unit in units:
        stop = int(rng.integers(20, unit.time.size + 1))
        cuts.append(UnitSeries(unit.unit, unit.time[:stop], unit.features[:stop]))
        truth.append(unit.time[-1] - unit.time[stop - 1])
    return cuts, np.array(truth)
