"""Request and response bodies of complaints (投诉) and notices (公告)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.params import ZonedTime
from core.domain import RequestChannel, WorkOrderKind, WorkOrderPriority
from workorders.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintStatus,
    allowed,
    is_overdue,
    responded_late,
)
from workorders.notices import Notice, NoticeStatus
from workorders.notices import allowed as notice_allowed

_NOTE = Field("", max_length=2000)


class ComplaintCreate(BaseModel):
    """A complaint as the desk takes it: from whom, how it came in, what it is about."""

    site_id: str = Field(min_length=1, max_length=64)
    channel: RequestChannel = RequestChannel.PHONE
    category: ComplaintCategory
    complainant: str = Field(min_length=1, max_length=200, description="Name, flat or user id.")
    phone: str | None = Field(None, max_length=40)
    description: str = Field(min_length=1, max_length=5000)


class ComplaintPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: str
    channel: RequestChannel
    category: ComplaintCategory
    status: ComplaintStatus
    complainant: str
    phone: str | None
    description: str
    received_at: datetime
    respond_due_at: datetime = Field(description="The first response is due by then (the SLA policy's respond target).")
    responded_at: datetime | None = Field(description="When the complaint first left 'received'.")
    answer: str
    satisfaction: int | None
    follow_up_comment: str
    closed_at: datetime | None
    work_order_ids: list[int]
    version: int = Field(description="Give it back as expected_version to change only what you read.")
    overdue: bool = Field(description="Still awaiting its first response after respond_due_at.")
    responded_late: bool
    allowed: list[ComplaintStatus] = Field(description="The statuses it may go to next.")

    @classmethod
    def of(cls, complaint: Complaint, now: datetime) -> ComplaintPublic:
        return cls.model_validate({**_attributes(complaint), "overdue": is_overdue(complaint, now),
                                   "responded_late": responded_late(complaint),
                                   "allowed": allowed(complaint.status)})


class ComplaintEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    note: str


class ComplaintDetail(ComplaintPublic):
    history: list[ComplaintEventPublic]

    @classmethod
    def with_history(cls, complaint: Complaint, history: list[ComplaintEvent], now: datetime) -> ComplaintDetail:
        public = ComplaintPublic.of(complaint, now)
        return cls(history=[ComplaintEventPublic.model_validate(e) for e in history], **public.model_dump())


class ComplaintTransition(BaseModel):
    to_status: ComplaintStatus
    note: str = Field("", max_length=2000, description="The answer (answered), the comment (followed_up), "
                                                        "or the reason (withdrawn, back to investigating).")
    satisfaction: int | None = Field(None, ge=1, le=5, description="1-5, when following up.")
    expected_version: int | None = Field(None, description="The version you read; 409 if it moved on.")


class ComplaintWorkOrder(BaseModel):
    """Link an existing work order (``work_order_id``), or open one for the complaint (``title`` ...)."""

    work_order_id: int | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    kind: WorkOrderKind = WorkOrderKind.CORRECTIVE
    priority: WorkOrderPriority = WorkOrderPriority.NORMAL
    asset_id: str | None = Field(None, max_length=64)
    description: str = Field("", max_length=5000, description="Default: the complaint's description.")

    @model_validator(mode="after")
    def _link_or_open(self) -> ComplaintWorkOrder:
        if (self.work_order_id is None) == (self.title is None):
            raise ValueError("give either 'work_order_id' (link) or 'title' (open a new order)")
        return self


class NoticeCreate(BaseModel):
    site_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    starts_at: ZonedTime
    ends_at: ZonedTime


class NoticeUpdate(BaseModel):
    """What to change in a draft; what is left out stays."""

    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=5000)
    starts_at: ZonedTime | None = None
    ends_at: ZonedTime | None = None


class NoticeFromOrder(BaseModel):
    """The window in which the order's work affects residents."""

    starts_at: ZonedTime
    ends_at: ZonedTime


class NoticePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime
    status: NoticeStatus
    work_order_id: int | None
    created_by: str
    created_at: datetime
    published_at: datetime | None
    allowed: list[NoticeStatus]

    @classmethod
    def of(cls, notice: Notice) -> NoticePublic:
        return cls.model_validate({**_attributes(notice), "allowed": notice_allowed(notice.status)})


def _attributes(obj: Complaint | Notice) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__slots__}
