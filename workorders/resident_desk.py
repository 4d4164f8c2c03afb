"""The residents' side of the desk: file a repair request or a complaint (from a QR code's form, signed in
or not), follow it through a capability link, and rate it once it is done.

A follow link is ``/follow/<token>``: 32 random bytes, URL-safe; only its SHA-256 is stored, so a leaked
database names no link. Whoever holds the link sees the record's progress, never names or phone numbers,
and may rate it once. A signed-in resident's records also carry ``reporter_id`` and are listed for them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.domain import (
    RequestChannel,
    WorkOrder,
    WorkOrderAction,
    WorkOrderKind,
    WorkOrderPriority,
    WorkOrderSource,
    WorkOrderStatus,
)
from core.errors import Conflict, ServiceUnavailable
from storage.records import Database
from storage.records.follow_links import FiledKind, FiledRef, FollowLinkRepository
from workorders.book import Step, WorkOrderBook
from workorders.complaint_desk import ComplaintDesk
from workorders.complaints import Complaint, ComplaintCategory, ComplaintStatus

_S = WorkOrderStatus
_C = ComplaintStatus
# The steps a resident sees, in order, with the milestone that stamps each (the rest is the desk's business).
REQUEST_STEPS: tuple[tuple[str, str], ...] = (
    ("received", "opened_at"), ("dispatched", "dispatched_at"), ("accepted", "accepted_at"),
    ("on_site", "on_site_at"), ("completed", "completed_at"), ("closed", "closed_at"))
COMPLAINT_STEPS: tuple[tuple[str, str], ...] = (
    ("received", "received_at"), ("investigating", "responded_at"), ("closed", "closed_at"))
RATEABLE_REQUEST = frozenset({_S.COMPLETED, _S.VERIFIED, _S.FOLLOWED_UP, _S.CLOSED})
PUBLIC_ACTOR = "resident (follow link)"


def new_token() -> tuple[str, str]:
    """A fresh follow token and the SHA-256 hex digest that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Milestone:
    step: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Progress:
    """What a resident may see of a record they filed: no names, no phone numbers, no technician."""

    kind: FiledKind
    id: int
    site_id: str
    title: str
    status: str
    filed_at: datetime
    milestones: list[Milestone]
    answer: str = ""
    can_rate: bool = False
    satisfaction: int | None = None
    comment: str = ""
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class Filed:
    progress: Progress
    token: str


