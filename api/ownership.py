"""What is a technician's or a resident's own, and what each may do to it.

Staff with ``read`` see every record; a technician (``orders:own``) sees the orders and rounds assigned to
them, a resident (``requests:own``) the requests and complaints they filed (``reporter_id``). On their own
orders a technician takes the technician's steps of the loop (accept, arrive, work, wait, complete), marks
service restored and adds photos; a resident verifies and rates. Someone else's record answers 404 to a
read (its existence is not theirs to know) and 403 to a write.
"""

from __future__ import annotations

from fastapi import HTTPException, status

from core.domain import WorkOrder, WorkOrderStatus
from core.errors import NotFound
from core.inspections import InspectionRound
from people.access import Permission, Principal
from workorders.complaints import Complaint, ComplaintStatus

TECHNICIAN_STEPS = frozenset({WorkOrderStatus.ACCEPTED, WorkOrderStatus.ON_SITE, WorkOrderStatus.IN_PROGRESS,
                              WorkOrderStatus.WAITING, WorkOrderStatus.COMPLETED})
RESIDENT_STEPS = frozenset({WorkOrderStatus.VERIFIED, WorkOrderStatus.FOLLOWED_UP})
RESIDENT_COMPLAINT_STEPS = frozenset({ComplaintStatus.FOLLOWED_UP, ComplaintStatus.WITHDRAWN})

# Read permissions of the routes that serve own records too: the route narrows the answer to them.
ORDER_READERS = (Permission.READ, Permission.ORDERS_OWN, Permission.REQUESTS_OWN)
ROUND_READERS = (Permission.READ, Permission.ORDERS_OWN)
COMPLAINT_READERS = (Permission.READ, Permission.REQUESTS_OWN)


def forbidden(what: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, what)


def list_owner(principal: Principal) -> str | None:
    """Whose records a list is narrowed to: None (everyone's) for staff who read, else the principal's."""
    return None if principal.can(Permission.READ) else principal.user_id


def _assigned(principal: Principal, assignee: str | None) -> bool:
    return principal.can(Permission.ORDERS_OWN) and assignee == principal.user_id


def _reported(principal: Principal, reporter_id: str | None) -> bool:
    return principal.can(Permission.REQUESTS_OWN) and reporter_id == principal.user_id


def readable_order(principal: Principal, order: WorkOrder) -> WorkOrder:
    """``order`` if the principal may see it; NotFound (404) otherwise."""
    if principal.can(Permission.READ) or _assigned(principal, order.assignee) or _reported(principal,
                                                                                          order.reporter_id):
        return order
    raise NotFound(f"work order {order.id} not found")


def check_step(principal: Principal, order: WorkOrder, to_status: WorkOrderStatus) -> None:
    """403 unless the principal may move ``order`` to ``to_status``."""
    if principal.can(Permission.ORDERS):
        return
    if _assigned(principal, order.assignee) and to_status in TECHNICIAN_STEPS:
        return
    if _reported(principal, order.reporter_id) and to_status in RESIDENT_STEPS:
        return
    raise forbidden(f"you may not take work order {order.id} to {to_status.value}")


def check_work(principal: Principal, order: WorkOrder) -> None:
    """403 unless the principal works this order: the desk, or the technician it is assigned to."""
    if not (principal.can(Permission.ORDERS) or _assigned(principal, order.assignee)):
        raise forbidden(f"work order {order.id} is not assigned to you")


def check_comment(principal: Principal, order: WorkOrder) -> None:
    """403 unless the principal may add to the order's history: the desk, its technician, its reporter."""
    if not (principal.can(Permission.ORDERS) or _assigned(principal, order.assignee)
            or _reported(principal, order.reporter_id)):
        raise forbidden(f"work order {order.id} is not yours")


def readable_round(principal: Principal, round_: InspectionRound) -> InspectionRound:
    if principal.can(Permission.READ) or _assigned(principal, round_.assignee):
        return round_
    raise NotFound(f"inspection round {round_.id} not found")


def check_round(principal: Principal, round_: InspectionRound) -> None:
    """403 unless the principal may walk the round: the desk, or the technician it is assigned to."""
    if not (principal.can(Permission.ORDERS) or _assigned(principal, round_.assignee)):
        raise forbidden(f"inspection round {round_.id} is not assigned to you")


def readable_complaint(principal: Principal, complaint: Complaint) -> Complaint:
    if principal.can(Permission.READ) or _reported(principal, complaint.reporter_id):
        return complaint
    raise NotFound(f"complaint {complaint.id} not found")


def check_complaint_step(principal: Principal, complaint: Complaint, to_status: ComplaintStatus) -> None:
    if principal.can(Permission.ORDERS):
        return
    if _reported(principal, complaint.reporter_id) and to_status in RESIDENT_COMPLAINT_STEPS:
        return
    raise forbidden(f"you may not take complaint {complaint.id} to {to_status.value}")
