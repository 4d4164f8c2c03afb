"""Every error the API answers is an RFC 9457 problem (``application/problem+json``), built here only.

Routes raise ``HTTPException`` or ``core.errors`` exceptions and never catch; this module maps them,
FastAPI's validation errors (with the field errors) and anything unexpected (a 500 whose body names
the request id, the traceback going to the log under the same id) to one ``Problem`` shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    ConfigError,
    Conflict,
    InvalidMessage,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    TooLarge,
    TransitionError,
)

PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"
_PROBLEM_TYPE = "urn:facmon:problem:"
logger = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One invalid input of a request."""

    loc: list[str | int] = Field(description="Where: `body`, `query`, `path` or `header`, then the field path.")
    field: str = Field(description="`loc` as one dotted name, e.g. `query.limit`.")
    msg: str
    type: str = Field(description="A stable code of the check that failed, e.g. `less_than_equal`.")


class Problem(BaseModel):
    """An error (RFC 9457). `type` is a stable code; clients branch on it or on `status`, never on text."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="`about:blank` (the status says it all) or "
                                                 "`urn:facmon:problem:<code>`.")
    title: str = Field(description="The status's or the problem type's short name.")
    status: int
    detail: str = Field(description="What went wrong with this request, and how to fix it if the client can.")
    instance: str = Field(description="The path of the request.")
    request_id: str | None = Field(None, description="The request's `X-Request-ID`; the server log has it too.")
    errors: list[FieldError] | None = Field(None, description="The invalid inputs of a validation failure.")


def unprocessable(detail: str) -> HTTPException:
    """A request that is well formed but names something wrong (unknown metric, site ...)."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def problem_response(request: Request, status_code: int, detail: str, *, code: str | None = None,
                     headers: Mapping[str, str] | None = None, **extensions: Any) -> JSONResponse:
    """The problem answer to ``request``: ``code`` names the problem type (None: about:blank)."""
    request_id = correlation_id.get() or request.headers.get(REQUEST_ID_HEADER)
    title = code.replace("-", " ") if code else _phrase(status_code)
    body = Problem(type=_PROBLEM_TYPE + code if code else "about:blank", title=title, status=status_code,
                   detail=detail, instance=request.url.path, request_id=request_id, **extensions)
    # The request-id middleware adds the X-Request-ID header (except to a 500: see _unexpected).
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code, media_type=PROBLEM_JSON,
                        headers=headers)


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else _phrase(error.status_code)
    return problem_response(request, error.status_code, detail, headers=error.headers)


def field_errors(raw: Sequence[Any]) -> list[FieldError]:
    """FastAPI's (pydantic's) error list as field errors; the offending input is not echoed back."""
    errors = []
    for item in raw:
        loc = [part if isinstance(part, int) else str(part) for part in item.get("loc", ())]
        errors.append(FieldError(loc=loc, field=".".join(str(part) for part in loc), msg=str(item.get("msg", "")),
                                 type=str(item.get("type", "invalid"))))
    return errors


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = field_errors(error.errors())
    summary = "; ".join(f"{e.field}: {e.msg}" for e in errors[:5]) + (" ..." if len(errors) > 5 else "")
    return problem_response(request, status.HTTP_422_UNPROCESSABLE_CONTENT, f"invalid request: {summary}",
                            code="validation-error", errors=[e.model_dump() for e in errors])


async def _transition(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TransitionError)
    return problem_response(request, status.HTTP_409_CONFLICT, str(error), code="transition-not-allowed",
                            current=error.current, requested=error.requested,
                            allowed=None if error.allowed is None else list(error.allowed))


async def _unavailable(request: Request, error: Exception) -> JSONResponse:
    # The store or database is down for now; clients may retry.
    assert isinstance(error, ServiceUnavailable)
    retry_after = str(max(1, round(error.retry_after_s))) if error.retry_after_s else "5"
    return problem_response(request, status.HTTP_503_SERVICE_UNAVAILABLE, str(error) or "service unavailable",
                            code="service-unavailable", headers={"Retry-After": retry_after})


def _simple(status_code: int, code: str) -> Any:
    async def handle(request: Request, error: Exception) -> JSONResponse:
        return problem_response(request, status_code, str(error) or _phrase(status_code), code=code)
    return handle


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # Runs in Starlette's outermost middleware, after the request-id middleware has returned: the id is
    # still in the context (and in the request's headers), so the log line and the answer carry the same.
    request_id = correlation_id.get() or request.headers.get(REQUEST_ID_HEADER)
    logger.error("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id,
                 exc_info=error)
    return problem_response(request, status.HTTP_500_INTERNAL_SERVER_ERROR,
                            "internal error: the server log has the details under this request id",
                            code="internal-error", headers={REQUEST_ID_HEADER: request_id} if request_id else None)


async def _out_of_range(request: Request, error: Exception) -> JSONResponse:
    # A number too large for the database's column (an id of 2**70): the client's mistake, not a crash.
    logger.info("number out of range on %s: %s", request.url.path, error)
    return problem_response(request, status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "a number in the request is out of range (ids are below 2**31)", code="out-of-range")


# (exception, status, problem code); the first match wins, so subclasses come before their base.
_DOMAIN_ERRORS: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFound, status.HTTP_404_NOT_FOUND, "not-found"),
    (Conflict, status.HTTP_409_CONFLICT, "conflict"),  # optimistic locking: read it again and retry
    (TooLarge, status.HTTP_413_CONTENT_TOO_LARGE, "too-large"),
    (ConfigError, status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid-configuration"),
    (InvalidRequest, status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid-request"),
    (InvalidMessage, status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid-message"),
)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(TransitionError, _transition)
    app.add_exception_handler(ServiceUnavailable, _unavailable)
    for kind, status_code, code in _DOMAIN_ERRORS:
        app.add_exception_handler(kind, _simple(status_code, code))
    app.add_exception_handler(OverflowError, _out_of_range)  # SQLite: int too large
    app.add_exception_handler(DataError, _out_of_range)  # PostgreSQL: numeric value out of range
    app.add_exception_handler(Exception, _unexpected)


def _problem_content(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


# Declared on every operation (FastAPI then adds no default 422 of its own shape).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: _problem_content("Validation failed: `errors` lists the invalid fields, or the request names "
                          "something that does not fit (an unknown site ...)."),
    "4XX": _problem_content("Another client error: 401 not signed in, 403 not allowed, 404 not found, "
                            "409 conflict, 413 too large, 429 too many requests."),
    "5XX": _problem_content("A server error (500, with a request id to quote) or a dependency down (503, "
                            "with Retry-After)."),
}


def problem_schema() -> dict[str, Any]:
    """The JSON schema of ``Problem`` and ``FieldError``, for the OpenAPI components."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}
