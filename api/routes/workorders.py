"""Work orders: the desk's book, the loop's steps, residents' repair requests and the failure codes.

``router`` needs the API token; ``public_router`` (POST /requests) is open, because residents have no
token: through it they may file a request from the web or the mobile form, while a call logged by the
desk (phone, walk-in, API) still needs the token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.audit import AuditDep
from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import Services, ServicesDep
from api.errors import unprocessable
from api.identity import OptionalPrincipalDep, require, unauthorized
from api.ownership import ORDER_READERS, check_comment, check_step, check_work, list_owner, readable_order
from api.pages import Page, whole
from api.schemas.workorders import (
    RESIDENT_CHANNELS,
    FailureCodePublic,
    RepairRequestCreate,
    WorkOrderComment,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderPage,
    WorkOrderPublic,
    WorkOrderRestore,
    WorkOrderTransition,
)
from core.domain import AssetKind, WorkOrderKind, WorkOrderPriority, WorkOrderSource, WorkOrderStatus
from people.access import Permission, Principal
from storage.records.work_orders import WorkOrderFilter
from workorders.book import Step
from workorders.codes import failure_codes

router = APIRouter(tags=["work orders"])
public_router = APIRouter(tags=["work orders"])
Reader = Annotated[Principal, require(*ORDER_READERS)]
Desk = Annotated[Principal, require(Permission.ORDERS)]
Stepper = Annotated[Principal, require(Permission.ORDERS, Permission.ORDERS_OWN, Permission.REQUESTS_OWN)]
Worker = Annotated[Principal, require(Permission.ORDERS, Permission.ORDERS_OWN)]


@router.get("/workorders", response_model=WorkOrderPage)
def list_work_orders(
    services: ServicesDep,
    principal: Reader,
    status_: Annotated[WorkOrderStatus | None, Query(alias="status")] = None,
    site: str | None = None,
    asset: Annotated[str | None, Query(description="The order's asset, or one of a site-level order's.")] = None,
    assignee: str | None = None,
    kind: WorkOrderKind | None = None,
    priority: WorkOrderPriority | None = None,
    source: WorkOrderSource | None = None,
    overdue: Annotated[bool, Query(description="Only open orders past their due time.")] = False,
    open_only: Annotated[bool, Query(description="Only work orders not closed or cancelled.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> WorkOrderPage:
    """Work orders, newest first (by opening time, then id: stable across pages), with the total count.
    A technician sees the orders assigned to them, a resident those they filed."""
    where = WorkOrderFilter(status=status_, site_id=site, asset_id=asset, assignee=assignee, kind=kind,
                            priority=priority, source=source, open_only=open_only,
                            overdue_at=services.clock.now() if overdue else None, owner=list_owner(principal))
    orders, after, total = services.db.work_orders.page_and_total(where, limit, decode_cursor(cursor, zoned_time))
    return WorkOrderPage(items=[WorkOrderPublic.of(o) for o in orders], total=total,
                         next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))


@router.post("/workorders", response_model=WorkOrderDetail, status_code=status.HTTP_201_CREATED)
def create_work_order(services: ServicesDep, body: WorkOrderCreate, principal: Desk,
                      audit: AuditDep) -> WorkOrderDetail:
    """Open a work order from the service desk (source `desk`).

    Give the asset if known (its site is then implied), else the site. The first deadline follows from the
    priority. Residents' repair requests go to `POST /requests`.
    """
    site_id = _site_of(services, body.site_id, body.asset_id)
    order, _ = services.book.open(body.kind, body.priority, body.title, site_id, asset_id=body.asset_id,
                                  description=body.description, actor=principal.user_id,
                                  source=WorkOrderSource.DESK, related_assets=tuple(body.related_assets))
    return audit.record("workorder.create", "work_order", order.id, None, _detail(services, order.id))


@public_router.post("/requests", response_model=WorkOrderDetail, status_code=status.HTTP_201_CREATED)
def create_repair_request(services: ServicesDep, body: RepairRequestCreate,
                          principal: OptionalPrincipalDep) -> WorkOrderDetail:
    """File a resident's repair request (source `request`).

    Residents send it online (`channel` web or mobile: name, phone, flat, the site or asset, what is wrong)
    without a token; the desk logs a phone call (`channel` phone: the caller's number and address
    required) with the API token. The answer's `id` is the order number to quote.
    """
    if body.channel not in RESIDENT_CHANNELS and principal is None:
        raise unauthorized("a phone call is logged by the desk: sign in")
    site_id = _site_of(services, body.site_id, body.asset_id)
    order, _ = services.book.open(WorkOrderKind.REQUEST, body.priority, body.headline(), site_id,
                                  asset_id=body.asset_id, description=body.description,
                                  actor=principal.user_id if principal else body.requester or "resident",
                                  source=WorkOrderSource.REQUEST,
                                  channel=body.channel, requester=body.requester, caller_phone=body.phone,
                                  address=body.address)
    return _detail(services, order.id)


@router.get("/workorders/{work_order_id}", response_model=WorkOrderDetail)
def get_work_order(services: ServicesDep, work_order_id: int, principal: Reader) -> WorkOrderDetail:
    """One work order with its history: every step, comment and attachment (who, when, why)."""
    readable_order(principal, services.db.work_orders.get(work_order_id))
    return _detail(services, work_order_id)


@router.post("/workorders/{work_order_id}/transitions", response_model=WorkOrderDetail)
def transition_work_order(services: ServicesDep, work_order_id: int, body: WorkOrderTransition,
                          principal: Stepper, audit: AuditDep) -> WorkOrderDetail:
    """Take one step of the loop: dispatch, accept, arrive, work, wait, complete, verify, follow up, close,
    cancel.

    409 when the lifecycle does not allow the step (naming `current`, `requested` and `allowed`) or when
    `expected_version` is stale; 422 naming what the step lacks (a completion needs failure code, cause,
    remedy and labour hours). 403 for a step that is not yours: a technician takes the technician's steps on
    the orders assigned to them, a resident verifies and rates their own request.
    """
    check_step(principal, services.db.work_orders.get(work_order_id), body.to_status)
    before = _detail(services, work_order_id)
    services.book.transition(work_order_id, Step(
        body.to_status, principal.user_id, note=body.note, expected_version=body.expected_version,
        assignee=body.assignee,
        waiting_for=body.waiting_for, failure_code=body.failure_code, cause=body.cause, remedy=body.remedy,
        parts=body.parts_used(), labour_hours=body.labour_hours, satisfaction=body.satisfaction))
    return audit.record(f"workorder.{body.to_status.value}", "work_order", work_order_id, before,
                        _detail(services, work_order_id))


@router.post("/workorders/{work_order_id}/comments", response_model=WorkOrderDetail,
             status_code=status.HTTP_201_CREATED)
def comment_work_order(services: ServicesDep, work_order_id: int, body: WorkOrderComment, principal: Stepper,
                       audit: AuditDep) -> WorkOrderDetail:
    """Add a note to the order's history without changing its status (the desk, its technician, its reporter)."""
    check_comment(principal, services.db.work_orders.get(work_order_id))
    before = _detail(services, work_order_id)
    services.book.comment(work_order_id, principal.user_id, body.note)
    return audit.record("workorder.comment", "work_order", work_order_id, before, _detail(services, work_order_id))


