"""Rule packs: YAML rule files, the default pack shipped with facmon, and merging site overrides over it.

Format (see docs/rules.md)::

    rules:
      - id: pump_burst_pipe
        applies_to: pump                 # or a list: [elevator, pump, lighting]
        when: "flow_m3h > 55 and discharge_bar < 2.0"
        for: 2m                          # on-delay: 90s, 10m, 1h30m, 1d, or a number of seconds
        clear_when: "flow_m3h < 45"      # optional; default: the condition no longer holds
        severity: critical               # critical | high | medium | low
        message: "Burst pipe suspected at {asset}: flow {flow_m3h:.0f} m3/h"
        work_order: {kind: emergency, priority: emergency, title: "Burst pipe at {asset}"}  # optional
        clear_for: 5m                    # off-delay: the clear condition must hold this long
        deadband: 0.5                    # instead of clear_when, for `when: "<value> > <number>"`
        during: "18:00-07:00"            # time of day (UTC) in which the rule applies
        where: "coalesce(rated_kw, 11) <= 300"   # over the asset's attributes
        scope: site                      # one alarm per site; with quorum: 0.6, within: 5m
        group_by: duty_pair              # site rules: one alarm per (site, value of this attribute)
        suppressed_by: [site_power_cut]  # site rules whose alarm explains this one
        safety_critical: true            # never out of service (work on the asset, maintenance windows)

A ``limits:`` entry (with ``metric:`` instead of ``when:``) expands into one rule per limit:
``{id}.high_action``, ``{id}.high_warning``, ``{id}.low_warning``, ``{id}.low_action`` (see docs/rules.md).

Every problem is a ConfigError naming the file, line, rule and field.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml

from core.catalogue import CATALOGUE, MetricType
from core.configfile import read_config_file
from core.domain import AssetKind, Severity, WorkOrderKind, WorkOrderPriority
from core.errors import ConfigError
from rules.expression import Expression, ValueType, compile_expression
from rules.model import (
    DEVICE_ONLINE,
    SITE_TEMPLATE_NAMES,
    TEMPLATE_NAMES,
    DailyWindow,
    Rule,
    Scope,
    WorkOrderAction,
    template_fields,
)

DEFAULT_PACK = "default_rules.yaml"
_RULE_KEYS = frozenset({"id", "description", "applies_to", "when", "for", "clear_when", "severity",
                        "message", "work_order", "clear_for", "deadband", "during", "where", "scope",
                        "quorum", "within", "group_by", "suppressed_by", "limits", "metric", "warning_severity",
                        "safety_critical"})
_REQUIRED = ("id", "applies_to", "severity", "message")
_LIMITS = {"high_action": ">", "high_warning": ">", "low_warning": "<", "low_action": "<"}
_SIMPLE_COMPARISON = re.compile(r"^\s*(?P<value>.*\S)\s*(?P<op><=|>=|<|>)\s*(?P<limit>[-+]?\d+(?:\.\d+)?)\s*$")
_INVERSE = {">": "<", ">=": "<", "<": ">", "<=": ">"}
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_WORK_ORDER_KEYS = frozenset({"kind", "priority", "title"})
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

E = TypeVar("E", bound=enum.Enum)


# --- YAML with line numbers ------------------------------------------------------------------------

class _Located(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Located:
    seen: set[str] = set()
    for key, _value in node.value:
        if str(key.value) in seen:
            raise ConfigError(f"line {key.start_mark.line + 1}: duplicate key {key.value!r}")
        seen.add(str(key.value))
    mapping = _Located({str(key): value for key, value in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(key.value): key.start_mark.line + 1 for key, _value in node.value}
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# --- loading ---------------------------------------------------------------------------------------

def load_rules(path: Path) -> list[Rule]:
    """The rules of a YAML rule file; ConfigError names the file, line, rule and field of a problem."""
    return parse_rules(read_config_file(path, "rule file"), str(path))


@functools.cache
def _default_rules() -> tuple[Rule, ...]:
    text = resources.files("rules").joinpath(DEFAULT_PACK).read_text(encoding="utf-8")
    return tuple(parse_rules(text, f"rules/{DEFAULT_PACK}"))


def default_rules() -> list[Rule]:
    """The default pack shipped with facmon (rules/default_rules.yaml)."""
    return list(_default_rules())


def merge(base: Iterable[Rule], overrides: Iterable[Rule]) -> list[Rule]:
    """``base`` with each rule of the same id replaced by its override (in place); new ids appended."""
    merged = {rule.id: rule for rule in base}
    for rule in overrides:
        merged[rule.id] = rule
    return list(merged.values())


def parse_rules(text: str, source: str = "<rules>") -> list[Rule]:
    """The rules in YAML ``text``; ``source`` names it in error messages."""
    try:
        document = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise ConfigError(f"{source}: a rule file is a mapping with a 'rules' list")
    if set(document) != {"rules"}:
        raise ConfigError(f"{source}: unknown top-level keys {sorted(set(document) - {'rules'})}")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, entry in enumerate(document["rules"]):
        for rule in _RuleReader(source, index, entry).read():
            if rule.id in seen:
                raise ConfigError(f"{source}:{_line(entry)}: rule {rule.id}: duplicate rule id")
            seen.add(rule.id)
            rules.append(rule)
    known = seen | {rule.id for rule in default_rules()} if source != f"rules/{DEFAULT_PACK}" else seen
    for index, rule in enumerate(rules):
        unknown = sorted(rule.suppressed_by - known)
        if unknown:
            raise ConfigError(f"{source}: rule {rule.id}: suppressed_by: unknown rule {unknown[0]!r} (#{index})")
    return rules


def _line(entry: object, key: str | None = None) -> int:
    if not isinstance(entry, _Located):
        return 0
    return entry.key_lines.get(key, entry.line) if key else entry.line


class _RuleReader:
    """Reads one entry of the 'rules' list; every error carries file, line, rule and field."""

    def __init__(self, source: str, index: int, entry: object) -> None:
        self.source = source
        self.entry: Mapping[str, Any] = entry if isinstance(entry, dict) else {}
        self.label = f"#{index + 1}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: rule #{index + 1}: each rule must be a mapping")
        if isinstance(entry.get("id"), str):
            self.label = entry["id"]

    def error(self, key: str | None, problem: str) -> ConfigError:
        where = f"{self.source}:{_line(self.entry, key)}: rule {self.label}"
        return ConfigError(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")

    def read(self) -> list[Rule]:
        unknown = sorted(set(self.entry) - _RULE_KEYS)
        if unknown:
            raise self.error(unknown[0], f"unknown field (fields: {', '.join(sorted(_RULE_KEYS))})")
        missing = [key for key in _REQUIRED if key not in self.entry]
        if missing:
            raise self.error(None, f"missing field {missing[0]!r}")
        if ("when" in self.entry) == ("limits" in self.entry):
            raise self.error(None, "needs exactly one of 'when' or 'limits'")
        rule_id = self.text("id")
        if not _ID.match(rule_id):
            raise self.error("id", f"{rule_id!r} is not a valid id (a letter, then letters, digits, _ . -)")
        if "limits" in self.entry:
            return self.limit_rules(rule_id)
        if "metric" in self.entry or "warning_severity" in self.entry:
            raise self.error("metric" if "metric" in self.entry else "warning_severity", "only with 'limits'")
        return [self.rule(rule_id, self.text("when"), self.clear_source(self.text("when")),
                          self.choice("severity", self.entry["severity"], Severity), self.text("message"))]

    def rule(self, rule_id: str, when: str, clear_when: str | None, severity: Severity, message: str,
             with_work_order: bool = True) -> Rule:
        kinds = self.kinds()
        types = _metric_types(kinds)
        scope = self.choice("scope", self.entry.get("scope", "asset"), Scope)
        names = types if scope is Scope.ASSET else {**types, **dict.fromkeys(SITE_TEMPLATE_NAMES, ValueType.NUMBER)}
        return Rule(
            id=rule_id,
            description=self.text("description", ""),
            applies_to=kinds,
            condition=self.expression("when", types, when),
            for_=self.duration("for"),
            clear_condition=None if clear_when is None else self.expression(
                "clear_when" if "clear_when" in self.entry else "deadband", types, clear_when),
            clear_for=self.duration("clear_for"),
            severity=severity,
            message=self.template("message", message, names),
            work_order=self.work_order(names) if with_work_order else None,
            during=self.during(),
            where=self.where(),
            scope=scope,
            quorum=self.quorum(scope),
            within=self.within(scope),
            group_by=self.group_by(scope),
            suppressed_by=self.ids("suppressed_by"),
            safety_critical=self.flag("safety_critical"),
        )

    def limit_rules(self, rule_id: str) -> list[Rule]:
        """The ``limits:`` shorthand: one rule per limit, ``{id}.{limit name}``."""
        limits = self.entry["limits"]
        if not isinstance(limits, dict) or not limits or set(limits) - set(_LIMITS):
            raise self.error("limits", f"must map some of {', '.join(_LIMITS)} to numbers")
        metric = self.text("metric")
        severity = self.choice("severity", self.entry["severity"], Severity)
        warning = self.choice("warning_severity", self.entry.get("warning_severity", "low"), Severity)
        band = self.deadband()
        rules = []
        for level, op in _LIMITS.items():
            if level not in limits:
                continue
            limit = limits[level]
            if not isinstance(limit, int | float) or isinstance(limit, bool):
                raise self.error("limits", f"{level} must be a number, got {limit!r}")
            clear = None
            if band is not None:
                clear = f"{metric} {_INVERSE[op]} {limit - band if op == '>' else limit + band:g}"
            message = self.text("message").replace("{limit}", f"{limit:g}").replace(
                "{level}", level.replace("_", " "))
            action = level.endswith("action")  # a work order only for action limits
            rules.append(self.rule(f"{rule_id}.{level}", f"{metric} {op} {limit:g}", clear,
                                   severity if action else warning, message, with_work_order=action))
        return rules

    def clear_source(self, when: str) -> str | None:
        """``clear_when``, or the one a ``deadband`` implies, or None (the condition no longer holds)."""
        band = self.deadband()
        if band is None:
            return self.text("clear_when") if "clear_when" in self.entry else None
        if "clear_when" in self.entry:
            raise self.error("deadband", "give either clear_when or deadband, not both")
        match = _SIMPLE_COMPARISON.match(when)
        if match is None:
            raise self.error("deadband", "needs 'when' of the form '<value> > <number>' (or <, >=, <=)")
        op, limit = match["op"], float(match["limit"])
        shifted = limit - band if op.startswith(">") else limit + band
        return f"{match['value']} {_INVERSE[op]} {shifted:g}"

    def deadband(self) -> float | None:
        if "deadband" not in self.entry:
            return None
        value = self.entry["deadband"]
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise self.error("deadband", f"must be a positive number, got {value!r}")
        return float(value)

    def during(self) -> DailyWindow | None:
        if "during" not in self.entry:
            return None
        match = _TIME_OF_DAY.match(str(self.entry["during"]).strip())
        if match is None:
            raise self.error("during", "must be a time of day span like '18:00-07:00' (UTC)")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise self.error("during", f"{self.entry['during']!r} is not a span of the day")
        return DailyWindow(h1 * 3600 + m1 * 60, (h2 * 3600 + m2 * 60) % 86400)

    def where(self) -> Expression | None:
        if "where" not in self.entry:
            return None
        try:
            return compile_expression(self.text("where"), None, want=ValueType.BOOLEAN)
        except ConfigError as error:
            raise self.error("where", str(error)) from None

    def quorum(self, scope: Scope) -> float:
        if "quorum" not in self.entry:
            return 0.5
        if scope is not Scope.SITE:
            self.site_only("quorum")
        value = self.entry["quorum"]
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
            raise self.error("quorum", f"must be a share of the site's assets in (0, 1], got {value!r}")
        return float(value)

    def within(self, scope: Scope) -> timedelta:
        if scope is not Scope.SITE:
            return self.site_only("within") if "within" in self.entry else timedelta(seconds=30)
        if "within" not in self.entry and "group_by" in self.entry:
            return timedelta.max  # a group's onsets need not cluster (a standby stands still for days)
        return self.duration("within", 30)

    def group_by(self, scope: Scope) -> str | None:
        if "group_by" not in self.entry:
            return None
        if scope is not Scope.SITE:
            self.site_only("group_by")
        value = self.entry["group_by"]
        if not isinstance(value, str) or not _ID.match(value):
            raise self.error("group_by", f"must be an asset attribute name, got {value!r}")
        return value

    def site_only(self, key: str) -> timedelta:
        raise self.error(key, "only for rules with scope: site")

    def ids(self, key: str) -> frozenset[str]:
        value = self.entry.get(key, [])
        names = value if isinstance(value, list) else [value]
        if not all(isinstance(name, str) and _ID.match(name) for name in names):
            raise self.error(key, "must be a rule id or a list of them")
        return frozenset(names)

    def flag(self, key: str) -> bool:
        value = self.entry.get(key, False)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.entry.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {value!r}")
        return value

    def kinds(self) -> frozenset[AssetKind]:
        value = self.entry["applies_to"]
        names = value if isinstance(value, list) else [value]
        if not names:
            raise self.error("applies_to", "names no asset kind")
        return frozenset(self.choice("applies_to", name, AssetKind) for name in names)

    def choice(self, key: str, value: object, enum_type: type[E]) -> E:
        for member in enum_type:
            if member.value == value:
                return member
        choices = " | ".join(str(member.value) for member in enum_type)
        raise self.error(key, f"{value!r} is not one of {choices}")

    def expression(self, key: str, types: Mapping[str, ValueType], source: str) -> Expression:
        try:
            return compile_expression(source, types, want=ValueType.BOOLEAN)
        except ConfigError as error:
            known = ", ".join(sorted(types))
            hint = f" (metrics here: {known})" if "unknown metric" in str(error) else ""
            raise self.error(key, f"{error}{hint}") from None

    def duration(self, key: str, default: float = 0) -> timedelta:
        value = self.entry.get(key, default)
        try:
            return parse_duration(value)
        except ValueError as error:
            raise self.error(key, str(error)) from None

    def template(self, key: str, template: str, types: Mapping[str, ValueType]) -> str:
        try:
            names = template_fields(template)
        except ValueError as error:
            raise self.error(key, f"bad template: {error}") from None
        unknown = sorted(names - set(types) - TEMPLATE_NAMES)
        if unknown:
            raise self.error(key, f"template names unknown metric {unknown[0]!r}")
        return template

    def work_order(self, types: Mapping[str, ValueType]) -> WorkOrderAction | None:
        value = self.entry.get("work_order")
        if value is None:
            return None
        if not isinstance(value, dict) or set(value) != _WORK_ORDER_KEYS:
            raise self.error("work_order", "must be a mapping with exactly kind, priority and title")
        title = value["title"]
        if not isinstance(title, str):
            raise self.error("work_order", f"title must be a string, got {title!r}")
        return WorkOrderAction(self.choice("work_order", value["kind"], WorkOrderKind),
                               self.choice("work_order", value["priority"], WorkOrderPriority),
                               self.template("work_order", title, types))


def _metric_types(kinds: frozenset[AssetKind]) -> dict[str, ValueType]:
    """The metrics every one of ``kinds`` reports, with their expression type."""
    names = set.intersection(*(set(CATALOGUE[kind]) for kind in kinds))
    types: dict[str, ValueType] = {}
    for name in names:
        flags = {CATALOGUE[kind][name].type is MetricType.FLAG for kind in kinds}
        types[name] = (ValueType.ANY if len(flags) > 1
                       else ValueType.BOOLEAN if flags.pop() else ValueType.NUMBER)
    types[DEVICE_ONLINE] = ValueType.BOOLEAN
    return types


def parse_duration(value: object) -> timedelta:
    """``90`` (seconds), ``"90s"``, ``"2m"``, ``"1h30m"``, ``"1d"``, ``"500ms"``; ValueError otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "")
        parts = _DURATION_PART.findall(text)
        if "".join(number + unit for number, unit in parts) != text:
            raise ValueError(f"{value!r} is not a duration like 90s, 2m, 1h30m or 1d")
        seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    else:
        raise ValueError(f"{value!r} is not a duration like 90s, 2m, 1h30m or 1d")
    if not 0 <= seconds < 366 * 86400:
        raise ValueError(f"{value!r} must be between 0 and a year")
    return timedelta(seconds=seconds)
