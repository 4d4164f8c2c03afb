"""Reading the PM rules: the packaged ``pm_rules.yaml``, a site's own file over it, per-site versions.

The format is in docs/planner.md ("Rules"). Every mistake is a ConfigError naming the file and the key
(``rules.pump.service.triggers[1].usage``). A rule with ``template`` takes its schedule and item sets from
the service desk's inspection template of that id (workorders/inspections.yaml), never a copy of them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from core.configfile import load_yaml, read_config_file
from core.domain import AssetKind
from core.errors import ConfigError
from people.model import Skill
from predictor.planning.problem import Anchor, Combine, PmRule, Trigger, TriggerKind
from workorders.calendar import DAY_MINUTES, Span
from workorders.inspection_templates import Template, packaged_templates

PACKAGED = "pm_rules.yaml"
E = TypeVar("E", bound=enum.StrEnum)
_TOP = {"quiet", "rules", "sites"}
_RULE = {"kind", "task", "template", "skill", "hours", "planned_cost", "regulatory", "affects_residents",
         "lead_days", "combine", "triggers", "anchor", "hours_by_set", "cost_by_set"}
_TRIGGER = {"time", "usage", "meter", "condition", "anchor"}
_CONDITION = {"p10_below_days", "health_below"}
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class RuleBook:
    rules: tuple[PmRule, ...]
    quiet: Mapping[AssetKind, tuple[Span, ...]]  # see windows.py


class _Problem(Exception):
    """A mistake at one key; ``parse_rules`` adds the file name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")


@cache
def packaged_rules() -> RuleBook:
    """The rules shipped with facmon (predictor/planning/pm_rules.yaml)."""
    text = resources.files("predictor.planning").joinpath(PACKAGED).read_text(encoding="utf-8")
    return parse_rules(text, f"predictor/planning/{PACKAGED}")


def load_rules(override: Path | None = None) -> RuleBook:
    """The packaged rules with a site's own file (same format) replacing or adding rules by id."""
    text = resources.files("predictor.planning").joinpath(PACKAGED).read_text(encoding="utf-8")
    extra = None if override is None else (read_config_file(override, "PM rules"), str(override))
    return parse_rules(text, f"predictor/planning/{PACKAGED}", extra)


def parse_rules(text: str, source: str, override: tuple[str, str] | None = None,
                templates: Mapping[str, Template] | None = None) -> RuleBook:
    """The rule book in YAML ``text`` (and an override file's text and name on top)."""
    templates = packaged_templates() if templates is None else templates
    layers = [(text, source)] + ([override] if override else [])
    raw_rules: dict[str, Any] = {}
    quiet: dict[AssetKind, tuple[Span, ...]] = {}
    sites: dict[str, tuple[dict[str, Any], str]] = {}
    for layer_text, layer_source in layers:
        with _naming(layer_source):
            document = _mapping(load_yaml(layer_text, layer_source) or {}, "(top)", _TOP)
            quiet.update(_quiet(document.get("quiet"), "quiet"))
            raw_rules.update({str(k): (v, layer_source) for k, v in _mapping(document.get("rules"), "rules").items()})
            for site, body in _mapping(document.get("sites"), "sites").items():
                body = _mapping(body, f"sites.{site}", {"rules"})
                sites[str(site)] = (_mapping(body.get("rules"), f"sites.{site}.rules"), layer_source)
    return RuleBook(_rules(raw_rules, sites, templates), quiet)


def _rules(raw: dict[str, Any], sites: dict[str, tuple[dict[str, Any], str]],
           templates: Mapping[str, Template]) -> tuple[PmRule, ...]:
    built: dict[str, PmRule] = {}
    for rule_id, (body, source) in raw.items():
        with _naming(source):
            built[rule_id] = _rule(rule_id, body, f"rules.{rule_id}", templates)
    own: list[PmRule] = []
    for site, (site_rules, source) in sites.items():
        for rule_id, body in site_rules.items():
            key = f"sites.{site}.rules.{rule_id}"
            with _naming(source):  # the site's keys merged over the rule's (a new rule needs them all)
                merged = {**_mapping(raw.get(rule_id, ({}, source))[0], f"rules.{rule_id}"),
                          **_mapping(body, key, _RULE)}
                own.append(replace(_rule(str(rule_id), merged, key, templates), sites=frozenset({site})))
            if rule_id in built:
                built[rule_id] = replace(built[rule_id], except_sites=built[rule_id].except_sites | {site})
    return (*built.values(), *own)


@contextmanager
def _naming(source: str) -> Iterator[None]:
    """A mistake at a key becomes a ConfigError naming the file."""
    try:
        yield
    except _Problem as problem:
        raise ConfigError(f"{source}: {problem}") from None


def _rule(rule_id: str, raw: Any, key: str, templates: Mapping[str, Template]) -> PmRule:
    raw = _mapping(raw, key, _RULE)
    kind = _choice(AssetKind, _required(raw, "kind", key), f"{key}.kind")
    common: dict[str, Any] = {"id": rule_id, "kind": kind, "task": _text(_required(raw, "task", key), f"{key}.task"),
              "skill": _choice(Skill, _required(raw, "skill", key), f"{key}.skill"),
              "regulatory": _bool(raw.get("regulatory", False), f"{key}.regulatory"),
              "affects_residents": _bool(raw.get("affects_residents", False), f"{key}.affects_residents"),
              "lead_days": int(_number(raw.get("lead_days", 7), f"{key}.lead_days", whole=True)),
              "combine": _choice(Combine, raw.get("combine", "any"), f"{key}.combine")}
    if "template" in raw:
        return _template_rule(raw, key, templates, common)
    triggers = tuple(_trigger(t, f"{key}.triggers[{i}]") for i, t in enumerate(_list(raw, "triggers", key)))
    anchor = raw.get("anchor")
    if any(t.anchor is Anchor.FIXED and t.kind is TriggerKind.TIME for t in triggers) and anchor is None:
        raise _Problem(f"{key}.anchor", "a fixed time trigger needs the schedule's anchor date (2026-01-05)")
    return PmRule(**common, hours=_number(_required(raw, "hours", key), f"{key}.hours", positive=True),
                  planned_cost=_number(_required(raw, "planned_cost", key), f"{key}.planned_cost"),
                  triggers=triggers, anchor=None if anchor is None else _date(anchor, f"{key}.anchor"))


