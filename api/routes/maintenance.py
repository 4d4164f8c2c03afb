"""Planned maintenance windows: an asset, or a whole site, out of service for a time (its alarms muted)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.audit import AuditDep
from api.cursors import decode_cursor, encode_cursor, zoned_time
from api.deps import ServicesDep
from api.errors import unprocessable
from api.identity import require
from api.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from api.params import ZonedTime
from api.schemas import MaintenanceWindowCreate, MaintenanceWindowPublic
from core.domain import MaintenanceWindow
from people.access import Permission, Principal

router = APIRouter(prefix="/maintenance-windows", tags=["maintenance"], dependencies=[require(Permission.READ)])
Operator = Annotated[Principal, require(Permission.ALARMS)]


@router.get("", response_model=Page[MaintenanceWindowPublic])
def list_windows(
    services: ServicesDep,
    site: Annotated[str | None, Query(max_length=64)] = None,
    at: Annotated[ZonedTime | None, Query(description="Only windows covering this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page.")] = None,
) -> Page[MaintenanceWindowPublic]:
    """Maintenance windows by start time, then id."""
    windows, after = services.db.maintenance.page(site, at, limit, decode_cursor(cursor, zoned_time))
    return Page(items=[MaintenanceWindowPublic.of(w) for w in windows], total=services.db.maintenance.total(site, at),
                next_cursor=None if after is None else encode_cursor(after[0].isoformat(), after[1]))


@router.post("", response_model=MaintenanceWindowPublic, status_code=status.HTTP_201_CREATED)
def create_window(services: ServicesDep, body: MaintenanceWindowCreate, principal: Operator,
                  audit: AuditDep) -> MaintenanceWindowPublic:
    """Plan a maintenance window; alarms of the asset (or site) raised in it are out of service."""
    window = services.db.maintenance.add(_window(0, body, principal, services))
    services.rules.refresh_out_of_service()
    return audit.record("maintenance_window.create", "maintenance_window", window.id, None,
                        MaintenanceWindowPublic.of(window))


@router.get("/{window_id}", response_model=MaintenanceWindowPublic)
def get_window(services: ServicesDep, window_id: int) -> MaintenanceWindowPublic:
    return MaintenanceWindowPublic.of(services.db.maintenance.get(window_id))


@router.put("/{window_id}", response_model=MaintenanceWindowPublic)
def update_window(services: ServicesDep, window_id: int, body: MaintenanceWindowCreate, principal: Operator,
                  audit: AuditDep) -> MaintenanceWindowPublic:
    """Move or change a window (404 if unknown)."""
    before = MaintenanceWindowPublic.of(services.db.maintenance.get(window_id))
    window = services.db.maintenance.update(_window(window_id, body, principal, services))
    services.rules.refresh_out_of_service()
    return audit.record("maintenance_window.update", "maintenance_window", window_id, before,
                        MaintenanceWindowPublic.of(window))


@router.delete("/{window_id}", status_code=status.HTTP_204_NO_CONTENT,
               dependencies=[require(Permission.ALARMS)])
def delete_window(services: ServicesDep, window_id: int, audit: AuditDep) -> Response:
    """Cancel a window; its alarms are in service again."""
    before = MaintenanceWindowPublic.of(services.db.maintenance.get(window_id))
    services.db.maintenance.delete(window_id)
    services.rules.refresh_out_of_service()
    audit.record("maintenance_window.delete", "maintenance_window", window_id, before, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _window(window_id: int, body: MaintenanceWindowCreate, principal: Principal,
            services: ServicesDep) -> MaintenanceWindow:
    if body.site_id not in {site.id for site in services.db.assets.sites()}:
        raise unprocessable(f"unknown site {body.site_id!r}")
    if body.asset_id is not None:
        asset = services.db.assets.find(body.asset_id)
        if asset is None or asset.site_id != body.site_id:
            raise unprocessable(f"site {body.site_id!r} has no asset {body.asset_id!r}")
    return MaintenanceWindow(window_id, body.site_id, body.asset_id, body.since, body.until, body.reason,
                             principal.user_id)
