"""Reading the SLA policy: the packaged default ``workorders/sla.yaml`` and a site override file on top.

Both files have the same format (docs/workorders.md, "SLA clocks and the policy file"). The override's
``calendar`` keys replace the default's one by one (``hours`` as a whole week); its target rules apply
after the default's; ``sites`` give a site its own calendar keys, rules and complaint target. Every error
is a ConfigError naming the file and the key.
"""

from __future__ import annotations

import enum
import re
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from core.configfile import load_yaml, read_config_file
from core.domain import WaitingFor, WorkOrderKind, WorkOrderPriority, WorkOrderStatus
from core.errors import ConfigError
from workorders.calendar import DAY_MINUTES, WEEKDAYS, BusinessCalendar, Span
from workorders.sla import ClockKind, Pause, SiteTerms, SlaPolicy, Target, TargetName, TermsRule

DEFAULT_POLICY_FILE = Path(__file__).with_name("sla.yaml")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|minutes?|h|hours?|d|days?|wd|working days?)\s*$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_TOP_KEYS = {"calendar", "targets", "complaints", "sites"}
_CALENDAR_KEYS = {"time_zone", "hours", "holidays"}
E = TypeVar("E", bound=enum.StrEnum)

Partial = dict[str, Any]  # calendar keys read so far: time_zone, hours (a week), holidays


@cache
def default_policy() -> SlaPolicy:
    """The packaged policy alone (read once; a policy is immutable)."""
    return load_policy()


def load_policy(override: Path | None = None) -> SlaPolicy:
    """The packaged policy with ``override`` (a site override file) applied on top."""
    layers = [_Layer(DEFAULT_POLICY_FILE)] + ([_Layer(override)] if override is not None else [])
    last = layers[-1]
    calendar: Partial = {}
    site_calendars: dict[str, Partial] = {}
    site_rules: dict[str, list[TermsRule]] = {}
    site_complaints: dict[str, TermsRule] = {}
    for layer in layers:
        calendar.update(layer.calendar(layer.data.get("calendar"), "calendar"))
        for site_id, (own, rules, complaints) in layer.sites().items():
            site_calendars.setdefault(site_id, {}).update(own)
            site_rules.setdefault(site_id, []).extend(rules)
            if complaints is not None:
                site_complaints[site_id] = complaints
    sites = {site_id: SiteTerms(
                 calendar=last.build_calendar({**calendar, **own}, f"sites.{site_id}.calendar") if own else None,
                 rules=tuple(site_rules[site_id]), complaints=site_complaints.get(site_id))
             for site_id, own in site_calendars.items()}
    policy = SlaPolicy(calendar=last.build_calendar(calendar, "calendar"),
                       rules=tuple(rule for layer in layers for rule in layer.rules(layer.data.get("targets"),
                                                                                    "targets")),
                       complaints=_merged_complaints(layers), sites=sites)
    _check_complete(policy, last.source)
    return policy


def _merged_complaints(layers: list[_Layer]) -> TermsRule:
    found = [rule for layer in layers if (rule := layer.complaints(layer.data.get("complaints"), "complaints"))]
    targets = {name: target for rule in found for name, target in rule.targets.items()}
    clock = next((rule.clock for rule in reversed(found) if rule.clock), ClockKind.BUSINESS)
    if targets.get(TargetName.RESPOND) is None:
        raise ConfigError(f"{layers[-1].source}: complaints.respond: the complaint first-response target is missing")
    return TermsRule(clock=clock, targets=targets)


def _check_complete(policy: SlaPolicy, source: str) -> None:
    """Every order must have a deadline: each kind and priority, on each site, needs a target."""
    for site_id in ("", *policy.sites):
        for kind in WorkOrderKind:
            for priority in WorkOrderPriority:
                if not policy.terms_for(kind, priority, site_id).targets:
                    where = f"sites.{site_id}.targets" if site_id else "targets"
                    raise ConfigError(f"{source}: {where}: no target applies to {kind.value} orders of "
                                      f"priority {priority.value}")


