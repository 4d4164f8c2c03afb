"""When PM rules fall due: time, usage and condition triggers, fixed or floating, combined with any/all.

A rule on an asset falls due on a day; that day is the task's ``due_date`` (with the rule and the asset, the
key of a plan task). Within the horizon a rule may fall due several times (an elevator every 15 days): each
following due date is found as if the task were done on the previous one. A condition trigger fires at
most once in the horizon (after the work the forecast starts afresh).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from predictor.planning.problem import (
    Anchor,
    AssetState,
    Combine,
    Horizon,
    PmRule,
    Trigger,
    TriggerKind,
)

NEVER_DONE_DAYS = 3  # regulatory work never done on record is due within this many days (a weekend fits)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One time a rule falls due on an asset: the candidate task the solver places."""

    rule: PmRule
    asset: AssetState
    due: date
    earliest: date  # the first day it may be done
    latest: date  # the last day it may be done (the due date for regulatory work)
    task: str
    hours: float
    planned_cost: float
    facts: tuple[str, ...]  # why it is due, as sentences
    # Regulatory time rules: at most this many days after the previous time it is done (the previous
    # occurrence, or the last done date for the first), however early that was.
    max_gap_days: int | None = None

    @property
    def key(self) -> tuple[str, str, date]:
        return self.rule.id, self.asset.asset_id, self.due


@dataclass(frozen=True, slots=True)
class _Done:
    """The state a trigger counts from: the last day done and the meter reading then (None: unknown)."""

    day: date | None
    meters: Mapping[str, float]
    fired: bool = False  # a condition trigger has fired already in this horizon


def occurrences(rule: PmRule, asset: AssetState, horizon: Horizon,
                kept_due: date | None = None) -> list[Occurrence]:
    """Every time ``rule`` falls due on ``asset`` up to the horizon's end (an overdue one first).

    ``kept_due``: the due date of this rule's open condition task on the asset (or of its first task when
    it was never done on record), kept so that re-planning after a new forecast, or on a later day, moves
    that task rather than proposing another.
    """
    last = asset.last_done.get(rule.id)
    meters = {} if last is None or last.meter_value is None else {_usage_meter(rule): last.meter_value}
    state = _Done(None if last is None else last.on, meters)
    found: list[Occurrence] = []
    while len(found) < horizon.days:
        due, facts = _next_due(rule, asset, horizon, state)
        if due is None or due > horizon.end:
            break
        if kept_due is not None and (rule.is_condition or (last is None and not found)):
            due = kept_due  # the open task's key holds: a re-plan moves it rather than proposing another
        found.append(_occurrence(rule, asset, horizon, due, facts, found[-1].due if found else None))
        state = _Done(due, {unit: _meter_at(asset, unit, due, horizon) for unit in asset.meters},
                      fired=state.fired or rule.is_condition)
    return found


def _usage_meter(rule: PmRule) -> str:
    return next((t.meter for t in rule.triggers if t.kind is TriggerKind.USAGE and t.meter), "")


def _next_due(rule: PmRule, asset: AssetState, horizon: Horizon,
              state: _Done) -> tuple[date | None, tuple[str, ...]]:
    dues = [_trigger_due(trigger, rule, asset, horizon, state) for trigger in rule.triggers]
    if rule.combine is Combine.ALL:
        if any(due is None for due, _ in dues):
            return None, ()
        return max(due for due, _ in dues if due is not None), tuple(fact for _, fact in dues)
    known = [(due, fact) for due, fact in dues if due is not None]
    if not known:
        return None, ()
    first = min(due for due, _ in known)
    return first, tuple(fact for due, fact in known if due == first)


def _trigger_due(trigger: Trigger, rule: PmRule, asset: AssetState, horizon: Horizon,
                 state: _Done) -> tuple[date | None, str]:
    if trigger.kind is TriggerKind.TIME:
        return _time_due(trigger, rule, horizon, state)
    if trigger.kind is TriggerKind.USAGE:
        return _usage_due(trigger, asset, horizon, state)
    if state.fired:
        return None, ""
    return _condition_due(trigger, asset, horizon)


