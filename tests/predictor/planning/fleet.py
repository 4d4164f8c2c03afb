"""Builders for the planner's tests: calendars, fleets, rosters, random problems, and the hard-rule check."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import date, timedelta

from hypothesis import strategies as st

from core.domain import AssetKind
from core.plans import PlanTask, PlanTaskStatus
from people.model import Skill
from predictor.planning.costs import packaged_costs
from predictor.planning.problem import AssetState, Horizon, LastDone, Meter, Problem, SitePolicy, TechnicianDay
from predictor.planning.rules import packaged_rules
from predictor.planning.triggers import occurrences, regulatory_gap
from predictor.planning.windows import allowed_minutes
from workorders.calendar import BusinessCalendar, Span

MONDAY = date(2027, 3, 1)
WORKDAY: tuple[Span, ...] = ((480, 720), (780, 1020))  # 08:00-12:00, 13:00-17:00
KIND_SKILL = {AssetKind.ELEVATOR: Skill.ELEVATOR, AssetKind.PUMP: Skill.PLUMBER, AssetKind.LIGHTING: Skill.ELECTRICIAN}


def calendar(weekend: bool = False, holidays: frozenset[date] = frozenset()) -> BusinessCalendar:
    return BusinessCalendar("Asia/Shanghai", (WORKDAY,) * (7 if weekend else 5) + ((),) * (0 if weekend else 2),
                            holidays)


def policy(weekend: bool = False, holidays: frozenset[date] = frozenset()) -> SitePolicy:
    return SitePolicy(calendar(weekend, holidays), packaged_rules().quiet)


def roster(users: dict[str, tuple[frozenset[Skill], frozenset[str]]], start: date, days: int,
           hours: float = 7.0) -> tuple[TechnicianDay, ...]:
    """Every user on every day of the horizon with the same hours (the site calendar closes what it closes)."""
    return tuple(TechnicianDay(user, start + timedelta(days=d), hours, skills, sites)
                 for user, (skills, sites) in users.items() for d in range(days))


def problem(assets: list[AssetState], technicians: tuple[TechnicianDay, ...], *, start: date = MONDAY,
            days: int = 28, site_policy: SitePolicy | None = None, **extra: object) -> Problem:
    return Problem(Horizon(start, days), tuple(assets), packaged_rules().rules, technicians, packaged_costs(),
                   site_policy or policy(), **extra)  # type: ignore[arg-type]


def realistic(n_assets: int = 300, n_techs: int = 20, days: int = 90, sites: int = 30, seed: int = 0) -> Problem:
    """A portfolio-sized instance: mixed kinds over ``sites`` sites, technicians covering a third each."""
    rng = random.Random(seed)
    site_ids = [f"site-{i}" for i in range(sites)]
    assets = [_random_asset(rng, f"asset-{i}", rng.choice(site_ids), rng.choice(list(AssetKind)))
              for i in range(n_assets)]
    users = {f"tech-{t}": (frozenset({list(KIND_SKILL.values())[t % 3]}),
                           frozenset(site_ids[(t * 7 + k) % sites] for k in range(sites // 2)))
             for t in range(n_techs)}
    return problem(assets, roster(users, MONDAY, days), days=days)


def _random_asset(rng: random.Random, asset_id: str, site: str, kind: AssetKind) -> AssetState:
    p10 = rng.uniform(3, 150)
    meters = {AssetKind.PUMP: {"run_h": Meter("run_h", rng.uniform(0, 4000), rng.uniform(4, 20))},
              AssetKind.LIGHTING: {"burn_h": Meter("burn_h", rng.uniform(0, 39000), 12.0)}}.get(kind, {})
    last = {"pump.service": LastDone(MONDAY - timedelta(days=rng.randint(0, 179)))} if kind is AssetKind.PUMP else {}
    return AssetState(asset_id, site, kind, p10, p10 * 2, p10 * 3, rng.uniform(10, 100), meters, last)


@st.composite
def random_problems(draw: st.DrawFn) -> Problem:
    """Small random fleets, rosters and calendars (weekends, holidays), some pinned and rejected tasks."""
    rng = random.Random(draw(st.integers(0, 10_000)))
    days = draw(st.integers(7, 30))
    start = MONDAY + timedelta(days=draw(st.integers(0, 60)))
    site_ids = [f"s{i}" for i in range(draw(st.integers(1, 3)))]
    assets = [_random_asset(rng, f"a{i}", rng.choice(site_ids), rng.choice(list(AssetKind)))
              for i in range(draw(st.integers(1, 8)))]
    users = {f"t{i}": (frozenset(rng.sample(list(KIND_SKILL.values()), rng.randint(1, 2))),
                       frozenset(rng.sample(site_ids, rng.randint(1, len(site_ids)))))
             for i in range(draw(st.integers(1, 4)))}
    techs = tuple(TechnicianDay(tech.user_id, tech.day, rng.choice((0.0, 2.0, 4.0, 8.0)), tech.skills, tech.sites)
                  for tech in roster(users, start, days))
    holidays = frozenset(start + timedelta(days=d) for d in range(days) if rng.random() < 0.1)
    default = policy(draw(st.booleans()), holidays)
    sites = {site_ids[0]: policy(True, holidays)} if draw(st.booleans()) else {}
    base = Problem(Horizon(start, days), tuple(assets), packaged_rules().rules, techs, packaged_costs(), default, sites)
    pinned, rejected = _decided(rng, base)
    return Problem(base.horizon, base.assets, base.rules, techs, base.costs, default, sites, pinned, rejected)


def _decided(rng: random.Random, base: Problem) -> tuple[tuple[PlanTask, ...], frozenset[tuple[str, str, date]]]:
    """Some occurrences accepted (1 h on a roster day of a technician with hours) and some rejected."""
    found = [o for a in base.assets for r in base.rules if r.kind is a.kind and r.applies_to(a.site_id)
             for o in occurrences(r, a, base.horizon)]
    with_hours = [t for t in base.technicians if t.hours >= 1.0]
    pinned, taken = [], set()
    for occurrence in rng.sample(found, min(rng.randint(0, 1), len(found))):
        slots = [t for t in with_hours if (t.user_id, t.day) not in taken]
        if slots:
            slot = rng.choice(slots)
            taken.add((slot.user_id, slot.day))
            pinned.append(PlanTask(occurrence.rule.id, occurrence.asset.asset_id, occurrence.asset.site_id,
                                   occurrence.due, slot.day, slot.user_id, occurrence.task, 1.0, 0.0, 0.0, (),
                                   status=PlanTaskStatus.ACCEPTED))
    rejected = frozenset(o.key for o in rng.sample(found, min(1, len(found))) if not o.rule.regulatory)
    return tuple(pinned), rejected - {t.key for t in pinned}


def check_hard_rules(problem: Problem, tasks: list[PlanTask]) -> None:
    """Capacity per technician-day, skills, site coverage, windows and holidays, regulatory due dates, keys."""
    slots = {(t.user_id, t.day): t for t in problem.technicians}
    rules = {(r.id, site): r for r in problem.rules for site in {a.site_id for a in problem.assets}
             if r.applies_to(site)}
    used: dict[tuple[str, date], float] = defaultdict(float)
    for task in (*problem.pinned, *tasks):
        used[(task.technician_id or "", task.planned_date)] += task.hours
    decided = {t.key for t in problem.pinned} | set(problem.rejected)
    assert len({t.key for t in tasks}) == len(tasks), "a key twice"
    for task in tasks:
        slot, rule = slots[(task.technician_id or "", task.planned_date)], rules[(task.rule_id, task.site_id)]
        assert task.key not in decided, "a pinned or rejected task proposed again"
        assert problem.horizon.start <= task.planned_date <= problem.horizon.end
        assert rule.skill in slot.skills, "skill"
        assert task.site_id in slot.sites, "site coverage"
        assert used[(slot.user_id, slot.day)] <= slot.hours + 1e-9, "technician hours exceeded"
        assert allowed_minutes(problem.site_policy(task.site_id), rule.kind, rule.affects_residents,
                               task.planned_date) >= task.hours * 60, "outside the allowed window"
        if rule.regulatory and task.due_date >= problem.horizon.start:
            assert task.planned_date <= task.due_date, "regulatory task after its due date"
    _check_gaps(problem, tasks)


def _check_gaps(problem: Problem, tasks: list[PlanTask]) -> None:
    """Successive regulatory visits of an asset at most the rule's interval apart (the one after a pinned
    visit counted from it; a pinned visit itself is where a person put it)."""
    series: dict[tuple[str, str], list[PlanTask]] = defaultdict(list)
    for task in (*problem.pinned, *tasks):
        series[(task.rule_id, task.asset_id)].append(task)
    pinned = {id(task) for task in problem.pinned}
    for (rule_id, _), placed in series.items():
        gap = next((regulatory_gap(r) for r in problem.rules if r.id == rule_id), None)
        placed.sort(key=lambda t: t.due_date)
        for before, after in itertools.pairwise(placed):
            if gap is not None and (after.due_date - before.due_date).days == gap and id(after) not in pinned:
                assert (after.planned_date - before.planned_date).days <= gap, "regulatory gap exceeded"
