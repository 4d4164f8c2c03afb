"""What the rules announce on the event bus: the alarm topics and the alarm as JSON."""

from __future__ import annotations

from typing import Any

from core.domain import Alarm

RAISED = "alarm.raised"
CHANGED = "alarm.changed"


def alarm_json(alarm: Alarm) -> dict[str, Any]:
    """The alarm as a JSON-safe dict: ISO-8601 times, enum values as strings."""
    def iso(value: Any) -> str | None:
        return None if value is None else str(value.isoformat())

    return {
        "id": alarm.id,
        "rule_id": alarm.rule_id,
        "asset_id": alarm.asset_id,
        "site_id": alarm.site_id,
        "severity": alarm.severity.value,
        "state": alarm.state.value,
        "active": alarm.state.is_active,
        "message": alarm.message,
        "started_at": iso(alarm.started_at),
        "cleared_at": iso(alarm.cleared_at),
        "acknowledged_at": iso(alarm.acknowledged_at),
        "acknowledged_by": alarm.acknowledged_by,
        "occurrences": alarm.occurrences,
        "work_order_id": alarm.work_order_id,
        "shelved_until": iso(alarm.shelved_until),
        "shelve_reason": alarm.shelve_reason,
        "suppressed_by": alarm.suppressed_by,
        "out_of_service": alarm.out_of_service,
        "chattering": alarm.chattering,
        "assignee": alarm.assignee,
    }
