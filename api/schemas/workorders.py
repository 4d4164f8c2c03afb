"""Request and response bodies of the service desk: work orders, residents' repair requests, attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from core.domain import (
    PartUsed,
    RequestChannel,
    WaitingFor,
    WorkOrder,
    WorkOrderAction,
    WorkOrderEvent,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderSource,
    WorkOrderStatus,
)
from workorders.lifecycle import allowed

_NOTE = Field("", max_length=2000)
_PHONE = Field(None, min_length=3, max_length=40, pattern=r"^[0-9+()\-. ]+$", description="A phone number.")
# The channels a resident reaches without signing in; the others are the desk's (phone, walk-in, API).
RESIDENT_CHANNELS = frozenset({RequestChannel.WEB, RequestChannel.MOBILE})
# What each channel must give: a resident online names themself; a call logged by the desk needs the
# caller's number and address.
_CONTACT = {RequestChannel.WEB: ("requester", "phone", "address"),
            RequestChannel.MOBILE: ("requester", "phone", "address"),
            RequestChannel.PHONE: ("phone", "address")}


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PartPublic(_Public):
    part: str = Field(min_length=1, max_length=200)
    quantity: float = Field(1.0, gt=0)


class WorkOrderPublic(_Public):
    id: int
    kind: WorkOrderKind
    priority: WorkOrderPriority
    status: WorkOrderStatus
    version: int = Field(description="Send it back as `expected_version`: a stale one is answered 409.")
    title: str
    asset_id: str | None
    site_id: str
    opened_at: datetime
    due_at: datetime = Field(description="The next deadline still pending (on site, then restored/completed).")
    description: str
    assignee: str | None
    alarm_id: int | None
    closed_at: datetime | None
    source: WorkOrderSource = Field(description="Where the job came from.")
    source_ref: str | None = Field(description="The record it links back to: alarm:12, complaint:3, ...")
    channel: RequestChannel | None
    requester: str | None
    caller_phone: str | None
    address: str | None
    related_assets: list[str] = Field(description="A site-level order: the assets involved.")
    recurrences: int = Field(description="New episodes of the same fault attached to this order.")
    waiting_for: WaitingFor | None
    failure_code: str | None
    cause: str | None
    remedy: str | None
    parts: list[PartPublic]
    labour_hours: float | None
    completion_notes: str
    satisfaction: int | None
    follow_up_comment: str
    dispatched_at: datetime | None
    accepted_at: datetime | None
    on_site_at: datetime | None
    restored_at: datetime | None
    completed_at: datetime | None
    verified_at: datetime | None
    followed_up_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def allowed(self) -> list[WorkOrderStatus]:
        """The steps this order may take next, in lifecycle order (the buttons to show)."""
        return list(allowed(self.status))

    @classmethod
    def of(cls, work_order: WorkOrder) -> WorkOrderPublic:
        return cls.model_validate(work_order)


class WorkOrderEventPublic(_Public):
    at: datetime
    actor: str
    action: WorkOrderAction
    from_status: WorkOrderStatus | None
    to_status: WorkOrderStatus = Field(description="For an event that is not a transition: the status it "
                                                   "happened in.")
    note: str
    data: dict[str, Any]


class WorkOrderDetail(WorkOrderPublic):
    history: list[WorkOrderEventPublic]

    @classmethod
    def with_history(cls, work_order: WorkOrder, history: list[WorkOrderEvent]) -> WorkOrderDetail:
        events = [WorkOrderEventPublic.model_validate(e) for e in history]
        fields = {name: getattr(work_order, name) for name in WorkOrderPublic.model_fields}
        return cls.model_validate({**fields, "history": events})


class WorkOrderPage(BaseModel):
    items: list[WorkOrderPublic]
    total: int = Field(description="How many orders match the filters, over all pages.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class WorkOrderCreate(BaseModel):
    """A job the service desk opens itself (source `desk`); residents' requests go to /requests."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    asset_id: str | None = Field(None, description="The machine concerned, if known.")
    site_id: str | None = Field(None, description="Required when no asset is given; else the asset's site.")
    related_assets: list[str] = Field([], max_length=50, description="A site-level order: the assets involved.")
    kind: WorkOrderKind = WorkOrderKind.CORRECTIVE
    priority: WorkOrderPriority = WorkOrderPriority.NORMAL


class RepairRequestCreate(BaseModel):
    """A resident's repair request: sent online (web, mobile form) or logged by the desk from a call."""

    channel: RequestChannel = RequestChannel.WEB
    requester: str | None = Field(None, min_length=1, max_length=200, description="The resident's name.")
    phone: str | None = _PHONE
    address: str | None = Field(None, min_length=1, max_length=500, description="Flat or place, e.g. 2-1203.")
    site_id: str | None = Field(None, description="The building; implied by the asset when one is given.")
    asset_id: str | None = None
    title: str | None = Field(None, min_length=1, max_length=200, description="Default: the description's "
                                                                              "first line.")
    description: str = Field(min_length=1, max_length=5000)
    priority: WorkOrderPriority = WorkOrderPriority.NORMAL

    @model_validator(mode="after")
    def _contact(self) -> RepairRequestCreate:
        # Someone must be able to call back and find the place.
        missing = [name for name in _CONTACT.get(self.channel, ("address",)) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.channel.value} request needs {' and '.join(missing)}")
        return self

    def headline(self) -> str:
        return self.title or self.description.strip().splitlines()[0][:200]


class WorkOrderTransition(BaseModel):
    """One step of the loop; which fields it needs depends on `to_status` (422 names what lacks)."""

    to_status: WorkOrderStatus
    note: str = Field("", max_length=2000, description="Why; required to cancel or to send a completed order "
                                                       "back. The follow-up's comment.")
    expected_version: int | None = Field(None, ge=1, description="The version you read; 409 if it moved on.")
    assignee: str | None = Field(None, max_length=80, description="dispatched: the technician.")
    waiting_for: WaitingFor | None = Field(None, description="waiting: parts, shutdown or resident.")
    failure_code: str | None = Field(None, max_length=32, description="completed: from /failure-codes.")
    cause: str | None = Field(None, max_length=2000, description="completed: what was wrong.")
    remedy: str | None = Field(None, max_length=2000, description="completed: what was done.")
    parts: list[PartPublic] = Field([], max_length=100, description="completed: parts used.")
    labour_hours: float | None = Field(None, ge=0, le=1000, description="completed: hours worked.")
    satisfaction: int | None = Field(None, description="followed_up: 1 (poor) to 5 (excellent).")

    def parts_used(self) -> tuple[PartUsed, ...]:
        return tuple(PartUsed(p.part, p.quantity) for p in self.parts)


class WorkOrderComment(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class WorkOrderRestore(BaseModel):
    """Service is back (the passenger is out, water flows) before the repair is complete."""

    note: str = _NOTE


class FailureCodePublic(BaseModel):
    code: str
    label: str


class AttachmentPublic(_Public):
    id: int
    work_order_id: int
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
