"""Alarms: the live list for the console, one alarm's history, acknowledgement, comments, shelving,
assignment, and the ISA-18.2 performance figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.audit import AuditDep
from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.params import ZonedTime, check_window
from api.schemas import (
    AlarmAcknowledge,
    AlarmAssign,
    AlarmComment,
    AlarmDetail,
    AlarmKpis,
    AlarmPublic,
    AlarmShelve,
    AlarmUnshelve,
)
from core.domain import AlarmState, Severity
from people.access import Permission, Principal
from storage.records.alarms import AlarmFilter

router = APIRouter(prefix="/alarms", tags=["alarms"], dependencies=[require(Permission.READ)])
Operator = Annotated[Principal, require(Permission.ALARMS)]


@router.get("", response_model=Page[AlarmPublic])
def list_alarms(
    services: ServicesDep,
    active_only: Annotated[bool, Query(description="Only alarms whose condition still holds.")] = False,
    site: Annotated[str | None, Query(max_length=64)] = None,
    asset: Annotated[str | None, Query(max_length=64, description="Only this asset's alarms.")] = None,
    priority: Annotated[Severity | None, Query(description="Only alarms of this priority (severity).")] = None,
    state: Annotated[AlarmState | None, Query(description="Only alarms in this ISA-18.2 state.")] = None,
    shelved: Annotated[bool | None, Query(description="true: only shelved; false: only not shelved.")] = None,
    suppressed: Annotated[bool | None, Query(description="true: only suppressed by a cause (listed under "
                                                         "it); false: only not suppressed.")] = None,
    since: Annotated[ZonedTime | None, Query(description="Only alarms raised at or after this time.")] = None,
    until: Annotated[ZonedTime | None, Query(description="Only alarms raised before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> Page[AlarmPublic]:
    """Alarm episodes, newest first (by start time, then id: stable across pages), with the total count."""
    where = AlarmFilter(active_only=active_only, site_id=site, asset_id=asset, severity=priority, state=state,
                        shelved=shelved, suppressed=suppressed, since=since, until=until)
    alarms, after, total = services.db.alarms.page_and_total(where, limit, decode_cursor(cursor, zoned_time))
    return Page(items=[AlarmPublic.of(alarm) for alarm in alarms], total=total,
                next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))


@router.get("/kpis", response_model=AlarmKpis)
def alarm_kpis(services: ServicesDep, since: Annotated[ZonedTime | None, Query()] = None,
               until: Annotated[ZonedTime | None, Query()] = None) -> AlarmKpis:
    """ISA-18.2 performance figures (alarms per 10 minutes, time in flood, top-10 share, priority mix,
    chattering alarms) over [since, until); by default the last 24 hours."""
    until = until or services.clock.now()
    since = since or until - timedelta(days=1)
    check_window(since, until)
    return AlarmKpis.model_validate(services.rules.kpis(since, until))


@router.get("/{alarm_id}", response_model=AlarmDetail)
def get_alarm(services: ServicesDep, alarm_id: int) -> AlarmDetail:
    """One alarm episode with its history (raised, acknowledged, shelved, cleared, comments; who and
    when) and the open alarms it suppresses."""
    return _detail(services, alarm_id)


@router.post("/{alarm_id}/acknowledge", response_model=AlarmDetail)
def acknowledge_alarm(services: ServicesDep, alarm_id: int, body: AlarmAcknowledge, principal: Operator,
                      audit: AuditDep) -> AlarmDetail:
    """Acknowledge an alarm: an operator has seen it and takes charge.

    An alarm already acknowledged is answered as it is (200, nothing recorded twice); 409 when its state
    does not allow it (back to normal without ever being acknowledged).
    """
    before = _detail(services, alarm_id)
    services.rules.acknowledge(alarm_id, principal.user_id, body.note)
    return audit.record("alarm.acknowledge", "alarm", alarm_id, before, _detail(services, alarm_id))


@router.post("/{alarm_id}/comments", response_model=AlarmDetail, status_code=status.HTTP_201_CREATED)
def comment_alarm(services: ServicesDep, alarm_id: int, body: AlarmComment, principal: Operator,
                  audit: AuditDep) -> AlarmDetail:
    """Add a note to an alarm's history without changing its state."""
    before = _detail(services, alarm_id)
    services.rules.comment(alarm_id, principal.user_id, body.note)
    return audit.record("alarm.comment", "alarm", alarm_id, before, _detail(services, alarm_id))


@router.post("/{alarm_id}/shelve", response_model=AlarmDetail)
def shelve_alarm(services: ServicesDep, alarm_id: int, body: AlarmShelve, principal: Operator,
                 audit: AuditDep) -> AlarmDetail:
    """Shelve an alarm until a time (at most 7 days ahead): hidden from the live list, no work order,
    unshelved automatically when the time comes. 409 for an alarm back to normal or a past time."""
    before = _detail(services, alarm_id)
    services.rules.shelve(alarm_id, body.end(services.clock.now()), body.reason, principal.user_id)
    return audit.record("alarm.shelve", "alarm", alarm_id, before, _detail(services, alarm_id))


@router.post("/{alarm_id}/unshelve", response_model=AlarmDetail)
def unshelve_alarm(services: ServicesDep, alarm_id: int, body: AlarmUnshelve, principal: Operator,
                   audit: AuditDep) -> AlarmDetail:
    """Put a shelved alarm back on the live list; one not shelved is answered as it is."""
    before = _detail(services, alarm_id)
    services.rules.unshelve(alarm_id, principal.user_id, body.note)
    return audit.record("alarm.unshelve", "alarm", alarm_id, before, _detail(services, alarm_id))


@router.post("/{alarm_id}/assign", response_model=AlarmDetail)
def assign_alarm(services: ServicesDep, alarm_id: int, body: AlarmAssign, principal: Operator,
                 audit: AuditDep) -> AlarmDetail:
    """Give an alarm to someone (null to unassign); 409 for an alarm back to normal."""
    before = _detail(services, alarm_id)
    services.rules.assign(alarm_id, body.assignee, principal.user_id)
    return audit.record("alarm.assign", "alarm", alarm_id, before, _detail(services, alarm_id))


def _detail(services: ServicesDep, alarm_id: int) -> AlarmDetail:
    alarm = services.db.alarms.get(alarm_id)
    under = [a for a in services.db.alarms.list(suppressed_by=alarm_id, limit=1000)
             if a.state is not AlarmState.NORMAL]
    return AlarmDetail.with_history(alarm, services.db.alarms.history(alarm_id), under)
