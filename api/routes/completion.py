"""What a completion form needs to know about one order: the failure codes of its asset's kind.

A technician holds ``orders:own`` but not ``read``, so cannot look the asset up to learn its kind; the
codes are a public list, and the order's asset kind is all this answer reveals.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.identity import require
from api.pages import Page, whole
from api.schemas.workorders import FailureCodePublic
from people.access import Permission
from workorders.codes import failure_codes

router = APIRouter(tags=["work orders"],
                   dependencies=[require(Permission.ORDERS_OWN, Permission.ORDERS, Permission.READ)])


@router.get("/workorders/{work_order_id}/failure-codes", response_model=Page[FailureCodePublic])
def order_failure_codes(services: ServicesDep, work_order_id: int) -> Page[FailureCodePublic]:
    """The failure codes a completion of this order may record (those of its asset's kind; a site-level
    order's otherwise). A small fixed catalogue: one page holds it all, `next_cursor` is always null."""
    order = services.db.work_orders.get(work_order_id)  # 404 for an unknown order
    asset = None if order.asset_id is None else services.db.assets.find(order.asset_id)
    kind = None if asset is None else asset.kind
    return whole([FailureCodePublic(code=code, label=label) for code, label in failure_codes(kind).items()])
