"""The audit log, API side: a write route records who did what to which record, before and after
(``AuditDep``); a middleware records every successful write under /api/v1 that did not, so no write escapes.

A route records after its change has succeeded, with the status its route declares; the fallback records
after the answer, with the status actually sent, the method and path as the action ("POST /api/v1/...") and
the first path parameter as the target (no before/after: it does not know the record). Entries are written in their own
transaction after the change's: a crash between the two loses the entry, never the change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from asgi_correlation_id import correlation_id
from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import Services, ServicesDep
from api.identity import PrincipalDep
from core.errors import ServiceUnavailable
from people.access import Principal
from storage.records.audit import AuditEntry

API_PREFIX = "/api/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_ACTOR, PUBLIC_VIA = "anonymous", "public"  # an open write (a resident's repair request) signed by nobody
_AUDITED, _PRINCIPAL = "audited", "principal"  # keys in the request's scope state

After = TypeVar("After")
log = logging.getLogger(__name__)


def _as_json(value: Any) -> dict[str, Any] | None:
    # The record without its history: the history is the record's own log, and would be stored twice per write.
    if value is None:
        return None
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude={"history"} if "history" in type(value).model_fields else None)
    encoded = jsonable_encoder(value)
    return encoded if isinstance(encoded, dict) else {"value": encoded}


def _request_id(request_headers: Mapping[str, str], state: Mapping[str, Any]) -> str | None:
    # The request-id middleware (api/request_ids.py, outside this one) holds it in a context variable.
    found = correlation_id.get() or state.get("request_id") or request_headers.get("x-request-id")
    return None if found is None else str(found)[:64]


class AuditTrail:
    """What a write route uses to record its change, as the signed-in principal."""

    def __init__(self, services: Services, principal: Principal, request: Request) -> None:
        self._services = services
        self._principal = principal
        self._request = request

    def record(self, action: str, target_type: str, target_id: object, before: Any, after: After) -> After:
        """Record ``action`` (e.g. "alarm.acknowledge") on the target, with the record before and after
        (a pydantic model, a mapping, or None); returns ``after`` so a route can end with it."""
        route = self._request.scope.get("route")
        status = getattr(route, "status_code", None) or 200
        state = self._request.scope.setdefault("state", {})
        self._services.db.audit.append(AuditEntry(
            at=self._services.clock.now(), actor=self._principal.user_id, via=self._principal.via, action=action,
            target_type=target_type, target_id=None if target_id is None else str(target_id)[:64],
            before=_as_json(before), after=_as_json(after),
            request_id=_request_id(self._request.headers, state), status=status))
        state[_AUDITED] = True
        return after


async def audit_trail(request: Request, services: ServicesDep, principal: PrincipalDep) -> AuditTrail:
    return AuditTrail(services, principal, request)


AuditDep = Annotated[AuditTrail, Depends(audit_trail)]


async def remember_principal(request: Request, principal: PrincipalDep) -> None:
    """Router dependency on every /api/v1 router: authenticates the request (401 without a valid credential)
    and keeps the principal for the middleware's fallback entry."""
    request.scope.setdefault("state", {})[_PRINCIPAL] = principal


class AuditMiddleware:
    """Records a successful write under /api/v1 that its route did not record itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in WRITE_METHODS
                or not scope["path"].startswith(API_PREFIX)):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        sent: list[int] = []

        async def remember_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])
            await send(message)

        await self.app(scope, receive, remember_status)
        if sent and sent[0] < 400 and not state.get(_AUDITED):
            try:
                await run_in_threadpool(self._fallback, scope, state, sent[0])
            except ServiceUnavailable:  # the answer is sent: say what the log lacks, do not fail the request
                log.exception("audit: could not record %s %s (status %s)", scope["method"], scope["path"], sent[0])

    @staticmethod
    def _fallback(scope: Scope, state: Mapping[str, Any], status: int) -> None:
        services: Services = scope["app"].state.services
        principal: Principal | None = state.get(_PRINCIPAL)
        params: Mapping[str, Any] = scope.get("path_params") or {}
        target = next(iter(params.values()), None)
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}
        services.db.audit.append(AuditEntry(
            at=services.clock.now(),
            actor=principal.user_id if principal is not None else PUBLIC_ACTOR,
            via=principal.via if principal is not None else PUBLIC_VIA,
            action=f"{scope['method']} {scope['path']}"[:200], target_type=None,
            target_id=None if target is None else str(target)[:64],
            request_id=_request_id(headers, state), status=status))
