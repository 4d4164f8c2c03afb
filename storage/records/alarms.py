"""Alarm episodes and their recorded history (state changes, acknowledgements, comments)."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.domain import Alarm, AlarmEvent, AlarmState, Severity
from storage.records.models import AlarmEventRow, AlarmRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row

ACTIVE_STATES = [state.value for state in AlarmState if state.is_active]


def alarm_from_row(row: AlarmRow) -> Alarm:
    return Alarm(row.id, row.rule_id, row.asset_id, row.site_id, Severity(row.severity), AlarmState(row.state),
                 row.message, row.started_at, row.cleared_at, row.acknowledged_at, row.acknowledged_by,
                 row.occurrences, row.work_order_id, row.shelved_until, row.shelve_reason, row.suppressed_by,
                 row.out_of_service, row.chattering, row.assignee)


def _event(row: AlarmEventRow) -> AlarmEvent:
    return AlarmEvent(row.alarm_id, row.at, row.actor,
                      None if row.from_state is None else AlarmState(row.from_state),
                      AlarmState(row.to_state), row.note)


def _row(session: Session, alarm_id: int) -> AlarmRow:
    return get_row(session, AlarmRow, alarm_id, "alarm")



AlarmCursor = tuple[datetime, int]  # (started_at, id) of the last alarm of the previous page


@dataclass(frozen=True)
class AlarmFilter:
    """Which alarms a list shows; None (or False) leaves a criterion out. ``since``/``until`` bound the start."""

    active_only: bool = False
    site_id: str | None = None
    asset_id: str | None = None
    state: AlarmState | None = None
    severity: Severity | None = None
    shelved: bool | None = None
    suppressed: bool | None = None
    suppressed_by: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        conditions: builtins.list[Any] = []
        if self.active_only:
            conditions.append(AlarmRow.state.in_(ACTIVE_STATES))
        for column, value in ((AlarmRow.site_id, self.site_id), (AlarmRow.asset_id, self.asset_id),
                              (AlarmRow.suppressed_by, self.suppressed_by)):
            if value is not None:
                conditions.append(column == value)
        if self.state is not None:
            conditions.append(AlarmRow.state == self.state.value)
        if self.severity is not None:
            conditions.append(AlarmRow.severity == self.severity.value)
        if self.shelved is not None:
            conditions.append(AlarmRow.shelved_until.is_not(None) if self.shelved else AlarmRow.shelved_until.is_(None))
        if self.suppressed is not None:
            conditions.append(AlarmRow.suppressed_by.is_not(None) if self.suppressed
                              else AlarmRow.suppressed_by.is_(None))
        if self.since is not None:
            conditions.append(AlarmRow.started_at >= self.since)
        if self.until is not None:
            conditions.append(AlarmRow.started_at < self.until)
        return query.where(*conditions) if conditions else query

class AlarmRepository(Repository):
    def raise_alarm(self, rule_id: str, asset_id: str, site_id: str, severity: Severity, message: str,
                    started_at: datetime) -> tuple[Alarm, bool]:
        """Create an UNACKNOWLEDGED alarm episode; ``(existing, False)`` if (rule, asset, start) exists.

        The insert runs in a savepoint, so a taken key leaves an enclosing unit of work usable."""
        with self._transaction() as session:
            try:
                with session.begin_nested():
                    row = AlarmRow(rule_id=rule_id, asset_id=asset_id, site_id=site_id, severity=severity.value,
                                   state=AlarmState.UNACKNOWLEDGED.value, message=message, started_at=started_at,
                                   occurrences=1)
                    session.add(row)
                    session.flush()
                    session.add(AlarmEventRow(alarm_id=row.id, at=started_at, actor="system", from_state=None,
                                              to_state=AlarmState.UNACKNOWLEDGED.value, note=message))
                return alarm_from_row(row), True
            except IntegrityError:
                # The unique episode key was taken (maybe by a concurrent caller that has committed by now).
                existing = session.scalars(select(AlarmRow).where(
                    AlarmRow.rule_id == rule_id, AlarmRow.asset_id == asset_id,
                    AlarmRow.started_at == started_at)).one_or_none()
                if existing is None:
                    raise
                return alarm_from_row(existing), False

    def find_open(self, rule_id: str, asset_id: str) -> Alarm | None:
        """The newest episode of the rule on the asset whose state is not NORMAL."""
        query = (select(AlarmRow)
                 .where(AlarmRow.rule_id == rule_id, AlarmRow.asset_id == asset_id,
                        AlarmRow.state != AlarmState.NORMAL.value)
                 .order_by(AlarmRow.started_at.desc(), AlarmRow.id.desc()).limit(1))
        with self._transaction() as session:
            row = session.scalars(query).first()
            return None if row is None else alarm_from_row(row)

    def set_state(self, alarm_id: int, to_state: AlarmState, at: datetime, actor: str, note: str = "") -> Alarm:
        """Record a state change (not validated here: ``rules.lifecycle`` decides what is allowed)."""
        with self._transaction() as session:
            row = _row(session, alarm_id)
            from_state = AlarmState(row.state)
            if from_state.is_active and not to_state.is_active:
                row.cleared_at = at
            elif to_state.is_active and not from_state.is_active:
                row.cleared_at = None
            if to_state is AlarmState.ACKNOWLEDGED:
                row.acknowledged_at, row.acknowledged_by = at, actor
            row.state = to_state.value
            session.add(AlarmEventRow(alarm_id=alarm_id, at=at, actor=actor, from_state=from_state.value,
                                      to_state=to_state.value, note=note))
            return alarm_from_row(row)

    def add_occurrence(self, alarm_id: int, at: datetime) -> Alarm:  # noqa: ARG002 - no last-seen column
        """Count one more occurrence of the episode (it went active again) and clear ``cleared_at``."""
        with self._transaction() as session:
            row = _row(session, alarm_id)
            row.occurrences += 1
            row.cleared_at = None
            return alarm_from_row(row)

    def comment(self, alarm_id: int, at: datetime, actor: str, note: str) -> None:
        with self._transaction() as session:
            state = _row(session, alarm_id).state
            session.add(AlarmEventRow(alarm_id=alarm_id, at=at, actor=actor, from_state=state, to_state=state,
                                      note=note))

    def link_work_order(self, alarm_id: int, work_order_id: int) -> None:
        with self._transaction() as session:
            _row(session, alarm_id).work_order_id = work_order_id

    def shelve(self, alarm_id: int, until: datetime | None, reason: str, at: datetime, actor: str) -> Alarm:
        """Set (``until``) or lift (None) the shelf, recording who and when (validation: rules.lifecycle)."""
        with self._transaction() as session:
            row = _row(session, alarm_id)
            row.shelved_until, row.shelve_reason = until, reason if until is not None else ""
            note = f"shelved until {until.isoformat()}: {reason}" if until is not None else f"unshelved: {reason}"
            session.add(AlarmEventRow(alarm_id=alarm_id, at=at, actor=actor, from_state=row.state,
                                      to_state=row.state, note=note))
            return alarm_from_row(row)

    def assign(self, alarm_id: int, assignee: str | None, at: datetime, actor: str) -> Alarm:
        with self._transaction() as session:
            row = _row(session, alarm_id)
            row.assignee = assignee
            session.add(AlarmEventRow(alarm_id=alarm_id, at=at, actor=actor, from_state=row.state,
                                      to_state=row.state, note=f"assigned to {assignee or 'nobody'}"))
            return alarm_from_row(row)

    def set_flags(self, alarm_id: int, at: datetime, actor: str, note: str = "", **flags: Any) -> Alarm:
        """Change ``suppressed_by``, ``out_of_service`` or ``chattering``; records an event if one changed."""
        allowed = {"suppressed_by", "out_of_service", "chattering"}
        if not set(flags) <= allowed:
            raise ValueError(f"unknown alarm flags: {sorted(set(flags) - allowed)}")
        with self._transaction() as session:
            row = _row(session, alarm_id)
            changed = {key: value for key, value in flags.items() if getattr(row, key) != value}
            for key, value in changed.items():
                setattr(row, key, value)
            if changed:
                text = note or ", ".join(f"{key}={value!r}" for key, value in sorted(changed.items()))
                session.add(AlarmEventRow(alarm_id=alarm_id, at=at, actor=actor, from_state=row.state,
                                          to_state=row.state, note=text))
            return alarm_from_row(row)

    def shelf_expired(self, at: datetime, sites: Collection[str] | None = None) -> builtins.list[Alarm]:
        """Alarms (of ``sites``; None: all) whose shelf ended at or before ``at``."""
        query = select(AlarmRow).where(AlarmRow.shelved_until.is_not(None), AlarmRow.shelved_until <= at)
        if sites is not None:
            query = query.where(AlarmRow.site_id.in_(list(sites)))
        with self._transaction() as session:
            return [alarm_from_row(row) for row in session.scalars(query)]

    def open_of(self, asset_id: str | None = None, site_id: str | None = None,
                rule_ids: Collection[str] | None = None, sites: Collection[str] | None = None
                ) -> builtins.list[Alarm]:
        """Episodes not back to NORMAL, of an asset and/or a site or ``sites`` (and some rules), oldest first."""
        query = select(AlarmRow).where(AlarmRow.state != AlarmState.NORMAL.value).order_by(AlarmRow.id)
        if sites is not None:
            query = query.where(AlarmRow.site_id.in_(list(sites)))
        if asset_id is not None:
            query = query.where(AlarmRow.asset_id == asset_id)
        if site_id is not None:
            query = query.where(AlarmRow.site_id == site_id)
        if rule_ids is not None:
            query = query.where(AlarmRow.rule_id.in_(list(rule_ids)))
        with self._transaction() as session:
            return [alarm_from_row(row) for row in session.scalars(query)]

    def suppressed_under(self, cause_id: int) -> builtins.list[Alarm]:
        """Every alarm suppressed by the alarm ``cause_id``, oldest first (unbounded: a power cut's dependents)."""
        query = select(AlarmRow).where(AlarmRow.suppressed_by == cause_id).order_by(AlarmRow.id)
        with self._transaction() as session:
            return [alarm_from_row(row) for row in session.scalars(query)]

    def annunciations(self, since: datetime, until: datetime) -> builtins.list[tuple[datetime, str, str, str]]:
        """(at, rule, asset, severity) of every time an alarm went UNACKNOWLEDGED in [since, until)."""
        query = (select(AlarmEventRow.at, AlarmRow.rule_id, AlarmRow.asset_id, AlarmRow.severity)
                 .join(AlarmRow, AlarmRow.id == AlarmEventRow.alarm_id)
                 .where(AlarmEventRow.to_state == AlarmState.UNACKNOWLEDGED.value,
                        or_(AlarmEventRow.from_state.is_(None), AlarmEventRow.from_state != AlarmEventRow.to_state),
                        AlarmEventRow.at >= since, AlarmEventRow.at < until)
                 .order_by(AlarmEventRow.at))
        with self._transaction() as session:
            return [(at, rule, asset, severity) for at, rule, asset, severity in session.execute(query)]

    def count_chattering(self, since: datetime, until: datetime) -> int:
        query = select(func.count()).select_from(AlarmRow).where(
            AlarmRow.chattering.is_(True), AlarmRow.started_at < until,
            or_(AlarmRow.cleared_at.is_(None), AlarmRow.cleared_at >= since))
        with self._transaction() as session:
            return session.scalar(query) or 0

    def get(self, alarm_id: int) -> Alarm:
        with self._reading() as session:
            return alarm_from_row(_row(session, alarm_id))

    def list(self, active_only: bool = False, site_id: str | None = None, limit: int = 200,
             state: AlarmState | None = None, shelved: bool | None = None, suppressed: bool | None = None,
             suppressed_by: int | None = None, since: datetime | None = None) -> builtins.list[Alarm]:
        """Newest first; ``active_only`` keeps UNACKNOWLEDGED and ACKNOWLEDGED episodes; ``shelved`` and
        ``suppressed`` filter on the flags (None = either); ``since`` on the start time."""
        where = AlarmFilter(active_only=active_only, site_id=site_id, state=state, shelved=shelved,
                            suppressed=suppressed, suppressed_by=suppressed_by, since=since)
        return self.page(where, limit)[0]

    def page(self, where: AlarmFilter, limit: int = 50,
             after: AlarmCursor | None = None) -> tuple[builtins.list[Alarm], AlarmCursor | None]:
        """One page of alarms, newest first (started_at, then id: a stable order), and the cursor of the
        next page (None on the last one)."""
        with self._reading() as session:
            return self._page(session, where, limit, after)

    def page_and_total(self, where: AlarmFilter, limit: int = 50, after: AlarmCursor | None = None
                       ) -> tuple[builtins.list[Alarm], AlarmCursor | None, int]:
        """``page`` and ``total`` read in one transaction: one snapshot, so the count fits the page."""
        with self._reading() as session:
            return *self._page(session, where, limit, after), self._total(session, where)

    def total(self, where: AlarmFilter) -> int:
        """How many alarms match ``where`` (a list's total)."""
        with self._reading() as session:
            return self._total(session, where)

    @staticmethod
    def _page(session: Session, where: AlarmFilter, limit: int,
              after: AlarmCursor | None) -> tuple[builtins.list[Alarm], AlarmCursor | None]:
        query = keyset(where.apply(select(AlarmRow)), AlarmRow.started_at, AlarmRow.id, limit, after,
                       newest_first=True)
        alarms = [alarm_from_row(row) for row in session.scalars(query)]
        return split(alarms, limit, lambda alarm: (alarm.started_at, alarm.id))

    @staticmethod
    def _total(session: Session, where: AlarmFilter) -> int:
        return session.scalar(where.apply(select(func.count()).select_from(AlarmRow))) or 0

    def history(self, alarm_id: int) -> builtins.list[AlarmEvent]:
        """The alarm's events, oldest first (raises NotFound for an unknown alarm)."""
        query = select(AlarmEventRow).where(AlarmEventRow.alarm_id == alarm_id).order_by(AlarmEventRow.id)
        with self._reading() as session:
            _row(session, alarm_id)
            return [_event(row) for row in session.scalars(query)]

    def count(self) -> int:
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(AlarmRow)) or 0
