"""Inspection templates, schedules, judging and standing: the pure part of the rounds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain import Asset, AssetKind, WorkOrderPriority
from core.errors import ConfigError, InvalidRequest, TransitionError
from core.inspections import InspectionRound, RoundStatus
from workorders.inspection_templates import load_templates, packaged_templates, parse_templates
from workorders.inspections import Standing, check_round_step, composition, judge, plan_rounds, standing, visits

ELEVATOR = packaged_templates()["elevator_maintenance"]
PUMP = packaged_templates()["pump_round"]


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def ids(items: tuple[object, ...]) -> set[str]:
    return {item.id for item in items}  # type: ignore[attr-defined]


def test_the_quarterly_elevator_visit_includes_the_half_monthly_items() -> None:
    day_90 = ELEVATOR.anchor + timedelta(days=90)  # the 6th visit after the anchor
    [(due_at, item_set)] = list(visits(ELEVATOR, at(day_90, 0), at(day_90, 23)))
    items = ids(composition(ELEVATOR, item_set.name))
    assert (due_at, item_set.name) == (at(day_90), "quarterly")
    assert {"brake", "door_lock_contacts", "leveling_accuracy", "emergency_call"} <= items
    assert {"traction_sheave_wear", "governor"} <= items
    assert not items & {"rope_tension", "insulation_resistance"}  # half-yearly and annual not yet


def test_the_annual_visit_carries_every_set_and_an_ordinary_visit_only_the_half_monthly() -> None:
    year = list(visits(ELEVATOR, at(ELEVATOR.anchor), at(ELEVATOR.anchor + timedelta(days=360))))
    names = [item_set.name for _, item_set in year]
    assert len(year) == 24
    assert (names.count("quarterly"), names.count("half_yearly"), names.count("annual")) == (2, 1, 1)
    assert ids(composition(ELEVATOR, "annual")) == {i.id for s in ELEVATOR.sets for i in s.items}
    assert ids(composition(ELEVATOR, "half_monthly")) == ids(ELEVATOR.sets[0].items)


@given(st.integers(min_value=0, max_value=2000), st.integers(min_value=1, max_value=100))
def test_visits_fall_every_cycle_from_the_anchor_within_the_window(offset_days: int, span_days: int) -> None:
    since = at(ELEVATOR.anchor) + timedelta(days=offset_days, hours=5)
    until = since + timedelta(days=span_days)
    found = [due_at for due_at, _ in visits(ELEVATOR, since, until)]
    assert all(since <= due_at < until for due_at in found)
    assert all((due_at - at(ELEVATOR.anchor)) % timedelta(days=15) == timedelta(0) for due_at in found)
    assert len(found) in (span_days // 15, span_days // 15 + 1)


def test_pump_rounds_are_per_asset_and_lighting_rounds_per_site() -> None:
    assets = [Asset("p1", "s1", AssetKind.PUMP, "P1"), Asset("p2", "s1", AssetKind.PUMP, "P2"),
              Asset("l1", "s1", AssetKind.LIGHTING, "L1"), Asset("l2", "s1", AssetKind.LIGHTING, "L2")]
    since = at(date(2026, 1, 5), 0)  # a Monday: the weekly pump items fall on it
    planned = plan_rounds(packaged_templates().values(), assets, since, since + timedelta(days=7))
    pumps = [p for p in planned if p.template == "pump_round"]
    lights = [p for p in planned if p.template == "lighting_round"]
    assert len(pumps) == 14
    assert {(p.asset_id, p.item_set) for p in pumps if p.due_at.date() == since.date()} == {
        ("p1", "weekly"), ("p2", "weekly")}
    assert [(p.site_id, p.asset_id, p.due_at) for p in lights] == [("s1", None, at(date(2026, 1, 6)))]


def test_a_measurement_passes_within_its_limits_and_fails_outside() -> None:
    [vibration] = [i for i in PUMP.sets[0].items if i.id == "vibration"]
    [leveling] = [i for i in ELEVATOR.sets[0].items if i.id == "leveling_accuracy"]
    assert [judge(vibration, None, v) for v in (4.5, 4.6)] == [True, False]
    assert [judge(leveling, None, v) for v in (-10, -10.5, 10, 11)] == [True, False, True, False]
    with pytest.raises(InvalidRequest, match="measurement in mm/s"):
        judge(vibration, True, None)


def test_a_failed_safety_item_is_urgent_and_an_ordinary_one_normal() -> None:
    items = {i.id: i for s in ELEVATOR.sets for i in s.items}
    assert items["brake"].priority is WorkOrderPriority.URGENT
    assert items["pit"].priority is WorkOrderPriority.NORMAL


def test_a_round_is_late_when_completed_after_due_and_missed_past_its_grace() -> None:
    due = at(date(2026, 3, 2))
    scheduled = InspectionRound(1, "pump_round", "daily", "s1", "p1", due, RoundStatus.SCHEDULED)
    grace = timedelta(hours=4)
    done_at = InspectionRound(1, "pump_round", "daily", "s1", "p1", due, RoundStatus.DONE, completed_at=due)
    done_late = InspectionRound(1, "pump_round", "daily", "s1", "p1", due, RoundStatus.DONE,
                                completed_at=due + timedelta(minutes=1))
    assert standing(done_at, grace, due + timedelta(days=9)) is Standing.ON_TIME
    assert standing(done_late, grace, due + timedelta(days=9)) is Standing.LATE
    assert standing(scheduled, grace, due + grace) is Standing.PENDING
    assert standing(scheduled, grace, due + grace + timedelta(seconds=1)) is Standing.MISSED


def test_a_missed_round_is_final() -> None:
    with pytest.raises(TransitionError, match="it is final"):
        check_round_step(RoundStatus.MISSED, RoundStatus.IN_PROGRESS)


MINIMAL = """
templates:
  boiler:
    title: Boiler
    asset_kind: pump
    every_days: 1
    anchor: 2026-01-01
    sets:
      - name: daily
        every: 1
        items:
          - {id: flame, text: Flame steady}
