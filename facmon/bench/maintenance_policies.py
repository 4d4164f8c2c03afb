"""The maintenance benchmark's policies: fixed-interval PM (run to failure is the interval "never") and facmon's
condition-based plan driven by the learned remaining-life model.

facmon's policy re-plans every ``replan_days``: it predicts each asset's remaining life (P10/P50/P90,
``predictor.rul.RulModel`` trained on a separate run-to-failure fleet) from the daily indicators it has
observed since the part was last renewed, turns that into the probability of failing before the next re-plan
can act (``predictor.rul.failure_probability``) and asks for a PM when that risk times the failure's cost
exceeds the PM's cost. Grouping: a technician going to a site anyway also renews that site's parts whose
risk over the next two periods is half-way there; an elevator's door overhaul rides on the regulatory visit
when that visit is due in time.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from facmon.bench.maintenance_crew import PM_TASK, Task, failure_cost
from predictor.rul import RulModel, UnitSeries, failure_probability
from simulators.fleet import FloatArray, IntArray, KindFleet, Observation

FIXED_LEAD_D = 3  # a fixed-interval PM may be done this many days either side of its date
SLACK_D = 5  # a condition task asked for today is due within this many days
PREDICT_ROWS = 40  # trailing days given to the model (its longest window is 30)
MIN_SEGMENT_ROWS = 5
GROUP_WINDOWS = 8  # a part joins a visit to its site when its risk over this many periods (~3 months) is half-way there


class FixedInterval:
    """PM every ``interval_d`` days per asset, all assets of a site on the same date (group replacement);
    ``None``: never (run to failure)."""

    def __init__(self, fleet: KindFleet, interval_d: int | None) -> None:
        self.interval = interval_d
        self.site = fleet.site
        self.hours, self.cost = PM_TASK[fleet.spec.kind]
        # Sites' dates spread over the interval so that the crew's load is level.
        self.next = (fleet.site * 7919) % interval_d + FIXED_LEAD_D if interval_d else np.zeros(fleet.n)

    def propose(self, day: int, pending: list[Task]) -> list[Task]:  # noqa: ARG002 - a calendar needs no plan
        if self.interval is None:
            return []
        ready = np.flatnonzero(self.next - FIXED_LEAD_D <= day)
        tasks = [Task(int(a), int(self.site[a]), day, int(self.next[a]) + FIXED_LEAD_D, self.hours, self.cost,
                      renews=True, preferred=int(self.next[a])) for a in ready]
        self.next[ready] += self.interval
        return tasks

    def observe(self, observation: Observation, done: Iterable[Task]) -> None:
        """A calendar does not listen."""


class History:
    """The daily feature rows a policy has observed (indicators + usage since renewal), and where each asset's
    current part began: the day it was renewed, by a PM or by the repair after a failure."""

    def __init__(self, fleet: KindFleet, days: int) -> None:
        width = len(fleet.spec.indicators) + 1
        self.rows = np.full((days, fleet.n, width), np.nan)
        self.start = np.zeros(fleet.n, dtype=np.int64)
        self.restart = np.full(fleet.n, -1, dtype=np.int64)
        self.meter0 = np.zeros(fleet.n)
        self.previous = np.zeros(fleet.n)
        self.repair_days = fleet.spec.repair_days
        self.names = [*fleet.spec.indicators, f"{fleet.spec.meter}_since_renewal"]

    def record(self, observation: Observation, renewed: IntArray) -> None:
        day = observation.day
        repaired = np.flatnonzero(self.restart == day)
        for assets in (renewed, repaired):
            self.start[assets] = day
            self.meter0[assets] = self.previous[assets]
        self.restart[observation.failed] = day + self.repair_days
        self.rows[day, :, :-1] = observation.indicators
        self.rows[day, :, -1] = observation.meter - self.meter0
        self.previous = observation.meter

    def unit(self, asset: int, first: int, last: int) -> UnitSeries:
        """Rows ``first``..``last`` of ``asset``; the first row's time is the renewal day, so the model's age
        feature counts from the renewal even when only the trailing rows are given."""
        time = np.arange(first, last + 1, dtype=np.float64)
        time[0] = float(self.start[asset])
        return UnitSeries(str(asset), time, self.rows[first:last + 1, asset, :])


def train_rul_model(fleet: KindFleet, days: int, random_state: int = 0) -> RulModel:
    """Run ``fleet`` (a training fleet of its own seed) to failure and fit the RUL model on its failed parts."""
    history = History(fleet, days)
    units: list[UnitSeries] = []
    ruls: list[FloatArray] = []
    empty = np.zeros(0, dtype=np.int64)
    for day in range(days):
        observation = fleet.step(day)
        history.record(observation, empty)
        for asset in observation.failed:
            first = int(history.start[asset])
            if day - first >= MIN_SEGMENT_ROWS and np.isfinite(history.rows[first:day, asset]).all():
                unit = history.unit(int(asset), first, day - 1)
                units.append(unit)
                ruls.append(day - unit.time)
    model = RulModel(history.names, random_state=random_state, max_iter=120)
    return model.fit(units, ruls)


class Facmon:
    """Condition-based maintenance from the learned RUL model, re-planned every ``replan_days``, grouped by site."""

    def __init__(self, fleet: KindFleet, model: RulModel, days: int, replan_days: int = 7) -> None:
        self.kind = fleet.spec.kind
        self.model = model
        self.history = History(fleet, days)
        self.site = fleet.site
        self.replan_days = replan_days
        self.hours, self.cost = PM_TASK[self.kind]
        # Renew when the risk of failing before the next re-plan can act, times the failure's cost, exceeds the
        # PM's cost: the myopic rule. (The optimal age-replacement rule, hazard * (Cf - Cp) >= cost rate, asks for
        # risks of a few per mille per week, below what the piecewise-linear CDF through P10/P50/P90 resolves:
        # it renewed nearly every pump every few weeks.)
        self.threshold = self.cost / failure_cost(self.kind)
        self.down = np.zeros(fleet.n, dtype=bool)

    def propose(self, day: int, pending: list[Task]) -> list[Task]:
        if day % self.replan_days or day < MIN_SEGMENT_ROWS:
            return []
        window = self.replan_days + SLACK_D
        assets, quantiles = self.predict(day, pending)
        if assets.size == 0:
            return []
        now = np.array([failure_probability(q[0], q[1], q[2], window) for q in quantiles])
        later = np.array([failure_probability(q[0], q[1], q[2], GROUP_WINDOWS * window) for q in quantiles])
        urgent = now >= self.threshold
        sites = set(self.site[assets[urgent]].tolist())
        grouped = ~urgent & (later >= self.threshold / 2) & np.isin(self.site[assets], list(sites))
        visits = {t.site: t for t in pending if t.regulatory}
        return [self._task(int(a), day, visits) for a in assets[urgent | grouped]]

    def predict(self, day: int, pending: list[Task]) -> tuple[IntArray, FloatArray]:
        """The assets worth a look today and their remaining-life quantiles (m, 3) in days from today."""
        assets = self._candidates(day, pending)
        if assets.size == 0:
            return assets, np.zeros((0, 3))
        units = [self.history.unit(int(a), max(int(self.history.start[a]), day - PREDICT_ROWS), day - 1)
                 for a in assets]
        return assets, self.model.predict(units)

    def _candidates(self, day: int, pending: list[Task]) -> IntArray:
        """Assets up, with a few days of rows since renewal, and no PM already asked for."""
        asked = np.zeros(self.site.size, dtype=bool)
        asked[[t.asset for t in pending if t.renews]] = True
        enough = day - self.history.start >= MIN_SEGMENT_ROWS
        return np.flatnonzero(enough & ~asked & ~self.down)

    def _task(self, asset: int, day: int, visits: dict[int, Task]) -> Task:
        site = int(self.site[asset])
        visit = visits.get(site)
        if visit is not None and visit.due <= day + SLACK_D:  # ride on the regulatory visit
            return Task(asset, site, visit.earliest, visit.due, self.hours, self.cost, renews=True,
                        preferred=visit.preferred)
        return Task(asset, site, day, day + SLACK_D, self.hours, self.cost, renews=True)

    def observe(self, observation: Observation, done: Iterable[Task]) -> None:
        renewed = np.array([t.asset for t in done if t.renews], dtype=np.int64)
        self.history.record(observation, renewed)
        self.down = observation.down