def _template_rule(raw: dict[str, Any], key: str, templates: Mapping[str, Template],
                   common: dict[str, Any]) -> PmRule:
    template = templates.get(str(raw["template"]))
    if template is None:
        raise _Problem(f"{key}.template", f"no inspection template {raw['template']!r}: {', '.join(sorted(templates))}")
    if template.asset_kind is not common["kind"]:
        raise _Problem(f"{key}.kind", f"the template {template.id!r} is for {template.asset_kind.value}")
    names = [s.name for s in template.sets]
    by_set = {what: _mapping(raw.get(what), f"{key}.{what}", set(names)) for what in ("hours_by_set", "cost_by_set")}
    for what, values in by_set.items():
        missing = [name for name in names if name not in values]
        if missing:
            raise _Problem(f"{key}.{what}", f"give every item set of {template.id!r}; missing {', '.join(missing)}")
    hours = {n: _number(v, f"{key}.hours_by_set.{n}", positive=True) for n, v in by_set["hours_by_set"].items()}
    costs = {n: _number(v, f"{key}.cost_by_set.{n}") for n, v in by_set["cost_by_set"].items()}
    trigger = Trigger(TriggerKind.TIME, Anchor.FIXED, every_days=template.every_days)
    return PmRule(**common, hours=hours[names[0]], planned_cost=costs[names[0]], triggers=(trigger,),
                  anchor=template.anchor, template=template.id,
                  item_sets=tuple((s.name, s.every) for s in template.sets), hours_by_set=hours, cost_by_set=costs)


def _trigger(raw: Any, key: str) -> Trigger:
    raw = _mapping(raw, key, _TRIGGER)
    kinds = [kind for kind in ("time", "usage", "condition") if kind in raw]
    if len(kinds) != 1:
        raise _Problem(key, "give exactly one of time (days), usage (meter units) or condition")
    anchor = _choice(Anchor, raw.get("anchor", "floating"), f"{key}.anchor")
    if kinds[0] == "time":
        return Trigger(TriggerKind.TIME, anchor, every_days=int(_number(raw["time"], f"{key}.time", whole=True)))
    if kinds[0] == "usage":
        meter = _text(_required(raw, "meter", key), f"{key}.meter")
        return Trigger(TriggerKind.USAGE, anchor, every_usage=_number(raw["usage"], f"{key}.usage", positive=True),
                       meter=meter)
    condition = _mapping(raw["condition"], f"{key}.condition", _CONDITION)
    if not condition:
        raise _Problem(f"{key}.condition", f"give {' and/or '.join(sorted(_CONDITION))}")
    p10, health = condition.get("p10_below_days"), condition.get("health_below")
    return Trigger(TriggerKind.CONDITION, anchor,
                   p10_below_days=None if p10 is None else _number(p10, f"{key}.condition.p10_below_days"),
                   health_below=None if health is None else _number(health, f"{key}.condition.health_below"))


def _quiet(raw: Any, key: str) -> dict[AssetKind, tuple[Span, ...]]:
    return {_choice(AssetKind, kind, f"{key}.{kind}"): tuple(_span(s, f"{key}.{kind}[{i}]") for i, s in enumerate(
        spans if isinstance(spans, list) else [spans])) for kind, spans in _mapping(raw, key).items()}


# --- small readers -------------------------------------------------------------------------------------

def _mapping(value: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Problem(key, "must be a mapping")
    unknown = sorted(str(name) for name in value if allowed is not None and name not in allowed)
    if unknown:
        raise _Problem(f"{key}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed or ()))})")
    return value


def _required(raw: dict[str, Any], name: str, key: str) -> Any:
    if name not in raw:
        raise _Problem(f"{key}.{name}", "is required")
    return raw[name]


def _list(raw: dict[str, Any], name: str, key: str) -> list[Any]:
    value = _required(raw, name, key)
    if not isinstance(value, list) or not value:
        raise _Problem(f"{key}.{name}", "must be a non-empty list")
    return value


def _number(value: Any, key: str, *, positive: bool = False, whole: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (positive and value == 0):
        raise _Problem(key, f"must be a number{' above 0' if positive else ', 0 or more'}")
    if whole and value != int(value):
        raise _Problem(key, "must be a whole number")
    return float(value)


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise _Problem(key, "must be true or false")
    return value


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Problem(key, "must be a non-empty text")
    return value


def _date(value: Any, key: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _Problem(key, "must be a date (2026-01-05)")
    return value


def _choice(kind: type[E], value: Any, key: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise _Problem(key, f"{value!r} is not one of {', '.join(m.value for m in kind)}") from None


def _span(value: Any, key: str) -> Span:
    match = _SPAN.match(str(value))
    if match is None:
        raise _Problem(key, f"{value!r} is not a span like \"07:00-09:30\"")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or end > DAY_MINUTES or start >= end:
        raise _Problem(key, f"{value!r}: the span must start before it ends, within 00:00-24:00")
    return start, end
