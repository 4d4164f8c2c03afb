"""`facmon bench maintenance`: run to failure, the best fixed-interval PM and facmon's plan on one simulated fleet.

The fleet (simulators/fleet.py: pumps, elevators, luminaires, daily steps, wear-out, P-F defects and sudden
failures) is simulated once per policy from the same seed, so every policy meets the same units, defects,
sudden failures and sensor noise. Each kind has its own trade (plumbers, elevator technicians, electricians),
so the kinds run independently and their costs add up. Per policy the JSON reports ``total_cost``,
``failures``, ``failures_prevented_pct`` (against run to failure), ``unplanned_downtime_h``,
``technician_hours`` (planned + repairs), ``regulatory_misses`` (15-day elevator intervals exceeded),
``pm_compliance_pct`` (planned tasks done by their due date) and ``capacity_violations`` (technician-days
over their hours; the dispatcher never books past them, and this count checks it); then
``cost_ratio_vs_fixed`` = facmon's cost / the fixed-interval policy's.

Fixed interval: for each kind the single interval of ``FIXED_GRID_D`` with the lowest cost in hindsight
(each candidate run on the same seed). facmon: a RUL model per kind trained on a separate training fleet
(seed + 1000) run to failure, then weekly re-planning from its quantiles: by the project's planner
(``--planner solver``, maintenance_solver.SolverFacmon) or by a plain risk threshold with grouping
(``--planner threshold``, maintenance_policies.Facmon).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from facmon.bench.maintenance_crew import (
    FAILURE,
    REPAIR_HOURS,
    VISIT_COST,
    Crew,
    Ledger,
    Policy,
    failure_cost,
    run_kind,
)
from simulators.fleet import Fleet, KindFleet

FIXED_GRID_D: dict[str, tuple[int | None, ...]] = {
    "pump": (60, 90, 120, 150, 180, 240, 300, 365, None),
    "elevator": (90, 180, 365, 540, None),
    "lighting": (180, 270, 365, 450, 540, 730, None),
}
ASSETS_PER_TECHNICIAN = {"pump": 60, "elevator": 25, "lighting": 700}  # the roster: one technician per so many
TECHNICIAN_HOURS = 8.0  # per workday, Monday to Friday
TRAINING_SEED_OFFSET = 1000
TRAINING_YEARS = 3.0
TRAINING_LUMINAIRES = 400  # enough failed drivers to learn from; the whole fleet would only slow training


def register(benchmarks: Any) -> None:
    bench = benchmarks.add_parser("maintenance", help="run to failure vs best fixed-interval PM vs facmon's plan "
                                                      "on a simulated fleet (one JSON object)")
    bench.add_argument("--pumps", type=int, default=200)
    bench.add_argument("--elevators", type=int, default=100)
    bench.add_argument("--luminaires", type=int, default=2000)
    bench.add_argument("--years", type=float, default=2.0)
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--replan-days", type=int, default=7, help="facmon re-plans this often")
    bench.add_argument("--planner", choices=("solver", "threshold"), default="solver",
                       help="facmon's decisions: the project's planner (predictor.planning.solve) or the plain "
                            "risk-threshold rule with grouping (maintenance_policies.Facmon)")
    bench.add_argument("--time-limit-s", type=float, default=1.0, help="the planner's time limit per re-plan")
    bench.add_argument("--training-years", type=float, default=TRAINING_YEARS,
                       help="years the separate run-to-failure training fleet runs")
    bench.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = bench_maintenance(args.pumps, args.elevators, args.luminaires, args.years, args.seed, args.replan_days,
                               args.training_years, args.planner, args.time_limit_s)
    print(json.dumps(result))  # noqa: T201
    return 0


def bench_maintenance(pumps: int, elevators: int, luminaires: int, years: float, seed: int = 0,
                      replan_days: int = 7, training_years: float = TRAINING_YEARS, planner: str = "solver",
                      time_limit_s: float = 1.0) -> dict[str, Any]:
    # Imported here: the RUL model pulls in scikit-learn, which the CLI's other commands need not load.
    from facmon.bench.maintenance_policies import Facmon, FixedInterval, train_rul_model
    from facmon.bench.maintenance_solver import SolverFacmon

    started = time.perf_counter()
    days = round(years * 365)
    sizes = {"pump": pumps, "elevator": elevators, "lighting": luminaires}
    sites = Fleet(pumps, elevators, luminaires, seed).sites
    ledgers: dict[str, dict[str, Ledger]] = {"run_to_failure": {}, "fixed_interval": {}, "facmon": {}}
    intervals: dict[str, int | None] = {}
    for kind, n in sizes.items():
        if n == 0:
            continue
        fresh = partial(KindFleet, kind, n, sites, seed)  # the same fleet for every policy
        crew = Crew(math.ceil(n / ASSETS_PER_TECHNICIAN[kind]), TECHNICIAN_HOURS)
        _progress(f"{kind}: run to failure and {len(FIXED_GRID_D[kind])} fixed intervals", started)
        fixed = {interval: _run(fresh(), partial(FixedInterval, interval_d=interval), crew, days)
                 for interval in FIXED_GRID_D[kind]}
        ledgers["run_to_failure"][kind] = fixed[None]
        intervals[kind] = min(fixed, key=lambda i: _cost(kind, fixed[i]))
        ledgers["fixed_interval"][kind] = fixed[intervals[kind]]
        _progress(f"{kind}: training the RUL model on a run-to-failure fleet", started)
        training = KindFleet(kind, min(n, TRAINING_LUMINAIRES) if kind == "lighting" else n, sites,
                             seed + TRAINING_SEED_OFFSET)
        model = train_rul_model(training, round(training_years * 365), random_state=seed)
        _progress(f"{kind}: facmon re-planning every {replan_days} days", started)
        policy: Callable[[KindFleet], Policy] = (
            partial(SolverFacmon, model=model, days=days, crew=crew, replan_days=replan_days,
                    time_limit_s=time_limit_s) if planner == "solver"
            else partial(Facmon, model=model, days=days, replan_days=replan_days))
        ledgers["facmon"][kind] = _run(fresh(), policy, crew, days)
    result = _report(ledgers, intervals, sizes, sites, years, seed, started)
    result["facmon_planner"] = planner
    return result


def _run(fleet: KindFleet, policy: Callable[[KindFleet], Policy], crew: Crew, days: int) -> Ledger:
    return run_kind(fleet, policy(fleet), crew, days)


def _cost(kind: str, ledger: Ledger) -> float:
    return ledger.planned_cost + ledger.visits * VISIT_COST + sum(ledger.failures.values()) * failure_cost(kind)


def _summary(per_kind: dict[str, Ledger], baseline: dict[str, Ledger]) -> dict[str, Any]:
    failures = {kind: sum(ledger.failures.values()) for kind, ledger in per_kind.items()}
    total = sum(failures.values())
    rtf = sum(sum(ledger.failures.values()) for ledger in baseline.values())
    done = sum(ledger.pm_done for ledger in per_kind.values())
    return {
        "total_cost": round(sum(_cost(kind, ledger) for kind, ledger in per_kind.items())),
        "failures": total,
        "failures_prevented_pct": round(100 * (1 - total / rtf), 1) if rtf else 0.0,
        "unplanned_downtime_h": sum(failures[kind] * FAILURE[kind][1] for kind in per_kind),
        "technician_hours": round(sum(ledger.planned_hours + failures[kind] * REPAIR_HOURS[kind]
                                      for kind, ledger in per_kind.items())),
        "regulatory_misses": sum(ledger.regulatory_misses for ledger in per_kind.values()),
        "pm_compliance_pct": round(100 * sum(ledger.pm_on_time for ledger in per_kind.values()) / done, 1)
        if done else 100.0,
        "capacity_violations": sum(ledger.capacity_violations for ledger in per_kind.values()),
        "visits": sum(ledger.visits for ledger in per_kind.values()),
        "failures_by_kind": failures,
        "failures_prevented_pct_by_kind": {kind: round(100 * (1 - failures[kind] / rtf_kind), 1)
                                           for kind in per_kind
                                           if (rtf_kind := sum(baseline[kind].failures.values()))},
        "failures_by_mode": _modes(per_kind),
        "cost_by_kind": {kind: round(_cost(kind, ledger)) for kind, ledger in per_kind.items()},
    }


def _modes(per_kind: dict[str, Ledger]) -> dict[str, int]:
    modes: dict[str, int] = {}
    for ledger in per_kind.values():
        for mode, count in ledger.failures.items():
            modes[mode] = modes.get(mode, 0) + count
    return modes


def _report(ledgers: dict[str, dict[str, Ledger]], intervals: dict[str, int | None], sizes: dict[str, int],
            sites: int, years: float, seed: int, started: float) -> dict[str, Any]:
    baseline = ledgers["run_to_failure"]
    policies = {name: _summary(per_kind, baseline) for name, per_kind in ledgers.items()}
    policies["fixed_interval"]["intervals_d"] = intervals
    fixed_cost = policies["fixed_interval"]["total_cost"]
    facmon = policies["facmon"]
    ratio = round(facmon["total_cost"] / fixed_cost, 3) if fixed_cost else None
    return {
        "benchmark": "maintenance", "seed": seed, "years": years, "sites": sites, **sizes,
        "technicians": {kind: math.ceil(n / ASSETS_PER_TECHNICIAN[kind]) for kind, n in sizes.items() if n},
        "policies": policies,
        "cost_ratio_vs_fixed": ratio,
        "targets_met": {"cost_ratio_at_most_0.75": ratio is not None and ratio <= 0.75,
                        "prevented_at_least_90pct": facmon["failures_prevented_pct"] >= 90.0,
                        "zero_regulatory_misses": all(p["regulatory_misses"] == 0 for p in policies.values()),
                        "capacity_never_exceeded": all(p["capacity_violations"] == 0 for p in policies.values())},
        "run_s": round(time.perf_counter() - started, 1),
    }


def _progress(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)  # noqa: T201
