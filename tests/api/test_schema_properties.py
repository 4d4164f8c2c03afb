"""Property-based API test (schemathesis): generated requests against every documented operation of a seeded
app find no server error, and every answer fits the OpenAPI document (status, content type, body)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.openapi import from_asgi

from api.deps import Services
from core.domain import Alarm
from people.records import PeopleRecords
from predictor.plan_inputs import PlannerSetup, ProblemBuilder
from predictor.planner_service import PlanningService
from tests.api.test_routes_plans import scripted
from workorders.complaint_desk import ComplaintDesk
from workorders.dispatcher import DispatchService
from workorders.emergency import default_plans
from workorders.emergency_runs import EmergencyRunner
from workorders.inspection_templates import packaged_templates
from workorders.notice_board import NoticeBoard
from workorders.rounds import InspectionRounds

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SKIPPED = r"^/api/v1/events$"  # the event stream never ends; its own tests cover it
EXAMPLES = 15  # per operation; derandomized, so a run is repeatable (about a minute)


def _serve_everything(services: Services) -> None:
    """Every optional part wired, so that no operation answers 503 "not served here"."""
    db, book, bus, clock = services.db, services.book, services.bus, services.clock
    people = PeopleRecords(db)
    services.complaints = ComplaintDesk(db, book, bus, clock)
    services.notices = NoticeBoard(db, bus, clock)
    services.emergency = EmergencyRunner(default_plans(), db, book, bus, clock)
    services.dispatch = DispatchService(db, people, book, clock)
    services.inspections = InspectionRounds(db, book, clock, packaged_templates())
    services.planning = PlanningService(db, book, clock, ProblemBuilder(db, people, PlannerSetup.load()), scripted,
                                        notices=services.notices)


def _exercise(operation: APIOperation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)
    def run(case: Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


def test_generated_requests_find_no_server_error_and_no_schema_break(
        app: FastAPI, services: Services, token: str, burst_pipe: Callable[..., Alarm]) -> None:
    _serve_everything(services)
    burst_pipe()  # an open alarm with its work order: the lists and details have something to show
    schema = from_asgi("/openapi.json", app).exclude(path_regex=SKIPPED)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        try:
            _exercise(operation, token)
        except Exception as error:  # collect every operation's failure, then report them together
            failures[operation.label] = "\n".join(line for line in str(error).splitlines()[:12] if line.strip())
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())


def test_the_test_would_notice_a_server_error(app: FastAPI, token: str) -> None:
    @app.get("/api/v1/broken", response_model=int)
    def broken(n: int) -> int:
        return 1 // (n - n)  # always ZeroDivisionError

    schema = from_asgi("/openapi.json", app).include(path_regex="^/api/v1/broken$")
    operation = next(result.ok() for result in schema.get_all_operations())
    # The in-process transport raises the route's exception; over HTTP it would be a 500 (a failure group).
    with pytest.raises((ZeroDivisionError, ExceptionGroup)):
        _exercise(operation, token)


