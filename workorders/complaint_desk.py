"""The complaint desk: registers complaints, moves them along their lifecycle, links them to work orders.

The I/O shell around ``workorders.complaints`` (pure): it reads the clock, checks the step, and makes
each change one compare-and-set unit of work in ``ComplaintRepository``. A complaint that needs work
opens an order through the work-order book, with source COMPLAINT and source_ref "complaint:<id>".
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime

from core.clock import Clock
from core.domain import RequestChannel, WorkOrder, WorkOrderKind, WorkOrderPriority, WorkOrderSource
from core.errors import InvalidRequest
from core.events import EventBus
from storage.records import Database
from workorders.book import WorkOrderBook
from workorders.complaint_records import ComplaintFilter, ComplaintRepository
from workorders.complaints import (
    RESPOND_WITHIN,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintStatus,
    check_transition,
    requirements,
    respond_due_at,
    step_fields,
)

REGISTERED = "complaint.registered"
CHANGED = "complaint.changed"


class ComplaintDesk:
    def __init__(self, db: Database, book: WorkOrderBook, bus: EventBus, clock: Clock, *,
                 respond_due: Callable[[str, datetime], datetime] | None = None) -> None:
        """``respond_due(site, received_at)``: when the first response is due; the SLA policy's ``respond``
        target in the service (``SlaPolicy.respond_due``), ``RESPOND_WITHIN`` around the clock by default."""
        self._db = db
        self._book = book
        self._bus = bus
        self._clock = clock
        self._respond_due = respond_due or (lambda _site, at: respond_due_at(at, RESPOND_WITHIN))
        self.records = ComplaintRepository.of(db)

    def register(self, site_id: str, channel: RequestChannel, category: ComplaintCategory, complainant: str,
                 description: str, actor: str, phone: str | None = None) -> Complaint:
        """Register a complaint, due for a first response within the target (InvalidRequest: unknown site)."""
        if site_id not in {site.id for site in self._db.assets.sites()}:
            raise InvalidRequest(f"unknown site {site_id!r}")
        now = self._clock.now()
        complaint = self.records.create(site_id, channel, category, complainant, description, now,
                                        self._respond_due(site_id, now), actor, phone=phone)
        self._tell(REGISTERED, complaint)
        return complaint

    def transition(self, complaint_id: int, to_status: ComplaintStatus, actor: str, note: str = "",
                   satisfaction: int | None = None, expected_version: int | None = None) -> Complaint:
        """Take one step (TransitionError naming the allowed ones; InvalidRequest for what it lacks;
        Conflict if the complaint changed meanwhile; NotFound if unknown). A step to the status it already
        has changes and records nothing (idempotent)."""
        current = self.records.get(complaint_id)
        if current.status is to_status:
            return current  # the same step again (a retried request): nothing to record
        check_transition(current.status, to_status)
        missing = requirements(current.status, to_status, note, satisfaction)
        if missing:
            raise InvalidRequest(f"to go to {to_status.value!r} the complaint needs " + ", ".join(missing))
        now = self._clock.now()
        complaint = self.records.change(complaint_id, current.status, now, actor, to_status=to_status,
                                        expected_version=expected_version, note=note,
                                        **step_fields(current, to_status, note, satisfaction, now))
        self._tell(CHANGED, complaint)
        return complaint

    def link_work_order(self, complaint_id: int, work_order_id: int, actor: str) -> Complaint:
        """Link an existing order of the complaint's site (already linked: unchanged)."""
        current = self.records.get(complaint_id)
        order = self._db.work_orders.get(work_order_id)  # NotFound for an unknown order
        if order.site_id != current.site_id:
            raise InvalidRequest(f"work order {order.id} is at site {order.site_id!r}, "
                                 f"the complaint at {current.site_id!r}")
        if work_order_id in current.work_order_ids:
            return current
        return self._link(current, order, actor, f"linked work order {order.id}")

    def open_work_order(self, complaint_id: int, title: str, actor: str, *,
                        kind: WorkOrderKind = WorkOrderKind.CORRECTIVE,
                        priority: WorkOrderPriority = WorkOrderPriority.NORMAL,
                        asset_id: str | None = None, description: str = "") -> tuple[Complaint, WorkOrder]:
        """Open a work order for the complaint (source COMPLAINT, the complainant as requester) and link it."""
        current = self.records.get(complaint_id)
        if current.status.is_terminal:
            raise InvalidRequest(f"complaint {complaint_id} is {current.status.value}: it opens no more orders")
        if asset_id is not None:
            asset = self._db.assets.find(asset_id)
            if asset is None or asset.site_id != current.site_id:
                raise InvalidRequest(f"asset {asset_id!r} is not at the complaint's site {current.site_id!r}")
        order, _ = self._book.open(kind, priority, title, current.site_id, asset_id, description or current.description,
                                   actor=actor, source=WorkOrderSource.COMPLAINT,
                                   source_ref=f"complaint:{complaint_id}", channel=current.channel,
                                   requester=current.complainant, caller_phone=current.phone)
        return self._link(current, order, actor, f"opened work order {order.id}"), order

    def _link(self, current: Complaint, order: WorkOrder, actor: str, note: str) -> Complaint:
        # Compare-and-set on the version read: a link added meanwhile is never lost.
        complaint = self.records.change(current.id, current.status, self._clock.now(), actor,
                                        expected_version=current.version, note=note,
                                        work_order_ids=(*current.work_order_ids, order.id))
        self._tell(CHANGED, complaint)
        return complaint

    def get(self, complaint_id: int) -> Complaint:
        return self.records.get(complaint_id)

    def history(self, complaint_id: int) -> builtins.list[ComplaintEvent]:
        return self.records.history(complaint_id)

    def where(self, site_id: str | None = None, status: ComplaintStatus | None = None, overdue: bool = False,
              reporter_id: str | None = None) -> ComplaintFilter:
        """The filter of a list (``records.page``, ``records.total``): ``overdue``, only those still awaiting
        their first response past its deadline; ``reporter_id``, only those this resident filed."""
        return ComplaintFilter(site_id=site_id, status=status, overdue_at=self._clock.now() if overdue else None,
                               reporter_id=reporter_id)

    def _tell(self, topic: str, complaint: Complaint) -> None:
        # Events carry ids; a console refreshes what it shows from the API.
        self._bus.publish(topic, {"id": complaint.id, "site_id": complaint.site_id,
                                  "status": complaint.status.value, "version": complaint.version})
