"""Every error is an RFC 9457 problem with the request's id; the id travels in and out and into the log."""

from __future__ import annotations

import logging
import warnings

import pytest
from fastapi import FastAPI

from api.errors import PROBLEM_JSON
from api.request_ids import LOG_FORMAT, log_request_ids

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


def _is_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]
    return dict(body)


def test_unknown_alarm_is_a_not_found_problem(client: TestClient) -> None:
    body = _is_problem(client.get("/api/v1/alarms/999999"), 404)
    assert body["type"] == "urn:facmon:problem:not-found"
    assert body["instance"] == "/api/v1/alarms/999999"
    assert "999999" in body["detail"]


def test_validation_failure_lists_the_field_errors(client: TestClient) -> None:
    body = _is_problem(client.get("/api/v1/workorders", params={"limit": 0, "status": "bogus"}), 422)
    assert body["type"] == "urn:facmon:problem:validation-error"
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"query.limit", "query.status"}
    assert "bogus" not in str(body["errors"])  # the input is not echoed back


def test_unknown_route_and_wrong_token_are_problems(client: TestClient) -> None:
    assert _is_problem(client.get("/api/v1/no-such-thing"), 404)["type"] == "about:blank"
    refused = client.get("/api/v1/alarms", headers={"Authorization": "Bearer wrong"})
    assert _is_problem(refused, 401)["title"] == "Unauthorized"
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_client_request_id_is_kept_and_a_bad_one_replaced(client: TestClient) -> None:
    kept = client.get("/api/v1/alarms/999999", headers={"X-Request-ID": "trace-42.a"})
    assert kept.headers["X-Request-ID"] == "trace-42.a"
    assert kept.json()["request_id"] == "trace-42.a"
    replaced = client.get("/healthz", headers={"X-Request-ID": "no spaces <allowed>"})
    assert replaced.headers["X-Request-ID"] not in ("", "no spaces <allowed>")


def test_unhandled_error_is_a_500_problem_and_logged_with_its_request_id(
        app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR, "api.errors"):
        response = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    body = _is_problem(response, 500)
    assert body["request_id"] == "boom-1"
    assert "secret internals" not in response.text
    logged = [r for r in caplog.records if r.name == "api.errors"]
    assert logged
    assert "boom-1" in logged[0].getMessage()
    assert logged[0].exc_info is not None


def test_log_lines_carry_the_request_id() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    log_request_ids(handler)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    handler.filter(record)
    assert handler.format(record).endswith("x [-]: hello")


def test_openapi_documents_problems_and_docs_are_served_locally(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"Problem", "FieldError"} <= schema["components"]["schemas"].keys()
    errors = schema["paths"]["/api/v1/workorders"]["get"]["responses"]
    assert errors["422"]["content"][PROBLEM_JSON]["schema"]["$ref"] == "#/components/schemas/Problem"
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for page, asset in (("/docs", "/static/swagger-ui/swagger-ui-bundle.js"),
                        ("/redoc", "/static/redoc/redoc.standalone.js")):
        html = client.get(page)
        assert html.status_code == 200
        assert asset in html.text
        assert "http" not in html.text.replace("http-equiv", "")  # nothing from another host
        assert client.get(asset).status_code == 200