@router.post("/workorders/{work_order_id}/restore", response_model=WorkOrderDetail)
def restore_work_order(services: ServicesDep, work_order_id: int, body: WorkOrderRestore, principal: Worker,
                       audit: AuditDep) -> WorkOrderDetail:
    """Service is back (the passenger is out, water flows) before the repair is complete; the restore
    clock stops. Only on site, in progress or waiting (422 otherwise); a second call changes nothing."""
    check_work(principal, services.db.work_orders.get(work_order_id))
    before = _detail(services, work_order_id)
    services.book.mark_restored(work_order_id, principal.user_id, body.note)
    return audit.record("workorder.restore", "work_order", work_order_id, before, _detail(services, work_order_id))


@router.get("/failure-codes", response_model=Page[FailureCodePublic],
            dependencies=[require(Permission.READ, Permission.ORDERS_OWN)])
def list_failure_codes(
    kind: Annotated[AssetKind | None, Query(description="The asset kind; none: orders without an asset.")] = None,
) -> Page[FailureCodePublic]:
    """The failure codes a completion may record for an asset of `kind`. A small fixed catalogue: one page
    holds it all, `next_cursor` is always null."""
    return whole([FailureCodePublic(code=code, label=label) for code, label in failure_codes(kind).items()])


def _site_of(services: Services, site_id: str | None, asset_id: str | None) -> str:
    """The site a new work order belongs to; refuses an unknown or contradictory asset or site."""
    if asset_id is not None:
        asset = services.db.assets.find(asset_id)
        if asset is None:
            raise unprocessable(f"unknown asset {asset_id!r}")
        if site_id is not None and site_id != asset.site_id:
            raise unprocessable(f"asset {asset.id!r} is at site {asset.site_id!r}, not {site_id!r}")
        return asset.site_id
    if site_id is None:
        raise unprocessable("give 'asset_id' or 'site_id'")
    if site_id not in {site.id for site in services.db.assets.sites()}:
        raise unprocessable(f"unknown site {site_id!r}")
    return site_id


def _detail(services: Services, work_order_id: int) -> WorkOrderDetail:
    order = services.db.work_orders.get(work_order_id)
    return WorkOrderDetail.with_history(order, services.db.work_orders.history(work_order_id))
