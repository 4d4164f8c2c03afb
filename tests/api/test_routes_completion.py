"""A completion form's failure codes follow the order's asset kind, for a technician who cannot read assets."""

from __future__ import annotations

from collections.abc import Callable

from api.deps import Services
from core.domain import WorkOrderKind, WorkOrderPriority
from tests.api.conftest import TestClient


def test_an_orders_failure_codes_are_those_of_its_asset_kind(client_as: Callable[..., TestClient],
                                                             services: Services) -> None:
    lift, _ = services.book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, "door", "north",
                                 asset_id="north-lift-a")
    site, _ = services.book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, "roof", "north")
    technician = client_as("technician")
    codes = {c["code"] for c in technician.get(f"/api/v1/workorders/{lift.id}/failure-codes").json()["items"]}
    assert "door_operator" in codes
    assert "bearing" not in codes
    site_codes = technician.get(f"/api/v1/workorders/{site.id}/failure-codes").json()["items"]
    assert "building_fabric" in {c["code"] for c in site_codes}
    assert technician.get("/api/v1/workorders/999/failure-codes").status_code == 404
    assert client_as("resident").get(f"/api/v1/workorders/{lift.id}/failure-codes").status_code == 403
