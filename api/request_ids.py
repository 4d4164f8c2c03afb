"""Request ids: every request gets one (the client's ``X-Request-ID`` if it sent a sane one), every answer
and every log line written while serving it carries it (asgi-correlation-id does the work)."""

from __future__ import annotations

import logging
import re

from asgi_correlation_id import CorrelationIdFilter, CorrelationIdMiddleware
from fastapi import FastAPI

from api.errors import REQUEST_ID_HEADER

# A client's id is kept if it is short printable text (a UUID, a trace id, a proxy's $request_id).
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"


def is_sane_request_id(value: str) -> bool:
    return _SANE_ID.fullmatch(value) is not None


def install_request_ids(app: FastAPI) -> None:
    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER, validator=is_sane_request_id)


def log_request_ids(handler: logging.Handler) -> None:
    """Give ``handler``'s records the request's id as ``correlation_id`` ('-' outside a request), which
    ``LOG_FORMAT`` shows."""
    handler.addFilter(CorrelationIdFilter(default_value="-"))