class _Layer:
    """One policy file and the readers of its parts; errors name the file and the key."""

    def __init__(self, path: Path) -> None:
        self.source = str(path)
        data = load_yaml(read_config_file(path, "SLA policy"), self.source) or {}
        self.data = self.mapping(data, "", _TOP_KEYS)

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {key}: {message}" if key else f"{self.source}: {message}")

    def mapping(self, value: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, "must be a mapping")
        unknown = sorted(str(name) for name in value if allowed is not None and name not in allowed)
        if unknown:
            raise self.error(key, f"unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(allowed or ()))}")
        return value

    def choice(self, value: Any, key: str, kind: type[E]) -> E:
        try:
            return kind(value)
        except ValueError:
            raise self.error(key, f"{value!r} is not one of {', '.join(m.value for m in kind)}") from None

    # --- calendars -------------------------------------------------------------------------------------

    def calendar(self, value: Any, key: str) -> Partial:
        data = self.mapping(value, key, _CALENDAR_KEYS)
        partial: Partial = {}
        if "time_zone" in data:
            partial["time_zone"] = str(data["time_zone"])
        if "hours" in data:
            hours = self.mapping(data["hours"], f"{key}.hours", set(WEEKDAYS))
            partial["hours"] = tuple(self.spans(hours.get(day), f"{key}.hours.{day}") for day in WEEKDAYS)
        if "holidays" in data:
            if not isinstance(data["holidays"] or [], list):
                raise self.error(f"{key}.holidays", "must be a list of dates")
            partial["holidays"] = frozenset(self.holiday(day, f"{key}.holidays[{i}]")
                                            for i, day in enumerate(data["holidays"] or []))
        return partial

    def build_calendar(self, partial: Partial, key: str) -> BusinessCalendar:
        missing = sorted({"time_zone", "hours"} - set(partial))
        if missing:
            raise self.error(key, f"missing {', '.join(missing)}")
        try:
            return BusinessCalendar(partial["time_zone"], partial["hours"], partial.get("holidays", frozenset()))
        except ValueError as error:
            raise self.error(key, str(error)) from None

    def spans(self, value: Any, key: str) -> tuple[Span, ...]:
        """``"08:30-17:30"``, a list of such spans, or nothing (closed)."""
        items = [] if value in (None, "closed") else value if isinstance(value, list) else [value]
        spans = []
        for item in items:
            match = _SPAN.match(str(item))
            if match is None:
                raise self.error(key, f"{item!r} is not a span like \"08:30-17:30\"")
            h1, m1, h2, m2 = (int(part) for part in match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if m1 > 59 or m2 > 59 or end > DAY_MINUTES or start >= end:
                raise self.error(key, f"{item!r}: the span must start before it ends, within 00:00-24:00")
            spans.append((start, end))
        return tuple(spans)

    def holiday(self, value: Any, key: str) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(key, f"{value!r} is not a date (YYYY-MM-DD)") from None

    # --- targets ---------------------------------------------------------------------------------------

    def rules(self, value: Any, key: str) -> list[TermsRule]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, "must be a list of rules")
        return [self.rule(item, f"{key}[{i}]") for i, item in enumerate(value)]

    def rule(self, value: Any, key: str) -> TermsRule:
        allowed = {"kind", "priority", "clock", *(name.value for name in TargetName if name is not TargetName.RESPOND)}
        data = self.mapping(value, key, allowed)
        return TermsRule(
            kind=None if data.get("kind") is None else self.choice(data["kind"], f"{key}.kind", WorkOrderKind),
            priority=None if data.get("priority") is None
            else self.choice(data["priority"], f"{key}.priority", WorkOrderPriority),
            clock=None if data.get("clock") is None else self.choice(data["clock"], f"{key}.clock", ClockKind),
            targets={TargetName(name): self.target(TargetName(name), data[name], f"{key}.{name}")
                     for name in data if name in TargetName.__members__.values()})

    def complaints(self, value: Any, key: str) -> TermsRule | None:
        data = self.mapping(value, key, {"clock", "respond"})
        if not data:
            return None
        clock = None if data.get("clock") is None else self.choice(data["clock"], f"{key}.clock", ClockKind)
        targets = ({TargetName.RESPOND: self.target(TargetName.RESPOND, data["respond"], f"{key}.respond")}
                   if "respond" in data else {})
        return TermsRule(clock=clock, targets=targets)

    def target(self, name: TargetName, value: Any, key: str) -> Target | None:
        """``"30 min"``, or ``{within: "2 working days", paused_by: ["waiting:resident"]}``; null removes it."""
        if value is None:
            return None
        data = self.mapping(value, key, {"within", "paused_by"}) if isinstance(value, dict) else {"within": value}
        if "within" not in data:
            raise self.error(key, "missing within (the time allowed)")
        time, working_days = self.duration(data["within"], f"{key}.within")
        paused_by = frozenset(self.pause(item, f"{key}.paused_by[{i}]")
                              for i, item in enumerate(data.get("paused_by") or []))
        return Target(name, time, working_days, paused_by)

    def duration(self, value: Any, key: str) -> tuple[timedelta, float]:
        match = _DURATION.match(str(value))
        if match is None or float(match.group(1)) <= 0:
            raise self.error(key, f"{value!r} is not a positive duration like \"30 min\", \"4 h\", "
                                  f"\"1 day\" or \"2 working days\"")
        amount, unit = float(match.group(1)), match.group(2)
        if unit.startswith(("w", "working")):
            return timedelta(0), amount
        return amount * _UNITS[unit[0]], 0.0

    def pause(self, value: Any, key: str) -> Pause:
        """``"waiting"`` (any reason) or ``"waiting:resident"``."""
        status, _, reason = str(value).partition(":")
        return Pause(self.choice(status, key, WorkOrderStatus),
                     self.choice(reason, key, WaitingFor) if reason else None)

    # --- sites -----------------------------------------------------------------------------------------

    def sites(self) -> dict[str, tuple[Partial, list[TermsRule], TermsRule | None]]:
        found = {}
        for site_id, value in self.mapping(self.data.get("sites"), "sites").items():
            key = f"sites.{site_id}"
            data = self.mapping(value, key, {"calendar", "targets", "complaints"})
            found[str(site_id)] = (self.calendar(data.get("calendar"), f"{key}.calendar"),
                                   self.rules(data.get("targets"), f"{key}.targets"),
                                   self.complaints(data.get("complaints"), f"{key}.complaints"))
        return found

