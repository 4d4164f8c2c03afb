"""Work orders: the book technicians work from, and where residents' repair requests enter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Services, ServicesDep
from api.errors import unprocessable
from api.schemas import WorkOrderCreate, WorkOrderDetail, WorkOrderPublic, WorkOrderTransition
from core.domain import WorkOrderStatus
from workorders.book import Step

router = APIRouter(prefix="/workorders", tags=["work orders"])


@router.get("", response_model=list[WorkOrderPublic])
def list_work_orders(
    services: ServicesDep,
    status_: Annotated[WorkOrderStatus | None, Query(alias="status")] = None,
    site: str | None = None,
    asset: str | None = None,
    open_only: Annotated[bool, Query(description="Only work orders not closed or cancelled.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[WorkOrderPublic]:
    """Work orders, newest first, filtered by status, site or asset."""
    orders = services.db.work_orders.list(status=status_, site_id=site, asset_id=asset,
                                          open_only=open_only, limit=limit)
    return [WorkOrderPublic.of(order) for order in orders]


@router.post("", response_model=WorkOrderDetail, status_code=status.HTTP_201_CREATED)
def create_work_order(services: ServicesDep, body: WorkOrderCreate) -> WorkOrderDetail:
    """File a work order, typically a repair request or complaint from a resident or the front desk.

    Give the asset if known (its site is then implied), else the site. The due time follows from the
    priority's response time.
    """
    site_id = _site_of(services, body)
    order, _ = services.book.open(body.kind, body.priority, body.title, site_id, asset_id=body.asset_id,
                                  description=body.description, actor=body.actor)
    return _detail(services, order.id)


@router.get("/{work_order_id}", response_model=WorkOrderDetail)
def get_work_order(services: ServicesDep, work_order_id: int) -> WorkOrderDetail:
    """One work order with its history of status changes."""
    return _detail(services, work_order_id)


@router.post("/{work_order_id}/transitions", response_model=WorkOrderDetail)
def transition_work_order(services: ServicesDep, work_order_id: int,
                          body: WorkOrderTransition) -> WorkOrderDetail:
    """Move a work order on: assign, start, hold, complete (with cause and remedy), close or cancel.

    Answers 409, naming the current and requested status, when the lifecycle does not allow the step.
    """
    services.book.transition(work_order_id, Step(body.to_status, body.actor, note=body.note,
                                                 assignee=body.assignee, cause=body.cause, remedy=body.remedy))
    return _detail(services, work_order_id)


def _site_of(services: Services, body: WorkOrderCreate) -> str:
    """The site a new work order belongs to; refuses an unknown or contradictory asset or site."""
    if body.asset_id is not None:
        asset = services.db.assets.find(body.asset_id)
        if asset is None:
            raise unprocessable(f"unknown asset {body.asset_id!r}")
        if body.site_id is not None and body.site_id != asset.site_id:
            raise unprocessable(f"asset {asset.id!r} is at site {asset.site_id!r}, not {body.site_id!r}")
        return asset.site_id
    if body.site_id is None:
        raise unprocessable("give 'asset_id' or 'site_id'")
    if body.site_id not in {site.id for site in services.db.assets.sites()}:
        raise unprocessable(f"unknown site {body.site_id!r}")
    return body.site_id


def _detail(services: Services, work_order_id: int) -> WorkOrderDetail:
    order = services.db.work_orders.get(work_order_id)
    return WorkOrderDetail.with_history(order, services.db.work_orders.history(work_order_id))
