"""Inspection rounds at work: generating them from the schedules, starting, recording items, completing,
marking the missed ones and reporting the late and missed; a failed item opens a linked work order.

The pure rules (schedules, item sets, judging, the round's lifecycle, standing) are in
``workorders.inspections``; this class reads the clock and the records and tells the work-order book.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.domain import WorkOrderKind, WorkOrderSource, WorkOrderStatus
from core.errors import InvalidRequest
from core.inspections import InspectionResult, InspectionRound, RoundStatus
from storage.records import Database
from storage.records.inspections import RoundFilter
from workorders.book import Step, WorkOrderBook
from workorders.inspection_templates import Item, Per, Template
from workorders.inspections import Standing, by_standing, check_round_step, composition, judge, limits_text, plan_rounds

HORIZON = timedelta(days=30)  # rounds are generated this far ahead
_R = RoundStatus


@dataclass(frozen=True, slots=True)
class RoundReport:
    """The rounds due in [since, until) by how they stand at ``at``."""

    since: datetime
    until: datetime
    at: datetime
    on_time: list[InspectionRound]
    late: list[InspectionRound]
    missed: list[InspectionRound]
    pending: list[InspectionRound]


class InspectionRounds:
    def __init__(self, db: Database, book: WorkOrderBook, clock: Clock, templates: Mapping[str, Template]) -> None:
        self._db = db
        self._book = book
        self._clock = clock
        self.templates = dict(templates)

    # --- schedules -----------------------------------------------------------------------------------

    def generate(self, horizon: timedelta = HORIZON, assignee: str | None = None) -> int:
        """Store the rounds due from now to now + ``horizon`` not stored yet; how many were new."""
        now = self._clock.now()
        planned = plan_rounds(self.templates.values(), self._db.assets.list(), now, now + horizon)
        return self._db.inspections.add_rounds(planned, assignee)

    def mark_missed(self) -> int:
        """Mark missed every round not completed by its due time plus its template's grace; how many."""
        now = self._clock.now()
        return sum(self._db.inspections.mark_missed(t.id, now - t.grace) for t in self.templates.values())

    # --- a round -------------------------------------------------------------------------------------

    def items(self, round_: InspectionRound) -> tuple[Item, ...]:
        """The checklist of a round: its item set and every set it contains."""
        return composition(self._template(round_), round_.item_set)

    def assign(self, round_id: int, assignee: str | None) -> InspectionRound:
        """Give a round not yet finished to a technician (None: unassigned)."""
        current = self._db.inspections.get(round_id)
        if current.status not in (_R.SCHEDULED, _R.IN_PROGRESS):
            raise InvalidRequest(f"inspection round {round_id} is {current.status.value}: it can no longer be assigned")
        return self._db.inspections.change(round_id, current.status, assignee=assignee)

    def start(self, round_id: int, actor: str) -> InspectionRound:
        """The technician starts the round (it becomes theirs if nobody was assigned)."""
        current = self._db.inspections.get(round_id)
        check_round_step(current.status, _R.IN_PROGRESS)
        return self._db.inspections.change(round_id, current.status, status=_R.IN_PROGRESS,
                                           started_at=self._clock.now(), assignee=current.assignee or actor)

    def record(self, round_id: int, item_id: str, actor: str, asset_id: str | None = None,
               passed: bool | None = None, value: float | None = None, note: str = "") -> InspectionResult:
        """Record one item (a measurement outside its limits fails); a failed item opens one work order."""
        round_ = self._db.inspections.get(round_id)
        if round_.status is not _R.IN_PROGRESS:
            raise InvalidRequest(f"items are recorded in a round in progress; round {round_id} is "
                                 f"{round_.status.value}")
        item = self._item(round_, item_id)
        asset_id = self._asset_of(round_, asset_id)
        ok = judge(item, passed, value)
        result = self._db.inspections.record(round_id, item.id, asset_id, ok, value, note, actor, self._clock.now())
        if ok or result.work_order_id is not None:
            return result
        return self._open_work_order(round_, item, result, actor)

    def complete(self, round_id: int, actor: str) -> InspectionRound:
        """Close the round once every item of its checklist is recorded."""
        current = self._db.inspections.get(round_id)
        check_round_step(current.status, _R.DONE)
        recorded = {result.item for result in self._db.inspections.results(round_id)}
        missing = [item.id for item in self.items(current) if item.id not in recorded]
        if missing:
            raise InvalidRequest(f"round {round_id} cannot be completed yet; not recorded: {', '.join(missing)}")
        return self._db.inspections.change(round_id, current.status, status=_R.DONE,
                                           completed_at=self._clock.now(), assignee=current.assignee or actor)

    # --- figures -------------------------------------------------------------------------------------

    def report(self, since: datetime, until: datetime) -> RoundReport:
        """The rounds due in [since, until): on time, late (completed after due), missed, still pending."""
        now = self._clock.now()
        rounds = self._db.inspections.list(RoundFilter(since=since, until=until))
        groups = by_standing(rounds, {t.id: t.grace for t in self.templates.values()}, now)
        return RoundReport(since, until, now, groups[Standing.ON_TIME], groups[Standing.LATE],
                           groups[Standing.MISSED], groups[Standing.PENDING])

    # --- inside --------------------------------------------------------------------------------------

    def _template(self, round_: InspectionRound) -> Template:
        template = self.templates.get(round_.template)
        if template is None:
            raise InvalidRequest(f"round {round_.id} follows template {round_.template!r}, which is configured "
                                 "no longer")
        return template

    def _item(self, round_: InspectionRound, item_id: str) -> Item:
        items = self.items(round_)
        for item in items:
            if item.id == item_id:
                return item
        raise InvalidRequest(f"round {round_.id} ({round_.item_set}) has no item {item_id!r}; its items: "
                             + ", ".join(item.id for item in items))

    def _asset_of(self, round_: InspectionRound, asset_id: str | None) -> str | None:
        """The asset an item is recorded on: the round's own, or (site rounds) one of the site's of the kind."""
        if self._template(round_).per is Per.ASSET or round_.asset_id is not None:
            if asset_id not in (None, round_.asset_id):
                raise InvalidRequest(f"round {round_.id} inspects {round_.asset_id!r}, not {asset_id!r}")
            return round_.asset_id
        if asset_id is not None:
            asset = self._db.assets.find(asset_id)
            kind = self._template(round_).asset_kind
            if asset is None or asset.site_id != round_.site_id or asset.kind is not kind:
                raise InvalidRequest(f"{asset_id!r} is not a {kind.value} asset of site {round_.site_id!r}")
        return asset_id

    def _open_work_order(self, round_: InspectionRound, item: Item, result: InspectionResult,
                         actor: str) -> InspectionResult:
        found = f"{result.value:g} {item.unit}, allowed {limits_text(item)}" if item.is_measurement else "failed"
        description = f"{item.text}: {found}." + (f" {result.note}" if result.note else "")
        order, _ = self._book.open(
            WorkOrderKind.CORRECTIVE, item.priority, f"Inspection: {item.text}", round_.site_id, result.asset_id,
            description, actor=actor, source=WorkOrderSource.INSPECTION,
            source_ref=f"inspection:{round_.id}:{item.id}")
        if not self._db.inspections.link_work_order(result.id, order.id):
            # Someone recorded the same failure at the same moment and linked their order first.
            self._book.transition(order.id, Step(WorkOrderStatus.CANCELLED, actor,
                                                 note=f"duplicate: round {round_.id} item {item.id} has its order"))
        return next(r for r in self._db.inspections.results(round_.id) if r.id == result.id)
