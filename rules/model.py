"""What a rule is: a condition on one asset's metrics, its on-delay, its severity and its follow-up."""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from core.domain import AssetKind, MetricValue, Severity, WorkOrderKind, WorkOrderPriority
from rules.expression import Expression
from rules.windows import SeriesNeed

# Names a message or title template may use besides the asset's metrics.
TEMPLATE_NAMES = frozenset({"asset", "site", "rule"})
# Extra names in a site-level rule's templates: assets whose condition holds, and assets of the site.
SITE_TEMPLATE_NAMES = frozenset({"count", "total"})
# A pseudo-metric every kind has: False after the device's MQTT last will ("offline"), True once it
# reports or says "online" again (``RuleEngine.device_status``).
DEVICE_ONLINE = "device_online"


class Scope(enum.StrEnum):
    """What an alarm of the rule is about: one asset, or a whole site (one alarm over many assets)."""

    ASSET = "asset"
    SITE = "site"


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """The time of day (local wall-clock seconds since midnight) in which a rule applies; may wrap midnight.

    ``covers`` reads ``at`` in the site's zone, so "19:00-06:00" follows the site's clock across
    daylight-saving changes: the window is 11 local hours every day, 10 or 12 real hours on the nights the
    clocks change (a repeated hour counts twice, a skipped one not at all).
    """

    start_s: int
    end_s: int

    def covers(self, at: datetime, zone: tzinfo = UTC) -> bool:
        local = at.astimezone(zone)
        second = local.hour * 3600 + local.minute * 60 + local.second
        if self.start_s <= self.end_s:
            return self.start_s <= second < self.end_s
        return second >= self.start_s or second < self.end_s

    def __str__(self) -> str:
        return f"{self.start_s // 3600:02d}:{self.start_s % 3600 // 60:02d}-" \
               f"{self.end_s // 3600:02d}:{self.end_s % 3600 // 60:02d}"


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
    clear_for: timedelta = timedelta(0)  # off-delay: the clear condition must hold this long
    severity: Severity
    message: str
    work_order: WorkOrderAction | None = None
    during: DailyWindow | None = None  # outside it the condition counts as false
    where: Expression | None = None  # over the asset's attributes; the rule applies where it is true
    scope: Scope = Scope.ASSET
    quorum: float = 0.5  # site rules: share of the site's assets whose condition must hold ...
    within: timedelta = timedelta(seconds=30)  # ... having started to hold within this span
    group_by: str | None = None  # site rules: one state per (site, value of this asset attribute)
    suppressed_by: frozenset[str] = frozenset()  # site rules whose active alarm explains this one
    # Life or property at stake (entrapment, burst pipe, site power loss): never out of service, so work
    # on the asset or a maintenance window cannot hide it.
    safety_critical: bool = False

    @property
    def metrics(self) -> frozenset[str]:
        """Every metric the rule's conditions read."""
        clear = self.clear_condition.metrics if self.clear_condition else frozenset()
        return self.condition.metrics | clear

    @property
    def series(self) -> tuple[SeriesNeed, ...]:
        """The windows the rule's conditions read."""
        clear = self.clear_condition.series if self.clear_condition else ()
        return self.condition.series + clear

    @property
    def judges_absence(self) -> bool:
        """A no-data / offline rule: judged at each watermark, held back while the collector is down."""
        clear_driven = self.clear_condition is not None and self.clear_condition.time_driven
        return self.condition.time_driven or clear_driven or DEVICE_ONLINE in self.metrics

    def applies(self, attributes: Mapping[str, str | float | bool]) -> bool:
        """Whether the rule applies to an asset with these attributes (``where`` true)."""
        return self.where is None or self.where.truth(attributes) is True  # type: ignore[arg-type]

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
