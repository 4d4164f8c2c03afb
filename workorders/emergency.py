"""Emergency plans (应急预案): the plan of each kind of emergency, read from YAML, and the pure rules of a run.

A plan is an ordered list of steps, each with the role that does it and a time limit counted from the
moment the plan starts. The packaged file ``emergency_plans.yaml`` holds the default plans and maps the
rule ids of the default rule pack to them; an override file replaces plans by name and adds or replaces
rule entries. Format::

    rules:                      # rule id -> plan name
      site_power_cut: site_power_cut
    plans:
      site_power_cut:
        title: Site power cut
        steps:
          - step: Check every elevator of the site for trapped passengers
            role: operator      # operator | dispatcher | technician | supervisor
            within_min: 5       # due this many minutes after the plan starts

Every problem is a ConfigError naming the file and the key (``plans.burst_pipe.steps[2].role``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from core.configfile import load_yaml, read_config_file
from core.errors import ConfigError

DEFAULT_FILE = "emergency_plans.yaml"


class Role(enum.StrEnum):
    """Who does a step."""

    OPERATOR = "operator"  # control room
    DISPATCHER = "dispatcher"  # service desk
    TECHNICIAN = "technician"  # on site
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class PlanStep:
    title: str
    role: Role
    within: timedelta  # due this long after the plan starts


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    title: str
    steps: tuple[PlanStep, ...]

    def due_times(self, started_at: datetime) -> list[datetime]:
        """When each step is due for a run started at ``started_at``."""
        return [started_at + step.within for step in self.steps]


@dataclass(frozen=True, slots=True)
class Plans:
    """The plans by name, and which plan an alarm of each rule calls for."""

    plans: Mapping[str, Plan] = field(default_factory=dict)
    by_rule: Mapping[str, str] = field(default_factory=dict)

    def for_rule(self, rule_id: str) -> Plan | None:
        name = self.by_rule.get(rule_id)
        return None if name is None else self.plans[name]

    def rules_of(self, name: str) -> list[str]:
        return sorted(rule for rule, plan in self.by_rule.items() if plan == name)


def _mapping(value: Any, key: str, source: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {key}: must be a mapping, got {value!r}")
    return value


def _text(value: Any, key: str, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{source}: {key}: must be a non-empty string, got {value!r}")
    return value.strip()


def _step(value: Any, key: str, source: str) -> PlanStep:
    entry = _mapping(value, key, source)
    unknown = set(entry) - {"step", "role", "within_min"}
    if unknown:
        raise ConfigError(f"{source}: {key}: unknown keys {sorted(unknown)} (step, role, within_min)")
    try:
        role = Role(str(entry.get("role")))
    except ValueError:
        raise ConfigError(f"{source}: {key}.role: {entry.get('role')!r} is not one of "
                          f"{', '.join(r.value for r in Role)}") from None
    minutes = entry.get("within_min")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 0 < minutes <= 7 * 24 * 60:
        raise ConfigError(f"{source}: {key}.within_min: must be minutes between 0 and a week, got {minutes!r}")
    return PlanStep(_text(entry.get("step"), f"{key}.step", source), role, timedelta(minutes=minutes))


def _plan(name: str, value: Any, source: str) -> Plan:
    key = f"plans.{name}"
    entry = _mapping(value, key, source)
    steps = entry.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"{source}: {key}.steps: must be a non-empty list of steps")
    return Plan(name, _text(entry.get("title", name), f"{key}.title", source),
                tuple(_step(step, f"{key}.steps[{i}]", source) for i, step in enumerate(steps, start=1)))


def parse_plans(text: str, source: str, base: Plans | None = None) -> Plans:
    """The plans in ``text`` laid over ``base``: plans replace by name, rule entries add or replace."""
    document = _mapping(load_yaml(text, source), "the document", source)
    unknown = set(document) - {"rules", "plans"}
    if unknown:
        raise ConfigError(f"{source}: unknown keys {sorted(unknown)} (rules, plans)")
    plans = dict(base.plans) if base else {}
    plans.update({str(name): _plan(str(name), value, source)
                  for name, value in _mapping(document.get("plans"), "plans", source).items()})
    by_rule = dict(base.by_rule) if base else {}
    for rule, name in _mapping(document.get("rules"), "rules", source).items():
        if name not in plans:
            raise ConfigError(f"{source}: rules.{rule}: no plan named {name!r} (plans: {', '.join(sorted(plans))})")
        by_rule[str(rule)] = name
    return Plans(plans, by_rule)


def default_plans() -> Plans:
    text = resources.files("workorders").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return parse_plans(text, DEFAULT_FILE)


def configured_plans(override: Path | None) -> Plans:
    """The packaged plans, with the override file (if any) laid over them."""
    plans = default_plans()
    if override is None:
        return plans
    return parse_plans(read_config_file(override, "emergency plans"), str(override), plans)
