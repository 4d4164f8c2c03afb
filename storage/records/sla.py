"""What the SLA watch writes: escalations (once per order, target and level) and each order's next deadline.

The database makes an escalation idempotent: the unique key (work order, target, level) lets the first
insert win, so a check that runs again, or twice at once, records nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from core.domain import WorkOrderAction
from core.errors import NotFound
from storage.records.models import SlaEscalationRow, UserRow, WorkOrderEventRow, WorkOrderRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository


@dataclass(frozen=True, slots=True)
class Escalation:
    """An SLA target of a work order that reached 80 % of its time (``at_risk``) or was ``breached``."""

    id: int
    work_order_id: int
    target: str  # accept | arrive | restore | complete | respond
    level: str  # at_risk | breached
    at: datetime
    due_at: datetime
    notified: str  # who was told ("" for nobody in particular: routed by site)


def _escalation(row: SlaEscalationRow) -> Escalation:
    return Escalation(row.id, row.work_order_id, row.target, row.level, row.at, row.due_at, row.notified)



def _escalations_in(query: Select[Any], since: datetime | None, until: datetime | None,
                    work_order_id: int | None) -> Select[Any]:
    if since is not None:
        query = query.where(SlaEscalationRow.at >= since)
    if until is not None:
        query = query.where(SlaEscalationRow.at < until)
    if work_order_id is not None:
        query = query.where(SlaEscalationRow.work_order_id == work_order_id)
    return query

class SlaRepository(Repository):
    def record_escalation(self, work_order_id: int, target: str, level: str, at: datetime, due_at: datetime,
                          notified: str = "", actor: str = "sla", note: str = "",
                          data: dict[str, Any] | None = None) -> Escalation | None:
        """Record an escalation and, in the same transaction, its event on the order's history (in the
        status the order is in; its version is left alone, so nobody's read goes stale). None if this
        order's target was already escalated at this level; an unknown work order raises NotFound."""
        try:
            with self._transaction() as session:
                row = SlaEscalationRow(work_order_id=work_order_id, target=target, level=level, at=at,
                                       due_at=due_at, notified=notified)
                session.add(row)
                session.flush()
                status = session.scalar(select(WorkOrderRow.status).where(WorkOrderRow.id == work_order_id))
                session.add(WorkOrderEventRow(work_order_id=work_order_id, at=at, actor=actor, from_status=status,
                                              to_status=status, note=note, action=WorkOrderAction.ESCALATION.value,
                                              data=dict(data or {})))
                return _escalation(row)
        except IntegrityError:
            with self._transaction() as session:
                if session.get(WorkOrderRow, work_order_id) is None:  # the foreign key failed, not the key
                    raise NotFound(f"work order {work_order_id} not found") from None
            return None

    def escalations(self, since: datetime | None = None, until: datetime | None = None,
                    work_order_id: int | None = None) -> list[Escalation]:
        """Escalations recorded in ``[since, until)`` (each bound optional), oldest first."""
        query = _escalations_in(select(SlaEscalationRow), since, until, work_order_id)
        with self._transaction() as session:
            return [_escalation(row) for row in session.scalars(query.order_by(SlaEscalationRow.at,
                                                                               SlaEscalationRow.id))]

    def escalation_page(self, since: datetime | None, until: datetime | None, work_order_id: int | None,
                        limit: int, after: tuple[datetime, int] | None = None,
                        ) -> tuple[list[Escalation], tuple[datetime, int] | None]:
        """One page of ``escalations`` (oldest first, then id) and the cursor of the next (None on the last)."""
        query = keyset(_escalations_in(select(SlaEscalationRow), since, until, work_order_id), SlaEscalationRow.at,
                       SlaEscalationRow.id, limit, after, newest_first=False)
        with self._transaction() as session:
            escalations = [_escalation(row) for row in session.scalars(query)]
        return split(escalations, limit, lambda escalation: (escalation.at, escalation.id))

    def escalation_total(self, since: datetime | None, until: datetime | None, work_order_id: int | None) -> int:
        query = _escalations_in(select(func.count()).select_from(SlaEscalationRow), since, until, work_order_id)
        with self._transaction() as session:
            return session.scalar(query) or 0

    def set_due_at(self, work_order_id: int, due_at: datetime) -> bool:
        """Keep an order's next deadline; derived from the policy, so no event and no new version (a
        technician's read stays current). True if it changed."""
        with self._transaction() as session:
            result = session.execute(update(WorkOrderRow)
                                     .where(WorkOrderRow.id == work_order_id, WorkOrderRow.due_at != due_at)
                                     .values(due_at=due_at).execution_options(synchronize_session=False))
            return bool(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE

    def supervisor_of(self, user_id: str | None) -> str | None:
        """Who escalations of ``user_id``'s work go to (their supervisor); None if unknown."""
        if user_id is None:
            return None
        with self._transaction() as session:
            return session.scalar(select(UserRow.supervisor_id).where(UserRow.id == user_id))
