"""The webhook delivery log: what was sent where, what is waiting for a retry, what failed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import ServicesDep
from api.identity import require
from api.schemas.webhooks import DeliveryPublic
from people.access import Permission

router = APIRouter(prefix="/webhooks", tags=["notifications"], dependencies=[require(Permission.ADMIN)])


@router.get("/deliveries", response_model=list[DeliveryPublic])
def list_deliveries(
    services: ServicesDep,
    status: Literal["pending", "delivered", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryPublic]:
    """Webhook deliveries, newest first (empty when no webhook is configured)."""
    if services.notifier is None:
        return []
    return [DeliveryPublic.of(d) for d in services.notifier.log.list(status=status, limit=limit)]
