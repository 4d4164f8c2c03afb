"""What the work order an alarm opens says: title, asset or site scope, description (pure).

An asset rule's order is filed under the alarm's asset. A site-level rule (a site power cut, a pump pair
without supply) is keyed by a site or group id that is no asset, so its order is filed with no asset, the
site's id, and the assets involved as ``related_assets`` (the list filter by asset finds it through
them); its title names the site. An alarm-born order has no requester: the supervisor verifies it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.domain import Alarm, MetricValue
from rules.model import Rule, Scope, template_fields

VERIFICATION_NOTE = "Verification: by the supervisor (an alarm-born order has no requester to verify it)."


@dataclass(frozen=True, slots=True)
class AlarmOrder:
    """The fields of the work order an alarm opens (kind and priority come from the rule's action)."""

    title: str
    asset_id: str | None
    related_assets: tuple[str, ...]
    description: str


def alarm_order(rule: Rule, alarm: Alarm, assets: Sequence[str], values: Mapping[str, MetricValue]) -> AlarmOrder:
    """The order for ``alarm`` of ``rule``; ``assets``: for a site-level rule, the assets whose condition
    held; ``values``: what the title template reads."""
    title = rule.render_title(alarm.site_id, alarm.asset_id, values)
    description = f"{alarm.message}\n{VERIFICATION_NOTE}"
    if rule.scope is Scope.ASSET:
        return AlarmOrder(title, alarm.asset_id, (), description)
    template = rule.work_order.title if rule.work_order else rule.id
    if "site" not in template_fields(template):
        title = f"{title} (site {alarm.site_id})"
    return AlarmOrder(title, None, tuple(sorted(assets)), description)
