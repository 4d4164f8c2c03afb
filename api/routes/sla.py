"""SLA clocks: how each target of a work order stands, and the escalations raised at 80 % and at breach."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Services, ServicesDep
from api.errors import unprocessable
from api.identity import require
from api.ownership import ORDER_READERS, readable_order
from api.schemas.sla import EscalationPublic, TargetStatusPublic, WorkOrderSla
from people.access import Permission, Principal
from workorders.sla import SlaPolicy
from workorders.slafile import default_policy

router = APIRouter(tags=["sla"])
DEFAULT_SPAN = timedelta(days=7)


def _policy(services: Services) -> SlaPolicy:
    return services.sla_policy or default_policy()


@router.get("/workorders/{work_order_id}/sla", response_model=WorkOrderSla)
def get_work_order_sla(services: ServicesDep, work_order_id: int,
                       principal: Annotated[Principal, require(*ORDER_READERS)]) -> WorkOrderSla:
    """The SLA targets of a work order (accept, arrive, restore, complete, as its policy sets them), each
    with its deadline, the time used and whether it is running, at risk, paused, met or breached."""
    order = readable_order(principal, services.db.work_orders.get(work_order_id))
    policy = _policy(services)
    terms = policy.terms_for(order.kind, order.priority, order.site_id)
    statuses = policy.status(order, services.db.work_orders.history(work_order_id), services.clock.now())
    return WorkOrderSla(work_order_id=order.id, clock=terms.clock,
                        targets=[TargetStatusPublic.of(status) for status in statuses])


@router.get("/escalations", response_model=list[EscalationPublic], dependencies=[require(Permission.READ)])
def list_escalations(
    services: ServicesDep,
    since: Annotated[datetime | None, Query(description="Start (inclusive); default until - 7 days.")] = None,
    until: Annotated[datetime | None, Query(description="End (exclusive); default now.")] = None,
    work_order: Annotated[int | None, Query(description="Only this work order's escalations.")] = None,
) -> list[EscalationPublic]:
    """SLA escalations raised in ``[since, until)``, oldest first: a target at 80 % of its time (at_risk)
    or past it (breached), each once per work order."""
    end = until or services.clock.now()
    start = since or end - DEFAULT_SPAN
    if start.tzinfo is None or end.tzinfo is None:
        raise unprocessable("'since' and 'until' need a time zone, e.g. 2026-01-01T00:00:00Z")
    if start >= end:
        raise unprocessable("'since' must be before 'until'")
    return [EscalationPublic.of(e) for e in services.db.sla.escalations(start, end, work_order_id=work_order)]
