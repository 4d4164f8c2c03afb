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
from core.domain import AssetKind, Severity, WorkOrderKind, WorkOrderPriority
from core.errors import ConfigError
from rules.expression import Expression, ValueType, compile_expression
from rules.model import TEMPLATE_NAMES, Rule, WorkOrderAction, template_fields

DEFAULT_PACK = "default_rules.yaml"
_RULE_KEYS = frozenset({"id", "description", "applies_to", "when", "for", "clear_when", "severity",
                        "message", "work_order"})
_REQUIRED = ("id", "applies_to", "when", "severity", "message")
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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read rule file: {error}") from None
    return parse_rules(text, str(path))


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
        rule = _RuleReader(source, index, entry).read()
        if rule.id in seen:
            raise ConfigError(f"{source}:{_line(entry)}: rule {rule.id}: duplicate rule id")
        seen.add(rule.id)
        rules.append(rule)
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

    def read(self) -> Rule:
        unknown = sorted(set(self.entry) - _RULE_KEYS)
        if unknown:
            raise self.error(unknown[0], f"unknown field (fields: {', '.join(sorted(_RULE_KEYS))})")
        missing = [key for key in _REQUIRED if key not in self.entry]
        if missing:
            raise self.error(None, f"missing field {missing[0]!r}")
        rule_id = self.text("id")
        if not _ID.match(rule_id):
            raise self.error("id", f"{rule_id!r} is not a valid id (a letter, then letters, digits, _ . -)")
        kinds = self.kinds()
        types = _metric_types(kinds)
        return Rule(
            id=rule_id,
            description=self.text("description", ""),
            applies_to=kinds,
            condition=self.expression("when", types),
            for_=self.duration("for"),
            clear_condition=self.expression("clear_when", types) if "clear_when" in self.entry else None,
            severity=self.choice("severity", self.entry["severity"], Severity),
            message=self.template("message", self.text("message"), types),
            work_order=self.work_order(types),
        )

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

    def expression(self, key: str, types: Mapping[str, ValueType]) -> Expression:
        try:
            return compile_expression(self.text(key), types, want=ValueType.BOOLEAN)
        except ConfigError as error:
            known = ", ".join(sorted(types))
            hint = f" (metrics here: {known})" if "unknown metric" in str(error) else ""
            raise self.error(key, f"{error}{hint}") from None

    def duration(self, key: str) -> timedelta:
        value = self.entry.get(key, 0)
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