def _time_due(trigger: Trigger, rule: PmRule, horizon: Horizon, state: _Done) -> tuple[date | None, str]:
    every = timedelta(days=trigger.every_days or 1)
    if trigger.anchor is Anchor.FLOATING and state.day is not None:
        return state.day + every, f"{trigger.every_days} days since it was last done on {state.day}"
    if trigger.anchor is Anchor.FLOATING or rule.anchor is None:
        # Work never done on record is due soon, not on the one first day: a plan made on a Saturday must
        # still find a working day for it (regulatory work within NEVER_DONE_DAYS, the rest within its lead).
        grace = min(rule.lead_days, NEVER_DONE_DAYS) if rule.regulatory else rule.lead_days
        return horizon.start + timedelta(days=grace), "never done on record"
    # Fixed: the first schedule day after the last done one; overdue ones collapse into the latest.
    after = state.day or horizon.start - timedelta(days=1)
    steps = max(0, (after - rule.anchor).days // every.days + 1)
    due = rule.anchor + steps * every
    if due < horizon.start:
        due += ((horizon.start - due).days // every.days) * every
    return due, f"every {every.days} days from {rule.anchor}"


def _meter_at(asset: AssetState, unit: str, day: date, horizon: Horizon) -> float:
    meter = asset.meters[unit]
    return meter.value + meter.rate_per_day * horizon.offset(day)


def _usage_due(trigger: Trigger, asset: AssetState, horizon: Horizon,
               state: _Done) -> tuple[date | None, str]:
    meter = asset.meters.get(trigger.meter or "")
    every = trigger.every_usage or 0.0
    if meter is None or every <= 0 or meter.rate_per_day <= 0:
        return None, ""
    done_at = state.meters.get(meter.unit)
    if done_at is None and state.day is not None:  # no reading kept: project the meter back to that day
        done_at = meter.value + meter.rate_per_day * horizon.offset(state.day)
    if trigger.anchor is Anchor.FLOATING and done_at is not None:
        target = done_at + every
    else:
        target = (math.floor(max(done_at or meter.value, 0.0) / every) + 1) * every
    offset = math.ceil((target - meter.value) / meter.rate_per_day)
    verb = "passed" if target <= meter.value else "reaches"
    return horizon.day(offset), f"{meter.unit} {verb} {target:,.0f} (now {meter.value:,.0f})"


def _condition_due(trigger: Trigger, asset: AssetState, horizon: Horizon) -> tuple[date | None, str]:
    best: tuple[date | None, str] = (None, "")
    if trigger.health_below is not None and asset.health is not None and asset.health < trigger.health_below:
        best = horizon.start, f"health is {asset.health:.0f} (below {trigger.health_below:g})"
    if trigger.p10_below_days is not None and asset.rul_p10_days is not None:
        offset = max(0, math.ceil(asset.rul_p10_days - trigger.p10_below_days))
        if best[0] is None or offset == 0:
            best = horizon.day(offset), f"P10 of remaining life is {asset.rul_p10_days:.0f} days"
    return best


def _occurrence(rule: PmRule, asset: AssetState, horizon: Horizon, due: date, facts: tuple[str, ...],
                previous: date | None) -> Occurrence:
    task, hours, cost = rule.task, rule.hours, rule.planned_cost
    set_name = item_set_due(rule, due)
    if set_name is not None:
        label = set_name.replace("_", "-")
        task = f"{rule.task}: {label} items"
        hours, cost = rule.hours_by_set.get(set_name, hours), rule.cost_by_set.get(set_name, cost)
        facts = (f"{label} {rule.kind.value} items due on {due}",)
    lead = timedelta(days=rule.lead_days)
    earliest = max(horizon.start, due - lead, previous + timedelta(days=1) if previous else horizon.start)
    if due < horizon.start:  # overdue: as soon as possible, within the lead time from today
        facts = (*facts, f"overdue since {due}")
        latest = horizon.start + lead
    elif rule.is_condition and not rule.regulatory:
        latest = due + lead  # later only at a higher risk, which the objective prices
    else:
        latest = due
    gap = regulatory_gap(rule)
    last = asset.last_done.get(rule.id)
    if gap is not None and previous is None and last is not None:
        latest = min(latest, max(last.on + timedelta(days=gap), horizon.start))
    return Occurrence(rule, asset, due, earliest, min(latest, horizon.end), task, hours, cost, facts, gap)


def regulatory_gap(rule: PmRule) -> int | None:
    """The longest a regulation allows between two visits: a regulatory rule's time interval."""
    if not rule.regulatory:
        return None
    return next((t.every_days for t in rule.triggers if t.kind is TriggerKind.TIME and t.every_days), None)


def item_set_due(rule: PmRule, due: date) -> str | None:
    """The largest item set of a template rule's visit on ``due`` (it carries every smaller set's items),
    counted on the template's schedule as workorders.inspections.visits counts it; None for other rules."""
    every = next((t.every_days for t in rule.triggers if t.kind is TriggerKind.TIME and t.every_days), None)
    if not rule.item_sets or rule.anchor is None or every is None:
        return None
    index = (due - rule.anchor).days // every
    return max(((name, n) for name, n in rule.item_sets if index % n == 0), key=lambda s: s[1],
               default=rule.item_sets[0])[0]
