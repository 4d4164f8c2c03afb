"""The audit log, for admins: every write through the API (who, what, which record, before and after)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from api.cursors import decode_cursor, encode_cursor
from api.deps import ServicesDep
from api.errors import unprocessable
from api.identity import require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.schemas.audit import AuditEntryPublic
from people.access import Permission
from storage.records.audit import AuditFilter

router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[require(Permission.ADMIN)])


def _aware(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(text)
    return at


@router.get("", response_model=Page[AuditEntryPublic])
def list_audit(
    services: ServicesDep,
    actor: Annotated[str | None, Query(max_length=64, description="Only this user's writes.")] = None,
    action: Annotated[str | None, Query(max_length=200, description='Actions starting with this, e.g. "alarm." '
                                                                    'or "workorder.completed".')] = None,
    target_type: Annotated[str | None, Query(max_length=32, description="e.g. work_order, alarm.")] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[AwareDatetime | None, Query(description="At or after this time.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> Page[AuditEntryPublic]:
    """Recorded writes, newest first (by time, then id: stable across pages), with the total matching."""
    if since is not None and until is not None and until <= since:
        raise unprocessable("until must be after since")
    where = AuditFilter(actor=actor, action=action, target_type=target_type, target_id=target_id,
                        since=since, until=until)
    entries, after = services.db.audit.page(where, limit, decode_cursor(cursor, _aware))
    return Page[AuditEntryPublic](items=[AuditEntryPublic.model_validate(e) for e in entries],
                                  total=services.db.audit.total(where),
                                  next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))
