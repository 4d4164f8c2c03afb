"""The PM rules file: the packaged rules load, site versions replace a rule at one site, mistakes name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.domain import AssetKind
from core.errors import ConfigError
from predictor.planning.problem import Combine, TriggerKind
from predictor.planning.rules import load_rules, packaged_rules, parse_rules

PUMP_RULE = """
rules:
  pump.check:
    kind: pump
    task: Check
    skill: plumber
    hours: 1
    planned_cost: 50
    triggers: [{time: 30}]
"""


def test_packaged_rules_hold_the_regulatory_elevator_maintenance_and_quiet_hours() -> None:
    book = packaged_rules()
    elevator = next(r for r in book.rules if r.id == "elevator.maintenance")
    assert elevator.regulatory
    assert elevator.template == "elevator_maintenance"
    assert [name for name, _ in elevator.item_sets] == ["half_monthly", "quarterly", "half_yearly", "annual"]
    assert elevator.triggers[0].every_days == 15
    pump_service = next(r for r in book.rules if r.id == "pump.service")
    assert pump_service.combine is Combine.ANY
    assert [t.kind for t in pump_service.triggers] == [TriggerKind.TIME, TriggerKind.USAGE]
    assert book.quiet[AssetKind.ELEVATOR][0] == (7 * 60, 9 * 60 + 30)


def test_a_site_version_replaces_the_rule_at_that_site_only() -> None:
    text = PUMP_RULE + "sites:\n  s2:\n    rules:\n      pump.check: {regulatory: true, triggers: [{time: 14}]}\n"
    rules = parse_rules(text, "rules.yaml").rules
    base, local = rules
    assert base.applies_to("s1")
    assert not base.applies_to("s2")
    assert local.applies_to("s2")
    assert not local.applies_to("s1")
    assert local.regulatory
    assert local.triggers[0].every_days == 14
    assert local.id == base.id


def test_an_override_file_replaces_rules_by_id(tmp_path: Path) -> None:
    override = tmp_path / "site_rules.yaml"
    override.write_text(PUMP_RULE.replace("pump.check", "pump.service"), encoding="utf-8")
    rules = {r.id: r for r in load_rules(override).rules}
    assert rules["pump.service"].task == "Check"
    assert "elevator.maintenance" in rules


@pytest.mark.parametrize(("change", "message"), [
    (("hours: 1", "hours: -1"), "rules.yaml: rules.pump.check.hours: must be a number above 0"),
    (("hours: 1", "hour: 1"), "rules.yaml: rules.pump.check.hour: unknown key"),
    (("skill: plumber", "skill: juggler"), "rules.pump.check.skill: 'juggler' is not one of"),
    (("{time: 30}", "{time: 30, usage: 5}"), "rules.pump.check.triggers[0]: give exactly one of"),
    (("{time: 30}", "{usage: 5}"), "rules.pump.check.triggers[0].meter: is required"),
    (("{time: 30}", "{time: 30, anchor: fixed}"), "rules.pump.check.anchor: a fixed time trigger needs"),
    (("{time: 30}", "{condition: {p10: 5}}"), "rules.pump.check.triggers[0].condition.p10: unknown key"),
    (("kind: pump", "kind: pump\n    template: nope"), "rules.pump.check.template: no inspection template 'nope'"),
    (("kind: pump", "kind: pump\n    template: elevator_maintenance"), "the template 'elevator_maintenance' is for"),
    (("task: Check", "task: [1"), "rules.yaml: not valid YAML"),
])
def test_mistakes_name_the_file_and_the_key(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_rules(PUMP_RULE.replace(*change), "rules.yaml")
    assert message in str(raised.value)


def test_a_template_rule_must_price_every_item_set() -> None:
    text = """
rules:
  elevator.m:
    kind: elevator
    task: M
    template: elevator_maintenance
    skill: elevator
    hours_by_set: {half_monthly: 1}
    cost_by_set: {half_monthly: 1, quarterly: 2, half_yearly: 3, annual: 4}
"""
    with pytest.raises(ConfigError, match=r"hours_by_set: give every item set .* missing quarterly"):
        parse_rules(text, "rules.yaml")


def test_quiet_spans_must_be_times_of_day() -> None:
    with pytest.raises(ConfigError, match=r"quiet.pump\[0\]: '25:00-26:00'"):
        parse_rules("quiet: {pump: ['25:00-26:00']}\nrules: {}\n", "rules.yaml")
