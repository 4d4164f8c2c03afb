"""Loading rule files: the format, every kind of error with file, line, rule and field, and merging."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from core.domain import AssetKind, Severity, WorkOrderKind, WorkOrderPriority
from core.errors import ConfigError
from rules.pack import default_rules, load_rules, merge, parse_duration, parse_rules

GOOD = """\
rules:
  - id: pump_burst_pipe
    applies_to: pump
    when: "flow_m3h > 55 and discharge_bar < 2.0"
    for: 2m
    clear_when: "flow_m3h < 45 and discharge_bar > 2.5"
    severity: critical
    message: "Burst pipe suspected at {asset}: flow {flow_m3h:.0f} m3/h, pressure {discharge_bar:.1f} bar"
    work_order: {kind: emergency, priority: emergency, title: "Burst pipe at {asset}"}
  - id: mains
    applies_to: [pump, lighting]
    when: "not mains_ok"
    severity: high
    message: "no mains at {asset} on {site}"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site_rules.yaml"
    path.write_text(text)
    return path


def test_a_rule_file_loads(tmp_path: Path) -> None:
    burst, mains = load_rules(write(tmp_path, GOOD))
    assert burst.id == "pump_burst_pipe"
    assert burst.applies_to == {AssetKind.PUMP}
    assert burst.for_ == timedelta(minutes=2)
    assert burst.severity is Severity.CRITICAL
    assert burst.clear_condition is not None
    assert burst.clear_condition.metrics == {"flow_m3h", "discharge_bar"}
    assert burst.work_order is not None
    assert (burst.work_order.kind, burst.work_order.priority) == (WorkOrderKind.EMERGENCY,
                                                                    WorkOrderPriority.EMERGENCY)
    assert burst.render_message("s1", "p1", {"flow_m3h": 61.4, "discharge_bar": 1.25}) == (
        "Burst pipe suspected at p1: flow 61 m3/h, pressure 1.2 bar")
    assert burst.render_message("s1", "p1", {}) == "Burst pipe suspected at p1: flow ? m3/h, pressure ? bar"
    assert burst.render_title("s1", "p1", {}) == "Burst pipe at p1"
    assert mains.applies_to == {AssetKind.PUMP, AssetKind.LIGHTING}
    assert mains.for_ == timedelta(0)
    assert mains.clear_condition is None
    assert mains.work_order is None


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(("text", "fragments"), [
    ("rules: [\n  - id: x\n   bad", ["not valid YAML", "line"]),
    ("- just a list", ["'rules' list"]),
    ("rules: []\nextra: 1", ["unknown top-level keys"]),
    (_replace('"flow_m3h > 55', '"speed > 55'),
     [":4:", "rule pump_burst_pipe", "when", "unknown metric 'speed'", "column 1", "metrics here:"]),
    (_replace("for: 2m", "for: 2 fortnights"), [":5:", "rule pump_burst_pipe", "for", "not a duration"]),
    (_replace("for: 2m", "for: -5"), [":5:", "for", "between 0 and a year"]),
    (_replace("severity: critical", "severity: dire"),
     [":7:", "rule pump_burst_pipe", "severity", "'dire' is not one of critical | high | medium | low"]),
    (_replace("applies_to: pump", "applies_to: boiler"), [":3:", "applies_to", "'boiler'"]),
    (_replace("- id: pump_burst_pipe\n", "- name: pump_burst_pipe\n"), [":2:", "rule #1", "unknown field"]),
    (_replace("    severity: high\n", ""), ["rule mains", "missing field 'severity'"]),
    (_replace("id: mains", "id: pump_burst_pipe"), [":10:", "duplicate rule id"]),
    (_replace("id: mains", "id: 9lives"), ["rule 9lives", "not a valid id"]),
    (_replace('"not mains_ok"', '"not mains_ok and on"'), ["rule mains", "unknown metric 'on'"]),
    (_replace('"not mains_ok"', '"mains_ok + 1 > 0"'), ["rule mains", "'+' needs a number"]),
    (_replace('"not mains_ok"', '"running"'), ["rule mains", "when", "unknown metric 'running'"]),
    (_replace("{asset}: flow", "{assett}: flow"), [":8:", "message", "unknown metric 'assett'"]),
    (_replace("{asset}: flow", "{}: flow"), ["message", "positional fields"]),
    (_replace("title: \"Burst pipe at {asset}\"", "title: \"{pressure}\""), ["work_order", "'pressure'"]),
    (_replace("priority: emergency, ", ""), ["work_order", "exactly kind, priority and title"]),
    (_replace("kind: emergency", "kind: panic"), ["work_order", "'panic'"]),
    (_replace("    for: 2m\n", "    for: 2m\n    for: 3m\n"), ["line 6", "duplicate key 'for'"]),
    ("rules:\n  - 42\n", ["rule #1", "must be a mapping"]),
])
def test_errors_name_file_line_rule_and_field(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "nope.yaml"))):
        load_rules(tmp_path / "nope.yaml")