"""


@pytest.mark.parametrize(("change", "key"), [
    (("every: 1\n        items", "every: 0\n        items"), "templates.boiler.sets[0].every"),
    (("asset_kind: pump", "asset_kind: boiler"), "templates.boiler.asset_kind"),
    (("anchor: 2026-01-01", "anchor: soon"), "templates.boiler.anchor"),
    (("{id: flame, text: Flame steady}", "{id: flame, text: Flame, max: 3}"), "templates.boiler.sets[0].items[0].unit"),
    (("{id: flame, text: Flame steady}", "{id: flame, text: Flame, unit: C}"), "templates.boiler.sets[0].items[0].max"),
    (("title: Boiler", "title: Boiler\n    colour: red"), "templates.boiler.colour"),
])
def test_a_mistake_in_a_template_file_names_the_key(change: tuple[str, str], key: str) -> None:
    assert parse_templates(MINIMAL, "t.yaml")["boiler"].sets[0].items[0].id == "flame"
    with pytest.raises(ConfigError, match="^" + re.escape(f"t.yaml: {key}: ")):
        parse_templates(MINIMAL.replace(*change), "t.yaml")


def test_sets_must_nest_each_within_the_next() -> None:
    text = MINIMAL + "      - name: weekly\n        every: 5\n        items: [{id: soot, text: Soot}]\n" \
                     "      - name: monthly\n        every: 7\n        items: [{id: vent, text: Vent}]\n"
    with pytest.raises(ConfigError, match=r"sets\[2\]\.every: 7 must be a multiple of 5"):
        parse_templates(text, "t.yaml")


def test_an_override_file_replaces_a_template_by_id_and_adds_new_ones(tmp_path: Path) -> None:
    override = tmp_path / "site.yaml"
    override.write_text(MINIMAL + MINIMAL.replace("templates:\n  boiler", "  pump_round").split("\n", 1)[1],
                        encoding="utf-8")
    templates = load_templates(override)
    assert set(templates) == {"pump_round", "lighting_round", "elevator_maintenance", "boiler"}
    assert templates["pump_round"].title == "Boiler"
