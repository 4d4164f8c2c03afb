"""Inspection templates: checklist items in nested item sets per asset kind, read from YAML.

The packaged file is ``workorders/inspections.yaml``; ``[inspections] templates`` names a site's own file
whose templates replace the packaged ones of the same id (or add new ones). The format is described in
docs/workorders.md ("Inspection rounds"); every mistake is a ConfigError naming the file and the key
(``templates.elevator_maintenance.sets[1].items[0].max``).
"""

from __future__ import annotations

import enum
import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from core.configfile import load_yaml, read_config_file
from core.domain import AssetKind, WorkOrderPriority
from core.errors import ConfigError, InvalidRequest

PACKAGED = "inspections.yaml"


@dataclass(frozen=True, slots=True)
class Item:
    """A checklist item: pass/fail, or a measurement in ``unit`` that passes within [minimum, maximum]."""

    id: str
    text: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    safety: bool = False  # a failed safety item opens an urgent work order
    priority: WorkOrderPriority = WorkOrderPriority.NORMAL

    @property
    def is_measurement(self) -> bool:
        return self.unit is not None


@dataclass(frozen=True, slots=True)
class ItemSet:
    name: str
    every: int  # due every this many visits of the template's cycle
    items: tuple[Item, ...]


class Per(enum.StrEnum):
    ASSET = "asset"  # one round per asset of the kind
    SITE = "site"  # one round per site over its assets of the kind (results name the asset when one fails)


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    title: str
    asset_kind: AssetKind
    per: Per
    every_days: int
    anchor: date  # the first visit; visits fall on anchor + n * every_days
    due_hour_utc: int
    grace: timedelta  # not completed by due + grace: missed
    sets: tuple[ItemSet, ...]  # in cycle order, each ``every`` dividing the next

    def first_due(self) -> datetime:
        return datetime.combine(self.anchor, time(self.due_hour_utc), tzinfo=UTC)

    def set_named(self, name: str) -> ItemSet:
        for item_set in self.sets:
            if item_set.name == name:
                return item_set
        raise InvalidRequest(f"template {self.id!r} has no item set {name!r}: "
                             + ", ".join(s.name for s in self.sets))


# --- templates -----------------------------------------------------------------------------------------

@functools.cache
def packaged_templates() -> Mapping[str, Template]:
    """The templates shipped with facmon (workorders/inspections.yaml)."""
    text = resources.files("workorders").joinpath(PACKAGED).read_text(encoding="utf-8")
    return parse_templates(text, f"workorders/{PACKAGED}")


def load_templates(override: Path | None = None) -> dict[str, Template]:
    """The packaged templates with those of ``override`` (a site's file) replacing or adding by id."""
    templates = dict(packaged_templates())
    if override is not None:
        templates.update(parse_templates(read_config_file(override, "inspection templates"), str(override)))
    return templates




# --- reading the file ----------------------------------------------------------------------------------

_TEMPLATE_KEYS = {"title", "asset_kind", "per", "every_days", "anchor", "due_hour_utc", "grace_h", "sets"}
_REQUIRED = ("title", "asset_kind", "every_days", "anchor", "sets")
_SET_KEYS = {"name", "every", "items"}
_ITEM_KEYS = {"id", "text", "unit", "min", "max", "safety", "priority"}


