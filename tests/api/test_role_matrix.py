"""The role matrix: every write route of the API against every role, allowed or 403, written out by hand.

``MATRIX`` is the policy as a reader would state it; the app must agree with it route by route, and every
write route of the app must be in it (a new route without a row fails here). A technician acts on an order
and a round assigned to them, a resident on a request and a complaint they filed; "allowed" means the
answer is not 401 or 403 (a 404, 409, 422 or 503 says the permission let the request through).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from sqlalchemy import update

from api.app import create_app
from api.deps import Services
from core.domain import MaintenanceWindow, RequestChannel, WorkOrderKind, WorkOrderPriority
from people.model import Role
from storage.records.audit import AuditFilter
from storage.records.inspections import RoundFilter
from storage.records.models import ComplaintRow, InspectionRoundRow, WorkOrderRow
from tests.api.conftest import START
from tests.api.principals import act_as
from tests.workorders.test_attachments import png
from workorders.complaint_desk import ComplaintDesk
from workorders.complaints import ComplaintCategory
from workorders.emergency import default_plans
from workorders.emergency_runs import EmergencyRunner
from workorders.inspection_templates import packaged_templates
from workorders.notice_board import NoticeBoard
from workorders.notices import Window
from workorders.rounds import InspectionRounds

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

V1 = "/api/v1"
EVERYONE = frozenset(Role)
ALARMS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
DESK = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
OWN_WORK = DESK | {Role.TECHNICIAN}  # the desk, or the technician the order or round is assigned to
PLAN = frozenset({Role.PLANNER, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
# Open by design: a resident's repair request and complaint from the QR-code form, the follow link and its
# rating (the link's token is the credential), the form's heading.
PUBLIC = frozenset({("POST", f"{V1}/requests"), ("POST", f"{V1}/resident/requests"),
                    ("POST", f"{V1}/resident/complaints"), ("GET", f"{V1}/resident/place"),
                    ("GET", f"{V1}/follow/{{token}}"), ("POST", f"{V1}/follow/{{token}}/rating")})
# Sign-in itself: open, or checking the session by itself (tests/api/test_auth.py covers them).
SIGN_IN = frozenset({("GET", f"{V1}/auth/options"), ("POST", f"{V1}/auth/login"), ("POST", f"{V1}/auth/logout"),
                     ("GET", f"{V1}/auth/me"), ("PATCH", f"{V1}/auth/me"), ("GET", f"{V1}/auth/oidc/start"),
                     ("GET", f"{V1}/auth/oidc/callback")})
RESIDENT = frozenset({Role.RESIDENT, Role.ADMIN})
WINDOW = {"starts_at": (START + timedelta(days=1)).isoformat(), "ends_at": (START + timedelta(days=2)).isoformat()}
MAINTENANCE = {"site_id": "north", "since": START.isoformat(), "until": (START + timedelta(hours=2)).isoformat(),
               "reason": "seal"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # the route's path; {names} are filled from the seeded records
    allowed: frozenset[Role]
    body: dict[str, Any] | None = None
    photo: bool = False  # a multipart upload instead of JSON


MATRIX: list[Case] = [
    Case("POST", "/alarms/{alarm_id}/acknowledge", ALARMS, {}),
    Case("POST", "/alarms/{alarm_id}/comments", ALARMS, {"note": "seen"}),
    Case("POST", "/alarms/{alarm_id}/shelve", ALARMS, {"for_s": 600, "reason": "sensor swap"}),
    Case("POST", "/alarms/{alarm_id}/unshelve", ALARMS, {}),
    Case("POST", "/alarms/{alarm_id}/assign", ALARMS, {"assignee": None}),
    Case("POST", "/maintenance-windows", ALARMS, MAINTENANCE),
    Case("PUT", "/maintenance-windows/{window_id}", ALARMS, MAINTENANCE),
    Case("DELETE", "/maintenance-windows/{window_id}", ALARMS),
    Case("POST", "/emergency/drills", ALARMS, {"site": "north", "plan": "entrapment"}),
    Case("POST", "/emergency/runs/{run_id}/steps/{position}/done", ALARMS, {}),
    Case("POST", "/emergency/runs/{run_id}/end", ALARMS),
    Case("POST", "/workorders", DESK, {"site_id": "north", "title": "dripping tap"}),
    Case("POST", "/requests", EVERYONE, {"requester": "Ms Chen", "phone": "555", "address": "2-1203",
                                         "site_id": "north", "description": "no water"}),
    Case("POST", "/workorders/{work_order_id}/transitions", OWN_WORK, {"to_status": "accepted"}),
    Case("POST", "/workorders/{work_order_id}/transitions", DESK | {Role.RESIDENT}, {"to_status": "verified"}),
    Case("POST", "/workorders/{work_order_id}/transitions", DESK, {"to_status": "cancelled", "note": "dup"}),
    Case("POST", "/workorders/{work_order_id}/comments", OWN_WORK | {Role.RESIDENT}, {"note": "home after 6"}),
    Case("POST", "/workorders/{work_order_id}/restore", OWN_WORK, {}),
    Case("POST", "/workorders/{work_order_id}/attachments", OWN_WORK, photo=True),
    Case("POST", "/workorders/{work_order_id}/dispatch", DESK, {}),
    Case("POST", "/workorders/{work_order_id}/notice", DESK, WINDOW),
    Case("POST", "/complaints", DESK, {"site_id": "north", "category": "noise", "complainant": "Mr Li",
                                       "description": "pump hum"}),
    Case("POST", "/complaints/{complaint_id}/transitions", DESK, {"to_status": "investigating"}),
    Case("POST", "/complaints/{complaint_id}/transitions", DESK | {Role.RESIDENT},
         {"to_status": "withdrawn", "note": "fixed itself"}),
    Case("POST", "/complaints/{complaint_id}/work-orders", DESK, {"title": "check the pump mounts"}),
    Case("POST", "/notices", DESK, {"site_id": "north", "title": "water off", "body": "2 h", **WINDOW}),
    Case("PATCH", "/notices/{notice_id}", DESK, {"title": "water off (again)"}),
    Case("POST", "/notices/{notice_id}/publish", DESK),
    Case("POST", "/notices/{notice_id}/withdraw", DESK),
    Case("POST", "/inspections/rounds/{round_id}/assign", DESK, {"assignee": None}),
    Case("POST", "/inspections/rounds/{round_id}/start", OWN_WORK),
    Case("POST", "/inspections/rounds/{round_id}/results", OWN_WORK, {"item": "leaks", "passed": True}),
    Case("POST", "/inspections/rounds/{round_id}/complete", OWN_WORK),
    Case("PUT", "/technicians/{user_id}", ADMIN, {"name": "New Tech"}),
    Case("POST", "/shifts", DESK, {"user_id": "wang", "starts_at": WINDOW["starts_at"],
                                   "ends_at": WINDOW["ends_at"]}),
    Case("POST", "/plans", PLAN, {}),
    Case("POST", "/plan-tasks/{task_id}/accept", PLAN, {}),
    Case("POST", "/plan-tasks/{task_id}/move", PLAN, {"planned_date": "2026-04-01", "reason": "busy"}),
    Case("POST", "/plan-tasks/{task_id}/reject", PLAN, {"reason": "replaced"}),
    Case("POST", "/rules/reload", ADMIN),
    Case("POST", "/users", ADMIN, {"id": "new-user", "name": "New User", "roles": ["viewer"]}),
    Case("PATCH", "/users/{user_id}", ADMIN, {"name": "Renamed"}),
    Case("POST", "/users/{user_id}/password", ADMIN, {"password": "correct horse battery"}),
    Case("POST", "/me/tokens", EVERYONE, {"name": "my integration"}),
    Case("DELETE", "/me/tokens/{token_id}", EVERYONE),
    Case("POST", "/me/filed/{kind}/{record_id}/rating", RESIDENT, {"satisfaction": 5}),
    Case("POST", "/resident/requests", EVERYONE, {"site_id": "north", "requester": "Ms Chen",
                                                  "phone": "5550100", "address": "2-1203",
                                                  "description": "no water"}),
    Case("POST", "/deadletters/reprocess", ADMIN, {}),
]


@pytest.fixture
def signed_in(app: FastAPI) -> Callable[[Role], tuple[TestClient, str]]:
    """A client acting as a user holding ``role`` alone, and that user's id.

    With the sign-in fixtures merged, the body of ``sign_in`` becomes
    ``client = client_as(role); return client, client.get("/api/v1/auth/me").json()["id"]``
    (``client_as`` requested by this fixture)."""

    def sign_in(role: Role) -> tuple[TestClient, str]:
        return TestClient(app), act_as(app, f"{role.value}-1", role).user_id

    return sign_in


def make_own(services: Services, ids: dict[str, Any], user_id: str) -> None:
    """Assign the seeded order and round to ``user_id`` and file the order and the complaint in their name:
    "their own" for a technician or a resident (other roles do not need it)."""
    with services.db.sessions.begin() as session:
        session.execute(update(WorkOrderRow).where(WorkOrderRow.id == ids["work_order_id"])
                        .values(assignee=user_id, reporter_id=user_id))
        session.execute(update(ComplaintRow).where(ComplaintRow.id == ids["complaint_id"]).values(reporter_id=user_id))
        session.execute(update(InspectionRoundRow).where(InspectionRoundRow.id == ids["round_id"])
                        .values(assignee=user_id))


@pytest.fixture
def app(services: Services) -> FastAPI:
    runner = EmergencyRunner(default_plans(), services.db, services.book, services.bus, services.clock)
    return create_app(replace(
        services, complaints=ComplaintDesk(services.db, services.book, services.bus, services.clock),
        notices=NoticeBoard(services.db, services.bus, services.clock), emergency=runner,
        inspections=InspectionRounds(services.db, services.book, services.clock, packaged_templates())))


@pytest.fixture
def ids(app: FastAPI, burst_pipe: Callable[..., Any]) -> dict[str, Any]:
    """One record of each kind the write routes touch (an order, a complaint, a round: ``make_own`` gives them
    to the signed-in user)."""
    services: Services = app.state.services
    alarm = burst_pipe()
    order, _ = services.book.open(WorkOrderKind.CORRECTIVE, WorkOrderPriority.NORMAL, "leak", "north",
                                  asset_id="north-pump-1")
    assert services.complaints is not None
    assert services.notices is not None
    complaint = services.complaints.register("north", RequestChannel.WEB, ComplaintCategory.NOISE, "Mr Li",
                                             "pump hum", "desk")
    notice = services.notices.draft("north", "water off", "2 h", Window(START + timedelta(days=1),
                                                                      START + timedelta(days=2)), "desk")
    window = services.db.maintenance.add(MaintenanceWindow(0, "north", None, START, START + timedelta(hours=1),
                                                           "seal", "desk"))
    assert services.emergency is not None
    assert services.inspections is not None
    run = services.emergency.start_drill("north", "entrapment", "desk")
    services.inspections.generate(timedelta(days=1))
    round_id = services.db.inspections.list(RoundFilter(), 1)[0].id
    return {"alarm_id": alarm.id, "work_order_id": order.id, "complaint_id": complaint.id, "notice_id": notice.id,
            "window_id": window.id, "run_id": run.id, "position": 1, "round_id": round_id, "user_id": "new-tech",
            "task_id": 1, "token_id": "0123456789abcdef",
            "kind": "request", "record_id": order.id}


def _api_routes(app: FastAPI) -> list[tuple[str, RouteContext]]:
    """(method, route) of every route under /api/v1, as included (router prefix and dependencies applied)."""
    return [(method, route) for route in iter_route_contexts(app.routes)
            if route.path is not None and route.path.startswith(V1) for method in route.methods or ()]


def _write_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {(method, str(route.path)) for method, route in _api_routes(app)
            if method in {"POST", "PUT", "PATCH", "DELETE"}}


def test_every_write_route_of_the_app_is_in_the_matrix(app: FastAPI) -> None:
    open_writes = {(method, path) for method, path in SIGN_IN | PUBLIC if method != "GET"}
    assert _write_routes(app) == {(case.method, V1 + case.path) for case in MATRIX} | open_writes


def _permissions(route: RouteContext) -> list[tuple[str, ...]]:
    """The permissions of every ``require(...)`` among the route's dependencies (router's included)."""
    found: list[tuple[str, ...]] = []
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        call = dependant.call
        if call is not None and getattr(call, "__qualname__", "") == "require.<locals>.check":
            found.append(tuple(str(p) for p in inspect.getclosurevars(call).nonlocals["permissions"]))
    return found


def test_every_api_route_asks_for_a_permission(app: FastAPI) -> None:
    exempt = PUBLIC | SIGN_IN
    routes = _api_routes(app)
    missing = sorted((method, str(route.path)) for method, route in routes
                     if (method, route.path) not in exempt and not _permissions(route))
    assert len(routes) > 60  # the walk found the app's routes
    assert missing == []


@pytest.fixture
def answers(app: FastAPI, signed_in: Callable[[Role], tuple[TestClient, str]],
            ids: dict[str, Any]) -> Callable[[Role], list[int]]:
    audit = app.state.services.db.audit

    def ask(role: Role) -> list[int]:
        client, user_id = signed_in(role)
        make_own(app.state.services, ids, user_id)
        statuses = []
        for case in MATRIX:
            url = V1 + case.path.format(**ids)
            recorded = audit.total(AuditFilter())
            if case.photo:
                response = client.post(url, files={"file": ("leak.png", png(8, 8), "image/png")})
            else:
                response = client.request(case.method, url, json=case.body)
            statuses.append(response.status_code)
            # Every write that succeeded is in the audit log, once; a refused one is not.
            assert audit.total(AuditFilter()) - recorded == (1 if response.is_success else 0), (case, response.text)
        return statuses

    return ask


@pytest.mark.parametrize("role", list(Role), ids=[role.value for role in Role])
def test_each_write_is_allowed_or_forbidden_as_the_matrix_says(role: Role,
                                                              answers: Callable[[Role], list[int]]) -> None:
    statuses = answers(role)
    wrong = [(case.method, case.path, case.body, status) for case, status in zip(MATRIX, statuses, strict=True)
             if (status in (401, 403)) == (role in case.allowed)]
    assert wrong == []
