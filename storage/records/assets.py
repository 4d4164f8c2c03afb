"""Sites and assets: the registry of what is monitored."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from core.domain import Asset, AssetKind, Site
from core.errors import NotFound
from storage.records.models import AssetRow, SiteRow
from storage.records.sessions import Repository


def _site(row: SiteRow) -> Site:
    return Site(row.id, row.name, row.address, row.time_zone)


def _asset(row: AssetRow) -> Asset:
    return Asset(row.id, row.site_id, AssetKind(row.kind), row.name, row.installed_on,
                 row.report_interval_s, dict(row.attributes))


class AssetRepository(Repository):
    def upsert_site(self, site: Site) -> None:
        self._upsert(SiteRow(id=site.id, name=site.name, address=site.address, time_zone=site.time_zone))

    def upsert_asset(self, asset: Asset) -> None:
        """Insert or replace an asset; its site must exist (NotFound otherwise)."""
        with self._transaction() as session:
            if session.get(SiteRow, asset.site_id) is None:
                raise NotFound(f"site {asset.site_id!r} not found")
        self._upsert(AssetRow(id=asset.id, site_id=asset.site_id, kind=asset.kind.value, name=asset.name,
                              installed_on=asset.installed_on, report_interval_s=asset.report_interval_s,
                              attributes=dict(asset.attributes)))

    def _upsert(self, row: SiteRow | AssetRow) -> None:
        try:
            with self._transaction() as session:
                session.merge(row)
        except IntegrityError:
            # Two callers inserted the same new id at once: the row now exists, so merge updates it.
            with self._transaction() as session:
                session.merge(row)

    def get(self, asset_id: str) -> Asset:
        asset = self.find(asset_id)
        if asset is None:
            raise NotFound(f"asset {asset_id!r} not found")
        return asset

    def find(self, asset_id: str) -> Asset | None:
        with self._transaction() as session:
            row = session.get(AssetRow, asset_id)
            return None if row is None else _asset(row)

    def list(self, site_id: str | None = None, kind: AssetKind | None = None) -> builtins.list[Asset]:
        with self._transaction() as session:
            return [_asset(row) for row in session.scalars(_of(site_id, kind, select(AssetRow)).order_by(AssetRow.id))]

    def page(self, site_id: str | None, kind: AssetKind | None, limit: int = 50, after: str | None = None,
             ) -> tuple[builtins.list[Asset], str | None]:
        """By id, ``limit`` at most after the asset ``after``; the id to resume after (None on the last page)."""
        query = _of(site_id, kind, select(AssetRow))
        if after is not None:
            query = query.where(AssetRow.id > after)
        with self._reading() as session:
            assets = [_asset(row) for row in session.scalars(query.order_by(AssetRow.id).limit(limit + 1))]
        return assets[:limit], assets[limit - 1].id if len(assets) > limit else None

    def total(self, site_id: str | None = None, kind: AssetKind | None = None) -> int:
        with self._reading() as session:
            return session.scalar(_of(site_id, kind, select(func.count()).select_from(AssetRow))) or 0

    def sites(self) -> builtins.list[Site]:
        with self._transaction() as session:
            return [_site(row) for row in session.scalars(select(SiteRow).order_by(SiteRow.id))]


def _of(site_id: str | None, kind: AssetKind | None, query: Select[Any]) -> Select[Any]:
    """``query`` narrowed to one site and/or one kind."""
    if site_id is not None:
        query = query.where(AssetRow.site_id == site_id)
    return query if kind is None else query.where(AssetRow.kind == kind.value)
