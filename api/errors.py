"""How facmon's errors (core.errors) become HTTP answers; every answer carries a ``detail``."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse

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


def unprocessable(detail: str) -> HTTPException:
    """A request that is well formed but names something wrong (unknown metric, site ...)."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


async def _not_found(_: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status.HTTP_404_NOT_FOUND)


async def _conflict(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TransitionError)
    body = {"detail": str(error), "current": error.current, "requested": error.requested,
            "allowed": None if error.allowed is None else list(error.allowed)}
    return JSONResponse(body, status.HTTP_409_CONFLICT)


async def _stale(_: Request, error: Exception) -> JSONResponse:
    # Optimistic locking: someone else changed the record first; read it again and retry.
    return JSONResponse({"detail": str(error)}, status.HTTP_409_CONFLICT)


async def _unprocessable(_: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _too_large(_: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status.HTTP_413_CONTENT_TOO_LARGE)


async def _unavailable(_: Request, error: Exception) -> JSONResponse:
    # The store or database is down for now; clients may retry.
    return JSONResponse({"detail": str(error)}, status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(TransitionError, _conflict)
    app.add_exception_handler(Conflict, _stale)
    app.add_exception_handler(ConfigError, _unprocessable)
    app.add_exception_handler(InvalidRequest, _unprocessable)
    app.add_exception_handler(TooLarge, _too_large)
    app.add_exception_handler(InvalidMessage, _unprocessable)
    app.add_exception_handler(ServiceUnavailable, _unavailable)