class _Problem(Exception):
    """A mistake at one key of the file; ``parse_templates`` adds the file name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")


def _mapping(value: Any, key: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Problem(key, "must be a mapping")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _Problem(f"{key}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for name in required:
        if name not in value:
            raise _Problem(f"{key}.{name}", "is required")
    return value


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _Problem(key, "must be a non-empty list")
    return value


def _int(value: Any, key: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise _Problem(key, f"must be a whole number from {low}" + (f" to {high}" if high is not None else " up"))
    return value


def _number(value: Any, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Problem(key, "must be a number")
    return float(value)


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Problem(key, "must be a non-empty text")
    return value


def _choice(kind: type[enum.StrEnum], value: Any, key: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise _Problem(key, f"must be one of {', '.join(m.value for m in kind)}") from None


def _item(raw: Any, key: str) -> Item:
    raw = _mapping(raw, key, _ITEM_KEYS, ("id", "text"))
    unit = raw.get("unit")
    minimum, maximum = _number(raw.get("min"), f"{key}.min"), _number(raw.get("max"), f"{key}.max")
    if unit is None and (minimum is not None or maximum is not None):
        raise _Problem(f"{key}.unit", "a measurement with limits needs its unit")
    if unit is not None and minimum is None and maximum is None:
        raise _Problem(f"{key}.max", "a measurement needs a min, a max or both")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise _Problem(f"{key}.min", f"{minimum:g} is above max {maximum:g}")
    safety = raw.get("safety", False)
    if not isinstance(safety, bool):
        raise _Problem(f"{key}.safety", "must be true or false")
    # A failed safety item (brake, door lock, emergency lighting) is urgent unless the file says otherwise.
    default = WorkOrderPriority.URGENT if safety else WorkOrderPriority.NORMAL
    priority = _choice(WorkOrderPriority, raw.get("priority", default.value), f"{key}.priority")
    return Item(_text(raw["id"], f"{key}.id"), _text(raw["text"], f"{key}.text"),
                None if unit is None else _text(unit, f"{key}.unit"), minimum, maximum, safety, priority)


def _item_set(raw: Any, key: str) -> ItemSet:
    raw = _mapping(raw, key, _SET_KEYS, ("name", "every", "items"))
    items = tuple(_item(item, f"{key}.items[{i}]") for i, item in enumerate(_list(raw["items"], f"{key}.items")))
    return ItemSet(_text(raw["name"], f"{key}.name"), _int(raw["every"], f"{key}.every", 1), items)


def _check_nesting(sets: tuple[ItemSet, ...], key: str) -> None:
    """Each set's ``every`` divides the next one's, so a larger set's visit carries every smaller set."""
    for i, (smaller, larger) in enumerate(itertools.pairwise(sets)):
        if larger.every <= smaller.every or larger.every % smaller.every:
            raise _Problem(f"{key}[{i + 1}].every", f"{larger.every} must be a multiple of {smaller.every} and "
                           "larger (sets are listed smallest first, each within the next)")
    names = [s.name for s in sets]
    ids = [item.id for s in sets for item in s.items]
    for what, values in (("set name", names), ("item id", ids)):
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise _Problem(key, f"duplicate {what} {duplicates[0]!r}")


def _template(template_id: str, raw: Any, key: str) -> Template:
    raw = _mapping(raw, key, _TEMPLATE_KEYS, _REQUIRED)
    anchor = raw["anchor"]
    if not isinstance(anchor, date) or isinstance(anchor, datetime):
        raise _Problem(f"{key}.anchor", "must be a date (2026-01-05)")
    grace_h = _number(raw.get("grace_h", 4), f"{key}.grace_h")
    if grace_h is None or grace_h < 0:
        raise _Problem(f"{key}.grace_h", "must be a number of hours, 0 or more")
    sets = tuple(_item_set(s, f"{key}.sets[{i}]") for i, s in enumerate(_list(raw["sets"], f"{key}.sets")))
    _check_nesting(sets, f"{key}.sets")
    return Template(template_id, _text(raw["title"], f"{key}.title"),
                    _choice(AssetKind, raw["asset_kind"], f"{key}.asset_kind"),
                    _choice(Per, raw.get("per", "asset"), f"{key}.per"),
                    _int(raw["every_days"], f"{key}.every_days", 1), anchor,
                    _int(raw.get("due_hour_utc", 10), f"{key}.due_hour_utc", 0, 23), timedelta(hours=grace_h), sets)


def parse_templates(text: str, source: str) -> dict[str, Template]:
    """The templates in YAML ``text``, by id; ConfigError naming ``source`` and the key of a mistake."""
    document = load_yaml(text, source)
    try:
        raw = _mapping(document, "(top)", {"templates"}, ("templates",))["templates"]
        if not isinstance(raw, dict) or not raw:
            raise _Problem("templates", "must be a mapping of template id to template")
        return {str(tid): _template(str(tid), body, f"templates.{tid}") for tid, body in raw.items()}
    except _Problem as problem:
        raise ConfigError(f"{source}: {problem}") from None