@pytest.mark.parametrize(("value", "seconds"), [
    (90, 90), (1.5, 1.5), ("90s", 90), ("2m", 120), ("1h30m", 5400), ("1d", 86400), ("500ms", 0.5),
    ("0s", 0), ("1h 30m", 5400),
])
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["", "2", "m", "2x", "1h-5m", True, None, "-2m", [1]])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError, match=r"duration|between"):
        parse_duration(value)


def test_merge_replaces_same_id_in_place_and_appends_new() -> None:
    base = parse_rules(GOOD)
    override = parse_rules(GOOD.split("  - id: mains")[0].replace("for: 2m", "for: 5m")
                           + "  - id: extra\n    applies_to: pump\n    when: running\n"
                           "    severity: low\n    message: m\n")
    merged = merge(base, override)
    assert [rule.id for rule in merged] == ["pump_burst_pipe", "mains", "extra"]
    assert merged[0].for_ == timedelta(minutes=5)
    assert merged[1] is base[1]


def _one(body: str) -> str:
    return "rules:\n  - id: r\n    applies_to: pump\n    severity: low\n    message: m\n" + body


@pytest.mark.parametrize(("body", "line", "fragment"), [
    ('    when: "running"\n    during: "25:00-07:00"\n', 7, "during: '25:00-07:00' is not a span of the day"),
    ('    when: "running"\n    during: "night"\n', 7, "during: must be a time of day span"),
    ('    when: "running"\n    quorum: 0.5\n', 7, "quorum: only for rules with scope: site"),
    ('    when: "running"\n    scope: site\n    quorum: 1.5\n', 8, "quorum: must be a share"),
    ('    when: "running"\n    scope: region\n', 7, "scope: 'region' is not one of asset | site"),
    ('    when: "running"\n    where: "rated_kw >"\n', 7, "where: expected a number"),
    ('    when: "running"\n    clear_when: "not running"\n    deadband: 1\n', 8, "either clear_when or deadband"),
    ('    metric: flow_m3h\n    limits: {high: 3}\n', 7, "limits: must map some of high_action"),
    ('    metric: flow_m3h\n    limits: {high_action: x}\n', 7, "high_action must be a number"),
    ('    metric: flow_m3h\n', 2, "needs exactly one of 'when' or 'limits'"),
    ('    when: "running"\n    metric: flow_m3h\n', 7, "metric: only with 'limits'"),
    ('    when: "running"\n    suppressed_by: [nope]\n', 0, "suppressed_by: unknown rule 'nope'"),
    ('    when: "running"\n    safety_critical: "yes"\n', 7, "safety_critical: must be true or false"),
])
def test_new_fields_report_their_errors_with_line_and_field(body: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)) as caught:
        parse_rules(_one(body), "site.yaml")
    if line:
        assert f"site.yaml:{line}: rule r:" in str(caught.value)


def test_a_site_rule_may_name_count_and_total_in_its_message() -> None:
    (rule,) = parse_rules("rules:\n  - id: cut\n    scope: site\n    applies_to: pump\n"
                          '    when: "not mains_ok"\n    within: 1m\n    severity: high\n'
                          '    message: "{count:.0f} of {total:.0f} at {site}"\n')
    assert rule.within == timedelta(minutes=1)
    assert rule.render_message("s1", "s1", {"count": 3.0, "total": 5.0}) == "3 of 5 at s1"


def test_safety_critical_is_read_and_off_by_default() -> None:
    (marked,) = parse_rules(_one('    when: "running"\n    safety_critical: true\n'))
    (plain,) = parse_rules(_one('    when: "running"\n'))
    assert (marked.safety_critical, plain.safety_critical) == (True, False)


def test_the_default_pack_marks_entrapment_burst_pipe_and_site_power_cut_safety_critical() -> None:
    marked = {rule.id for rule in default_rules() if rule.safety_critical}
    assert marked == {"elevator_entrapment", "pump_burst_pipe", "site_power_cut"}
