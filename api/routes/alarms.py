"""Alarms: the live list for the console, one alarm's history, acknowledgement and comments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import ServicesDep
from api.schemas import AlarmAcknowledge, AlarmComment, AlarmDetail, AlarmPublic

router = APIRouter(prefix="/alarms", tags=["alarms"])


@router.get("", response_model=list[AlarmPublic])
def list_alarms(
    services: ServicesDep,
    active_only: Annotated[bool, Query(description="Only alarms whose condition still holds.")] = False,
    site: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlarmPublic]:
    """Alarm episodes, newest first."""
    alarms = services.db.alarms.list(active_only=active_only, site_id=site, limit=limit)
    return [AlarmPublic.of(alarm) for alarm in alarms]


@router.get("/{alarm_id}", response_model=AlarmDetail)
def get_alarm(services: ServicesDep, alarm_id: int) -> AlarmDetail:
    """One alarm episode with its history: raised, acknowledged, cleared, comments; who and when."""
    return _detail(services, alarm_id)


@router.post("/{alarm_id}/acknowledge", response_model=AlarmDetail)
def acknowledge_alarm(services: ServicesDep, alarm_id: int, body: AlarmAcknowledge) -> AlarmDetail:
    """Acknowledge an alarm: an operator has seen it and takes charge.

    Answers 409 when the alarm's state does not allow it (e.g. already acknowledged or back to normal).
    """
    services.rules.acknowledge(alarm_id, body.actor, body.note)
    return _detail(services, alarm_id)


@router.post("/{alarm_id}/comments", response_model=AlarmDetail, status_code=status.HTTP_201_CREATED)
def comment_alarm(services: ServicesDep, alarm_id: int, body: AlarmComment) -> AlarmDetail:
    """Add a note to an alarm's history without changing its state."""
    services.rules.comment(alarm_id, body.actor, body.note)
    return _detail(services, alarm_id)


def _detail(services: ServicesDep, alarm_id: int) -> AlarmDetail:
    alarm = services.db.alarms.get(alarm_id)
    return AlarmDetail.with_history(alarm, services.db.alarms.history(alarm_id))
