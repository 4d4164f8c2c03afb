"""SLA clocks: how each target of a work order stands, and the escalations raised at 80 % and at breach."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import Services, ServicesDep
from api.identity import require
from api.ownership import ORDER_READERS, readable_order
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.params import ZonedTime, check_window
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


@router.get("/escalations", response_model=Page[EscalationPublic], dependencies=[require(Permission.READ)])
def list_escalations(
    services: ServicesDep,
    since: Annotated[ZonedTime | None, Query(description="Start (inclusive); default until - 7 days.")] = None,
    until: Annotated[ZonedTime | None, Query(description="End (exclusive); default now.")] = None,
    work_order: Annotated[int | None, Query(ge=1, description="Only this work order's escalations.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> Page[EscalationPublic]:
    """SLA escalations raised in ``[since, until)``, oldest first (then by id): a target at 80 % of its time
    (at_risk) or past it (breached), each once per work order."""
    end = until or services.clock.now()
    start = since or end - DEFAULT_SPAN
    check_window(start, end)
    found, after = services.db.sla.escalation_page(start, end, work_order, limit, decode_cursor(cursor, zoned_time))
    return Page(items=[EscalationPublic.of(e) for e in found],
                total=services.db.sla.escalation_total(start, end, work_order),
                next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))
