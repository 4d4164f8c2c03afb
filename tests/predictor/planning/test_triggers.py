"""Due dates from time, usage and condition triggers (fixed, floating, any/all) and template item sets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.domain import AssetKind
from people.model import Skill
from predictor.planning.problem import (
    Anchor,
    AssetState,
    Combine,
    Horizon,
    LastDone,
    Meter,
    PmRule,
    Trigger,
    TriggerKind,
)
from predictor.planning.rules import packaged_rules
from predictor.planning.triggers import occurrences
from workorders.inspection_templates import packaged_templates
from workorders.inspections import visits

START = date(2027, 3, 1)
HORIZON = Horizon(START, 90)


def rule(*triggers: Trigger, combine: Combine = Combine.ANY, regulatory: bool = False,
         anchor: date | None = None) -> PmRule:
    return PmRule("pump.test", AssetKind.PUMP, "Test", 1.0, Skill.PLUMBER, 100.0, triggers, combine, regulatory,
                  anchor=anchor, lead_days=5)


def pump(**fields: object) -> AssetState:
    return AssetState("p1", "s1", AssetKind.PUMP, **fields)  # type: ignore[arg-type]


def test_floating_time_trigger_counts_from_the_last_done_date() -> None:
    every_30 = rule(Trigger(TriggerKind.TIME, Anchor.FLOATING, every_days=30))
    found = occurrences(every_30, pump(last_done={"pump.test": LastDone(START - timedelta(days=10))}), HORIZON)
    assert [o.due for o in found] == [START + timedelta(days=20), START + timedelta(days=50),
                                      START + timedelta(days=80)]
    assert found[0].facts == (f"30 days since it was last done on {START - timedelta(days=10)}",)


def test_fixed_time_trigger_stays_on_its_schedule_and_collapses_overdue_visits() -> None:
    fixed = rule(Trigger(TriggerKind.TIME, Anchor.FIXED, every_days=30), anchor=date(2027, 1, 1))
    on_schedule = occurrences(fixed, pump(last_done={"pump.test": LastDone(date(2027, 2, 25))}), HORIZON)
    assert [o.due for o in on_schedule] == [date(2027, 3, 2), date(2027, 4, 1), date(2027, 5, 1)]
    overdue = occurrences(fixed, pump(last_done={"pump.test": LastDone(date(2026, 10, 1))}), HORIZON)
    assert overdue[0].due == date(2027, 1, 31)  # the latest missed visit only, not every one since October
    assert "overdue since 2027-01-31" in overdue[0].facts
    assert overdue[0].earliest == START


def test_usage_trigger_projects_the_meter_to_its_target() -> None:
    usage = rule(Trigger(TriggerKind.USAGE, Anchor.FLOATING, every_usage=1000, meter="run_h"))
    asset = pump(meters={"run_h": Meter("run_h", 5_500, 10)}, last_done={"pump.test": LastDone(START, 5_000)})
    assert [o.due for o in occurrences(usage, asset, HORIZON)] == [START + timedelta(days=50)]
    fixed = rule(Trigger(TriggerKind.USAGE, Anchor.FIXED, every_usage=1000, meter="run_h"))
    assert occurrences(fixed, asset, HORIZON)[0].due == START + timedelta(days=50)  # at 6,000 h either way


def test_any_takes_the_first_trigger_and_all_the_last() -> None:
    time_60 = Trigger(TriggerKind.TIME, Anchor.FLOATING, every_days=60)
    usage = Trigger(TriggerKind.USAGE, Anchor.FLOATING, every_usage=200, meter="run_h")
    asset = pump(meters={"run_h": Meter("run_h", 0, 10)}, last_done={"pump.test": LastDone(START, 0)})
    assert occurrences(rule(time_60, usage), asset, HORIZON)[0].due == START + timedelta(days=20)
    assert occurrences(rule(time_60, usage, combine=Combine.ALL), asset, HORIZON)[0].due == START + timedelta(days=60)


def test_condition_trigger_fires_once_when_p10_drops_below_its_limit() -> None:
    condition = rule(Trigger(TriggerKind.CONDITION, p10_below_days=30))
    found = occurrences(condition, pump(rul_p10_days=42, rul_p50_days=80, rul_p90_days=120), HORIZON)
    assert [o.due for o in found] == [START + timedelta(days=12)]
    assert found[0].facts == ("P10 of remaining life is 42 days",)
    assert occurrences(condition, pump(), HORIZON) == []  # no forecast, no condition


def test_condition_task_keeps_the_due_date_of_its_open_task() -> None:
    condition = rule(Trigger(TriggerKind.CONDITION, health_below=50))
    kept = START + timedelta(days=3)
    assert occurrences(condition, pump(health=30), HORIZON, kept_due=kept)[0].due == kept


def test_work_never_done_is_due_within_its_lead_and_keeps_that_day_when_replanned_later() -> None:
    every_30 = rule(Trigger(TriggerKind.TIME, Anchor.FLOATING, every_days=30))
    first = occurrences(every_30, pump(), HORIZON)[0]
    assert (first.due, first.earliest, first.facts) == (START + timedelta(days=5), START, ("never done on record",))
    a_week_later = Horizon(START + timedelta(days=7), 90)
    replanned = occurrences(every_30, pump(), a_week_later, kept_due=first.due)[0]
    assert replanned.due == first.due  # the key holds: the open task is moved, not proposed again
    assert replanned.earliest == a_week_later.start  # overdue now: as soon as possible
    regulatory = occurrences(rule(Trigger(TriggerKind.TIME, Anchor.FLOATING, every_days=15), regulatory=True),
                             pump(), HORIZON)[0]
    assert regulatory.due == START + timedelta(days=3)  # soon, but a plan made on a Saturday reaches Monday


def test_elevator_visits_carry_the_item_set_the_inspection_template_schedules() -> None:
    elevator_rule = next(r for r in packaged_rules().rules if r.id == "elevator.maintenance")
    template = packaged_templates()["elevator_maintenance"]
    horizon = Horizon(START, 365)
    found = occurrences(elevator_rule, AssetState("e1", "s1", AssetKind.ELEVATOR), horizon)
    expected = list(visits(template, datetime.combine(START, datetime.min.time(), UTC),
                           datetime.combine(horizon.end + timedelta(days=1), datetime.min.time(), UTC)))
    assert [o.due for o in found] == [at.date() for at, _ in expected]
    for occurrence, (_, item_set) in zip(found, expected, strict=True):
        label = item_set.name.replace("_", "-")
        assert occurrence.facts == (f"{label} elevator items due on {occurrence.due}",)
        assert occurrence.hours == elevator_rule.hours_by_set[item_set.name]
    assert {o.task.split(": ")[1] for o in found} == {"half-monthly items", "quarterly items", "half-yearly items",
                                                      "annual items"}
    assert all(o.max_gap_days == 15 for o in found)
