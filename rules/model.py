"""What a rule is: a condition on one asset's metrics, its on-delay, its severity and its follow-up."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.domain import AssetKind, MetricValue, Severity, WorkOrderKind, WorkOrderPriority
from rules.expression import Expression

# Names a message or title template may use besides the asset's metrics.
TEMPLATE_NAMES = frozenset({"asset", "site", "rule"})


@dataclass(frozen=True, slots=True)
class WorkOrderAction:
    """The work order a raised alarm opens; ``title`` is a template like the rule's message."""

    kind: WorkOrderKind
    priority: WorkOrderPriority
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A condition that, true for ``for_`` of event time on one asset, raises an alarm.

    The alarm clears when ``clear_condition`` is true (hysteresis), or, without one, when ``condition``
    is false. ``message`` is a ``str.format`` template over the asset's metric values and
    ``{asset}``, ``{site}``, ``{rule}``; a metric not reported yet shows as ``?``.
    """

    id: str
    description: str = ""
    applies_to: frozenset[AssetKind]
    condition: Expression
    for_: timedelta = timedelta(0)
    clear_condition: Expression | None = None
    severity: Severity
    message: str
    work_order: WorkOrderAction | None = None

    @property
    def metrics(self) -> frozenset[str]:
        """Every metric the rule's conditions read."""
        clear = self.clear_condition.metrics if self.clear_condition else frozenset()
        return self.condition.metrics | clear

    def render_message(self, site_id: str, asset_id: str, values: Mapping[str, MetricValue]) -> str:
        return render(self.message, self, site_id, asset_id, values)

    def render_title(self, site_id: str, asset_id: str, values: Mapping[str, MetricValue]) -> str:
        title = self.work_order.title if self.work_order else self.id
        return render(title, self, site_id, asset_id, values)


class _Unknown:
    """Stands in for a metric not reported yet; ignores the format spec."""

    def __format__(self, spec: str) -> str:
        return "?"


_UNKNOWN = _Unknown()


class _TemplateValues(dict[str, object]):
    def __missing__(self, key: str) -> object:
        return _UNKNOWN


def render(template: str, rule: Rule, site_id: str, asset_id: str,
           values: Mapping[str, MetricValue]) -> str:
    """Fill a message/title template; never raises for a missing metric."""
    fields = _TemplateValues(values)
    fields.update(asset=asset_id, site=site_id, rule=rule.id)
    return template.format_map(fields)


def template_fields(template: str) -> set[str]:
    """The top-level field names a ``str.format`` template uses; ValueError if it is malformed."""
    names: set[str] = set()
    for _text, name, _spec, _conversion in string.Formatter().parse(template):
        if name is not None:
            if name == "" or name.isdigit():
                raise ValueError("positional fields like {} or {0} are not allowed; name a metric")
            names.add(name.split(".", 1)[0].split("[", 1)[0])
    return names
