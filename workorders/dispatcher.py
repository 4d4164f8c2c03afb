"""The dispatch service: reads the facts dispatch needs, proposes, dispatches, and guards the book.

``propose`` ranks the qualified technicians for an order (``workorders.dispatch``); ``dispatch`` sends it
to the first available one, or to the technician the supervisor names instead; ``check`` is the book's
``Check`` that refuses dispatching to, or accepting by, anyone not qualified on the day - so no path
(API, simulator, console) can hand an order to someone without the skill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.domain import AssetKind, WorkOrder, WorkOrderStatus
from core.errors import InvalidRequest
from people.model import Role
from people.records import PeopleRecords
from people.roster import on_call, on_shift
from storage.records import Database
from storage.records.work_orders import WorkOrderFilter
from workorders.book import Step, WorkOrderBook
from workorders.dispatch import Candidate, Job, job_of, propose, shortfall, site_zones, unqualified

_S = WorkOrderStatus
# Work a technician holds: dispatched to them and not yet completed.
HELD = (_S.DISPATCHED, _S.ACCEPTED, _S.ON_SITE, _S.IN_PROGRESS, _S.WAITING)


@dataclass(frozen=True, slots=True)
class Proposal:
    """Who to send to an order at ``at``, best first, and who was left out and why."""

    order: WorkOrder
    job: Job
    at: datetime
    candidates: list[Candidate]
    unqualified: list[tuple[str, str]]


class DispatchService:
    def __init__(self, db: Database, people: PeopleRecords, book: WorkOrderBook, clock: Clock) -> None:
        self._db = db
        self._people = people
        self._book = book
        self._clock = clock

    @property
    def people(self) -> PeopleRecords:
        """The users, technicians and shifts dispatch reads (the API edits them through this too)."""
        return self._people

    def job(self, order: WorkOrder) -> Job:
        """``order`` with the skill it needs, from the kinds of the assets it concerns."""
        kinds: dict[str, AssetKind] = {}
        for asset_id in (order.asset_id, *order.related_assets):
            asset = self._db.assets.find(asset_id) if asset_id is not None else None
            if asset is not None:
                kinds[asset.id] = asset.kind
        return job_of(order, kinds)

    def propose(self, work_order_id: int) -> Proposal:
        """The ranked candidates for an order now, with their reasons (NotFound for an unknown order)."""
        order = self._db.work_orders.get(work_order_id)
        at = self._clock.now()
        job = self.job(order)
        technicians = self._people.technicians.list()
        shifts = self._people.shifts.between(at, at)
        open_work = {tech.user_id: self._db.work_orders.total(WorkOrderFilter(assignee=tech.user_id, statuses=HELD))
                     for tech in technicians}
        return Proposal(order, job, at, propose(job, technicians, shifts, open_work, at),
                        unqualified(job, technicians, at))

    def recipients(self, site_id: str, level: int, at: datetime) -> list[dict[str, Any]]:
        """Who an escalation about ``site_id`` pages: level 1 the technicians covering the site who are on
        shift or on call at ``at``; level 2 and up their supervisors (every active supervisor if none is
        named). JSON-safe dicts (id, name, phone) for the webhook body."""
        technicians = self._people.technicians.list()
        zones = site_zones(site_id, technicians)
        shifts = self._people.shifts.between(at, at)
        working = on_shift(shifts, at) | on_call(shifts, at)
        first = [t.user_id for t in technicians if t.user_id in working and t.covers(site_id, zones)]
        users = {user.id: user for user in self._people.users.list(active_only=True)}
        if level <= 1:
            chosen = first
        else:
            named = {users[u].supervisor_id for u in first if u in users and users[u].supervisor_id}
            chosen = sorted(u for u in named if u is not None) or sorted(
                u.id for u in users.values() if Role.SUPERVISOR in u.roles)
        return [{"id": u, "name": users[u].name if u in users else u, "phone": users[u].phone if u in users else None}
                for u in chosen]

    def dispatch(self, work_order_id: int, actor: str, technician: str | None = None, note: str = "",
                 expected_version: int | None = None) -> WorkOrder:
        """Dispatch to ``technician`` (the supervisor's choice; the check refuses an unqualified one), or, if
        None, to the best available candidate (InvalidRequest if nobody qualified is on shift or on call)."""
        data: dict[str, Any] = {}
        if technician is None:
            proposal = self.propose(work_order_id)
            best = next((c for c in proposal.candidates if c.available), None)
            if best is None:
                raise InvalidRequest(_nobody(proposal))
            technician = best.user_id
            data = {"auto": True, "reasons": list(best.reasons)}
            expected_version = expected_version or proposal.order.version
        return self._book.transition(work_order_id, Step(_S.DISPATCHED, actor, note=note, assignee=technician,
                                                         expected_version=expected_version, data=data))

    def check(self, order: WorkOrder, step: Step, at: datetime) -> None:
        """The book's Check: refuse dispatching to, or accepting by, someone not qualified at ``at``."""
        if step.to_status is _S.DISPATCHED:
            holder = step.assignee
        elif step.to_status is _S.ACCEPTED:
            holder = order.assignee or step.actor  # a requested order taken directly goes to its taker
        else:
            return
        if holder is None:
            return  # the book asks for the missing assignee itself
        reason = self._refusal(order, holder, at)
        if reason is not None:
            raise InvalidRequest(f"work order {order.id} cannot go to {holder}: {reason}")

    def _refusal(self, order: WorkOrder, user_id: str, at: datetime) -> str | None:
        user = self._people.users.find(user_id)
        tech = self._people.technicians.find(user_id)
        if user is None or tech is None:
            return f"{user_id} is not a technician"
        if not user.active:
            return f"{user_id} is not active"
        return shortfall(tech, self.job(order).need, at)


def _nobody(proposal: Proposal) -> str:
    need = proposal.job.need.skill.value
    if not proposal.candidates:
        return f"nobody can take this order: no active technician has the {need!r} skill (and certificate) it needs"
    return (f"no technician with the {need!r} skill is on shift"
            f"{' or on call' if proposal.job.emergency else ''} now; dispatch by name")
