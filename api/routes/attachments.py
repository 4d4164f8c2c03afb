"""Photos on work orders: upload (multipart), list, download."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, UploadFile, status
from fastapi.responses import Response

from api.audit import AuditDep
from api.deps import Services, ServicesDep
from api.identity import require
from api.ownership import ORDER_READERS, check_work, readable_order
from api.pages import Page, whole
from api.schemas.workorders import AttachmentPublic
from core.errors import ServiceUnavailable
from people.access import Permission, Principal
from workorders.attachments import Attachments

router = APIRouter(prefix="/workorders/{work_order_id}/attachments", tags=["work orders"])
Reader = Annotated[Principal, require(*ORDER_READERS)]


def _attachments(services: Services) -> Attachments:
    if services.attachments is None:
        raise ServiceUnavailable("attachments are not configured on this service")
    return services.attachments


@router.post("", response_model=AttachmentPublic, status_code=status.HTTP_201_CREATED)
async def upload_attachment(
    services: ServicesDep, work_order_id: int, file: Annotated[UploadFile, File()],
    principal: Annotated[Principal, require(Permission.ORDERS, Permission.ORDERS_OWN)], audit: AuditDep,
) -> AttachmentPublic:
    """Attach a photo (JPEG, PNG, WebP, HEIC or GIF, judged from its bytes) to the order; recorded in its
    history. 413 over the size limit, 422 for anything that is not an image; 403 on an order not yours."""
    attachments = _attachments(services)
    check_work(principal, services.db.work_orders.get(work_order_id))
    # Read at most one byte past the limit: enough to refuse a larger file without holding all of it.
    data = await file.read(attachments.max_bytes + 1)
    attachment = attachments.add(work_order_id, file.filename or "photo", data, principal.user_id)
    return audit.record("workorder.attach", "work_order", work_order_id, None,
                        AttachmentPublic.model_validate(attachment))


@router.get("", response_model=Page[AttachmentPublic])
def list_attachments(services: ServicesDep, work_order_id: int, principal: Reader) -> Page[AttachmentPublic]:
    """The order's attachments, oldest first. One order's photos are few, so one page holds them all:
    `next_cursor` is always null."""
    readable_order(principal, services.db.work_orders.get(work_order_id))
    return whole([AttachmentPublic.model_validate(a) for a in _attachments(services).list(work_order_id)])


@router.get("/{attachment_id}", response_class=Response,
            responses={200: {"content": {"image/*": {}}, "description": "The file as uploaded."}})
def download_attachment(services: ServicesDep, work_order_id: int, attachment_id: int,
                        principal: Reader) -> Response:
    """The attached file itself, with its image type."""
    readable_order(principal, services.db.work_orders.get(work_order_id))
    attachment, data = _attachments(services).read(work_order_id, attachment_id)
    disposition = f"inline; filename*=UTF-8''{quote(attachment.filename, safe='')}"
    return Response(data, media_type=attachment.content_type,
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, max-age=3600"})

