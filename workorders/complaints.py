"""Complaints (投诉) as a pure lifecycle: the states, what each step needs, the first-response deadline.

received → investigating → answered → followed up → closed; withdrawn (with a reason) while still open.
Time comes in as data; the I/O shell is ``workorders.complaint_desk``, the storage
``workorders.complaint_records``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import RequestChannel
from core.errors import TransitionError

# The first-response target, around the clock (the service standard's 24 hours). Kept simple on purpose:
# workorders.sla may later carry a `respond` target per category; this is the default until then.
RESPOND_WITHIN = timedelta(hours=24)


class ComplaintStatus(enum.StrEnum):
    RECEIVED = "received"  # 受理: registered, nobody has answered the complainant yet
    INVESTIGATING = "investigating"  # 调查: the desk has responded and is looking into it
    ANSWERED = "answered"  # 答复: the complainant has been given the outcome
    FOLLOWED_UP = "followed_up"  # 回访: called back, satisfaction recorded
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # the complainant took it back

    @property
    def is_terminal(self) -> bool:
        return self in (ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN)


class ComplaintCategory(enum.StrEnum):
    SERVICE_ATTITUDE = "service_attitude"
    RESPONSE_TIME = "response_time"
    REPAIR_QUALITY = "repair_quality"
    NOISE = "noise"
    CLEANLINESS = "cleanliness"
    SAFETY = "safety"
    FEES = "fees"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Complaint:
    id: int
    site_id: str
    channel: RequestChannel
    category: ComplaintCategory
    status: ComplaintStatus
    complainant: str
    phone: str | None
    description: str
    received_at: datetime
    respond_due_at: datetime  # received_at + the first-response target
    responded_at: datetime | None = None  # when it first left RECEIVED (the first response)
    answer: str = ""
    satisfaction: int | None = None  # 1-5, from the follow-up
    follow_up_comment: str = ""
    closed_at: datetime | None = None  # closed or withdrawn
    work_order_ids: tuple[int, ...] = ()  # the orders it concerns or opened
    version: int = 1  # optimistic locking: every change increments it
    reporter_id: str | None = None  # the signed-in resident who filed it (their own complaint)


@dataclass(frozen=True, slots=True)
class ComplaintEvent:
    """One recorded change: who, when, why. A link to a work order keeps the status (from == to)."""

    complaint_id: int
    at: datetime
    actor: str
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    note: str


_S = ComplaintStatus

ALLOWED: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    _S.RECEIVED: frozenset({_S.INVESTIGATING, _S.WITHDRAWN}),
    _S.INVESTIGATING: frozenset({_S.ANSWERED, _S.WITHDRAWN}),
    # Back to investigating: the complainant does not accept the answer.
    _S.ANSWERED: frozenset({_S.FOLLOWED_UP, _S.INVESTIGATING, _S.WITHDRAWN}),
    _S.FOLLOWED_UP: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.WITHDRAWN: frozenset(),
}


def allowed(current: ComplaintStatus) -> tuple[ComplaintStatus, ...]:
    """Where a complaint in ``current`` may go, in lifecycle order (the console's buttons)."""
    order = list(ComplaintStatus)
    return tuple(sorted(ALLOWED[current], key=order.index))


def check_transition(current: ComplaintStatus, requested: ComplaintStatus) -> None:
    """Raise TransitionError, naming the allowed steps, unless ``current`` may go to ``requested``."""
    if requested not in ALLOWED[current]:
        raise TransitionError("complaint", current.value, requested.value,
                              tuple(status.value for status in allowed(current)))


def requirements(current: ComplaintStatus, to: ComplaintStatus, note: str, satisfaction: int | None) -> list[str]:
    """What a step from ``current`` to ``to`` lacks, in words (empty: nothing lacks)."""
    missing = []
    if to is _S.ANSWERED and not note.strip():
        missing.append("the answer given to the complainant (note)")
    if to is _S.FOLLOWED_UP and (satisfaction is None or not 1 <= satisfaction <= 5):
        missing.append("the satisfaction, 1 to 5")
    if (to is _S.WITHDRAWN or (current is _S.ANSWERED and to is _S.INVESTIGATING)) and not note.strip():
        missing.append("a reason (note)")
    return missing


def step_fields(complaint: Complaint, to: ComplaintStatus, note: str, satisfaction: int | None,
                at: datetime) -> dict[str, object]:
    """The columns a step to ``to`` taken at ``at`` sets on ``complaint``."""
    fields: dict[str, object] = {}
    if complaint.responded_at is None and to is not _S.WITHDRAWN:
        fields["responded_at"] = at  # the first response stops the first-response clock
    if to is _S.ANSWERED:
        fields["answer"] = note
    if to is _S.FOLLOWED_UP:
        fields.update(satisfaction=satisfaction, follow_up_comment=note)
    if to.is_terminal:
        fields["closed_at"] = at
    return fields


def respond_due_at(received_at: datetime, within: timedelta = RESPOND_WITHIN) -> datetime:
    """When the first response is due: the clock runs around the clock from receipt."""
    return received_at + within


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    """Still waiting for its first response (received, not withdrawn) after the deadline passed."""
    return complaint.status is _S.RECEIVED and now > complaint.respond_due_at


def responded_late(complaint: Complaint) -> bool:
    """The first response came, but after the deadline (for the figures)."""
    return complaint.responded_at is not None and complaint.responded_at > complaint.respond_due_at
