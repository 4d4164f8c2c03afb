"""Files attached to work orders (photos of the fault and the repair): their records; the bytes live in a
blob store (``workorders.attachments``) under ``storage_key``."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.records.models import AttachmentRow, WorkOrderRow
from storage.records.sessions import Repository, get_row


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int  # 0 until stored
    work_order_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    uploaded_by: str
    uploaded_at: datetime


def _attachment(row: AttachmentRow) -> Attachment:
    return Attachment(row.id, row.work_order_id, row.filename, row.content_type, row.size, row.sha256,
                      row.storage_key, row.uploaded_by, row.uploaded_at)


class AttachmentRepository(Repository):
    def add(self, attachment: Attachment) -> Attachment:
        """Record ``attachment`` (NotFound if its work order does not exist)."""
        with self._transaction() as session:
            get_row(session, WorkOrderRow, attachment.work_order_id, "work order")
            row = AttachmentRow(work_order_id=attachment.work_order_id, filename=attachment.filename,
                                content_type=attachment.content_type, size=attachment.size,
                                sha256=attachment.sha256, storage_key=attachment.storage_key,
                                uploaded_by=attachment.uploaded_by, uploaded_at=attachment.uploaded_at)
            session.add(row)
            session.flush()
            return _attachment(row)

    def get(self, attachment_id: int) -> Attachment:
        with self._transaction() as session:
            return _attachment(get_row(session, AttachmentRow, attachment_id, "attachment"))

    def list(self, work_order_id: int) -> builtins.list[Attachment]:
        """The order's attachments, oldest first (NotFound for an unknown order)."""
        query = select(AttachmentRow).where(AttachmentRow.work_order_id == work_order_id).order_by(AttachmentRow.id)
        with self._transaction() as session:
            get_row(session, WorkOrderRow, work_order_id, "work order")
            return [_attachment(row) for row in session.scalars(query)]
