"""Planned maintenance windows: an asset, or a whole site, out of service from ``since`` until ``until``."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from core.domain import MaintenanceWindow
from storage.records.models import MaintenanceWindowRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository, get_row


def _window(row: MaintenanceWindowRow) -> MaintenanceWindow:
    return MaintenanceWindow(row.id, row.site_id, row.asset_id, row.since, row.until, row.reason, row.created_by)


def _row(session: Session, window_id: int) -> MaintenanceWindowRow:
    return get_row(session, MaintenanceWindowRow, window_id, "maintenance window")


class MaintenanceWindowRepository(Repository):
    def add(self, window: MaintenanceWindow) -> MaintenanceWindow:
        with self._transaction() as session:
            row = MaintenanceWindowRow(site_id=window.site_id, asset_id=window.asset_id, since=window.since,
                                       until=window.until, reason=window.reason, created_by=window.created_by)
            session.add(row)
            session.flush()
            return _window(row)

    def update(self, window: MaintenanceWindow) -> MaintenanceWindow:
        """Replace every field of the stored window ``window.id`` (NotFound if unknown)."""
        with self._transaction() as session:
            row = _row(session, window.id)
            row.site_id, row.asset_id, row.since, row.until = (window.site_id, window.asset_id, window.since,
                                                               window.until)
            row.reason, row.created_by = window.reason, window.created_by
            return _window(row)

    def get(self, window_id: int) -> MaintenanceWindow:
        with self._transaction() as session:
            return _window(_row(session, window_id))

    def delete(self, window_id: int) -> None:
        with self._transaction() as session:
            _row(session, window_id)
            session.execute(delete(MaintenanceWindowRow).where(MaintenanceWindowRow.id == window_id))

    def list(self, site_id: str | None = None, at: datetime | None = None,
             limit: int = 200) -> builtins.list[MaintenanceWindow]:
        """Windows by start time; ``at`` keeps those covering that instant."""
        return self.page(site_id, at, limit)[0]

    def page(self, site_id: str | None = None, at: datetime | None = None, limit: int = 50,
             after: tuple[datetime, int] | None = None) -> tuple[builtins.list[MaintenanceWindow],
                                                                 tuple[datetime, int] | None]:
        """One page of windows by start time, then id, and the cursor of the next page (None on the last)."""
        query = keyset(self._where(select(MaintenanceWindowRow), site_id, at), MaintenanceWindowRow.since,
                       MaintenanceWindowRow.id, limit, after, newest_first=False)
        with self._transaction() as session:
            windows = [_window(row) for row in session.scalars(query)]
        return split(windows, limit, lambda window: (window.since, window.id))

    def total(self, site_id: str | None = None, at: datetime | None = None) -> int:
        query = self._where(select(func.count()).select_from(MaintenanceWindowRow), site_id, at)
        with self._transaction() as session:
            return session.scalar(query) or 0

    @staticmethod
    def _where(query: Select[Any], site_id: str | None, at: datetime | None) -> Select[Any]:
        if site_id is not None:
            query = query.where(MaintenanceWindowRow.site_id == site_id)
        if at is not None:
            query = query.where(MaintenanceWindowRow.since <= at, MaintenanceWindowRow.until > at)
        return query

    def count(self) -> int:
        with self._transaction() as session:
            return session.scalar(select(func.count()).select_from(MaintenanceWindowRow)) or 0