class ResidentDesk:
    def __init__(self, db: Database, book: WorkOrderBook, complaints: ComplaintDesk | None, clock: Clock) -> None:
        self._db = db
        self._book = book
        self._complaints = complaints
        self._clock = clock
        self.links = FollowLinkRepository.of(db)

    def file_request(self, site_id: str, description: str, *, requester: str, phone: str, address: str,
                     asset_id: str | None = None, channel: RequestChannel = RequestChannel.MOBILE,
                     reporter_id: str | None = None) -> Filed:
        """Open a repair request (source request) with its follow link, in one insert."""
        token, digest = new_token()
        title = description.strip().splitlines()[0][:200]
        order, _ = self._book.open(WorkOrderKind.REQUEST, WorkOrderPriority.NORMAL, title, site_id,
                                   asset_id=asset_id, description=description, actor=reporter_id or requester,
                                   source=WorkOrderSource.REQUEST, channel=channel, requester=requester,
                                   caller_phone=phone, address=address, reporter_id=reporter_id,
                                   follow_token_hash=digest)
        return Filed(request_progress(order), token)

    def file_complaint(self, site_id: str, category: ComplaintCategory, description: str, *, complainant: str,
                       phone: str | None, channel: RequestChannel = RequestChannel.MOBILE,
                       reporter_id: str | None = None) -> Filed:
        complaint = self._desk().register(site_id, channel, category, complainant, description,
                                          actor=reporter_id or complainant, phone=phone)
        token, digest = new_token()
        self.links.stamp("complaint", complaint.id, digest, reporter_id)
        return Filed(complaint_progress(complaint), token)

    def follow(self, token: str) -> Progress:
        """The progress behind a follow link (NotFound for a link that names nothing)."""
        return self.progress(self.links.find(hash_token(token)))

    def progress(self, ref: FiledRef) -> Progress:
        if ref.kind == "request":
            return request_progress(self._db.work_orders.get(ref.id))
        return complaint_progress(self._desk().get(ref.id))

    def rate(self, token: str, satisfaction: int, comment: str = "") -> Progress:
        """Record the resident's rating, 1-5, once the work is done; the same rating again changes nothing,
        another one is a Conflict (409)."""
        return self.rate_filed(self.links.find(hash_token(token)), satisfaction, comment)

    def rate_filed(self, ref: FiledRef, satisfaction: int, comment: str = "") -> Progress:
        """``rate`` for a record found otherwise (a signed-in resident's own)."""
        if ref.kind == "request":
            return request_progress(self._rate_request(ref.id, satisfaction, comment))
        return complaint_progress(self._rate_complaint(ref.id, satisfaction, comment))

    def _rate_request(self, order_id: int, satisfaction: int, comment: str) -> WorkOrder:
        order = self._db.work_orders.get(order_id)
        if _already_rated(order.satisfaction, order.follow_up_comment, satisfaction, comment):
            return order
        if order.status not in RATEABLE_REQUEST or order.satisfaction is not None:
            raise Conflict(_refusal(order.status.value, order.satisfaction))
        if order.status is _S.VERIFIED:  # the resident's rating is the follow-up call the loop waits for
            return self._book.transition(order_id, Step(_S.FOLLOWED_UP, PUBLIC_ACTOR, note=comment,
                                                        satisfaction=satisfaction, expected_version=order.version))
        return self._book.record(order_id, WorkOrderAction.COMMENT, PUBLIC_ACTOR, note=comment,
                                 data={"satisfaction": satisfaction}, satisfaction=satisfaction,
                                 follow_up_comment=comment)

    def _rate_complaint(self, complaint_id: int, satisfaction: int, comment: str) -> Complaint:
        desk = self._desk()
        complaint = desk.get(complaint_id)
        if _already_rated(complaint.satisfaction, complaint.follow_up_comment, satisfaction, comment):
            return complaint
        if complaint.status is not _C.ANSWERED:
            raise Conflict(_refusal(complaint.status.value, complaint.satisfaction))
        return desk.transition(complaint_id, _C.FOLLOWED_UP, PUBLIC_ACTOR, note=comment, satisfaction=satisfaction,
                               expected_version=complaint.version)

    def _desk(self) -> ComplaintDesk:
        if self._complaints is None:
            raise ServiceUnavailable("the complaint desk is not served here")
        return self._complaints


def _already_rated(current: int | None, current_comment: str, satisfaction: int, comment: str) -> bool:
    return current == satisfaction and current_comment == comment


def _refusal(status: str, satisfaction: int | None) -> str:
    if satisfaction is not None:
        return f"already rated {satisfaction} of 5"
    return f"it can be rated once the work is done; it is {status}"


def request_progress(order: WorkOrder) -> Progress:
    milestones = [Milestone(step, getattr(order, name)) for step, name in REQUEST_STEPS]
    return Progress("request", order.id, order.site_id, order.title, order.status.value, order.opened_at,
                    milestones, can_rate=order.status in RATEABLE_REQUEST and order.satisfaction is None,
                    satisfaction=order.satisfaction, comment=order.follow_up_comment,
                    cancelled=order.status is _S.CANCELLED)


def complaint_progress(complaint: Complaint) -> Progress:
    milestones = [Milestone(step, getattr(complaint, name)) for step, name in COMPLAINT_STEPS]
    return Progress("complaint", complaint.id, complaint.site_id, complaint.category.value,
                    complaint.status.value, complaint.received_at, milestones, answer=complaint.answer,
                    can_rate=complaint.status is _C.ANSWERED and complaint.satisfaction is None,
                    satisfaction=complaint.satisfaction, comment=complaint.follow_up_comment,
                    cancelled=complaint.status is _C.WITHDRAWN)
