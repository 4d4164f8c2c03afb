"""The webhook delivery log: what was sent where, what is waiting for a retry, what failed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import ServicesDep
from api.identity import require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.schemas.webhooks import DeliveryPublic
from people.access import Permission

router = APIRouter(prefix="/webhooks", tags=["notifications"], dependencies=[require(Permission.ADMIN)])


@router.get("/deliveries", response_model=Page[DeliveryPublic])
def list_deliveries(
    services: ServicesDep,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> Page[DeliveryPublic]:
    """Webhook deliveries, newest first (by creation, then id; empty when no webhook is configured)."""
    if services.notifier is None:
        return Page(items=[], total=0)
    log = services.notifier.log
    deliveries, after = log.page(status, limit, decode_cursor(cursor, zoned_time))
    return Page(items=[DeliveryPublic.of(d) for d in deliveries], total=log.total(status),
                next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))
