"""Outbound webhooks: events from the bus become signed HTTP POSTs, kept in a delivery log and retried.

The log (table ``webhook_deliveries``) is an outbox: an event is first written there, once per endpoint
(unique on event id and endpoint, so an escalation found twice is sent once), then a sender delivers what
is due. A receiver that is down loses nothing: its deliveries wait with a growing backoff until
``max_attempts``, then stay in the log as failed, with the last status and error, for an admin to see.
"""

from __future__ import annotations

import builtins
import logging
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from core.events import Event, EventBus
from core.settings import NotifySettings
from storage.records import Database
from storage.records.models import WebhookDeliveryRow
from storage.records.paging import keyset, split
from storage.records.sessions import Repository
from workorders.notify import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Route,
    retry_delay,
    routes_for,
    sign,
    unacknowledged_escalations,
)

log = logging.getLogger(__name__)

ALARM_ESCALATED = "alarm.escalated"
# Recipients of an escalation: (site id, level, at) -> people to page, as JSON-safe dicts (id, name, phone).
Recipients = Callable[[str, int, datetime], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    event_id: str
    endpoint: str
    url: str
    topic: str
    body: bytes
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


def _delivery(row: WebhookDeliveryRow) -> Delivery:
    return Delivery(row.id, row.event_id, row.endpoint, row.url, row.topic, row.body, row.status, row.attempts,
                    row.next_attempt_at, row.last_status_code, row.last_error, row.created_at, row.delivered_at)


class DeliveryLog(Repository):
    def enqueue(self, event_id: str, route: Route, topic: str, body: bytes, at: datetime) -> bool:
        """Add a pending delivery; False if this event was already queued for this endpoint."""
        try:
            with self._transaction() as session:
                session.add(WebhookDeliveryRow(event_id=event_id, endpoint=route.endpoint, url=route.url,
                                               topic=topic, body=body, status="pending", attempts=0,
                                               next_attempt_at=at, last_error="", created_at=at))
            return True
        except IntegrityError:
            return False

    def due(self, at: datetime, limit: int = 100) -> builtins.list[Delivery]:
        query = (select(WebhookDeliveryRow).where(WebhookDeliveryRow.status == "pending",
                                                  WebhookDeliveryRow.next_attempt_at <= at)
                 .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id).limit(limit))
        with self._transaction() as session:
            return [_delivery(row) for row in session.scalars(query)]

    def settle(self, delivery_id: int, status: str, at: datetime, status_code: int | None, error: str,
               next_attempt_at: datetime | None) -> None:
        values: dict[str, Any] = {"status": status, "attempts": WebhookDeliveryRow.attempts + 1,
                                  "last_status_code": status_code, "last_error": error[:2000],
                                  "next_attempt_at": next_attempt_at}
        if status == "delivered":
            values["delivered_at"] = at
        with self._transaction() as session:
            session.execute(update(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id).values(values))

    def list(self, status: str | None = None, limit: int = 100) -> builtins.list[Delivery]:
        return self.page(status, limit)[0]

    def page(self, status: str | None = None, limit: int = 50, after: tuple[datetime, int] | None = None,
             ) -> tuple[builtins.list[Delivery], tuple[datetime, int] | None]:
        """One page of deliveries, newest first (created_at, then id), and the next page's cursor."""
        query = keyset(self._where(select(WebhookDeliveryRow), status), WebhookDeliveryRow.created_at,
                       WebhookDeliveryRow.id, limit, after, newest_first=True)
        with self._transaction() as session:
            deliveries = [_delivery(row) for row in session.scalars(query)]
        return split(deliveries, limit, lambda delivery: (delivery.created_at, delivery.id))

    def total(self, status: str | None = None) -> int:
        with self._transaction() as session:
            return session.scalar(self._where(select(func.count()).select_from(WebhookDeliveryRow), status)) or 0

    @staticmethod
    def _where(query: Select[Any], status: str | None) -> Select[Any]:
        return query if status is None else query.where(WebhookDeliveryRow.status == status)


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    routes: Sequence[Route]
    secrets: dict[str, bytes]  # endpoint name -> signing secret
    max_attempts: int = 8
    retry_base_s: float = 5.0
    retry_max_s: float = 3600.0
    timeout_s: float = 5.0
    alarm_ack_timeout: timedelta = timedelta(minutes=5)


class WebhookNotifier:
    """Subscribes to the bus, queues matching events per endpoint, and delivers them (``deliver_due``)."""

    def __init__(self, db: Database, policy: WebhookPolicy, clock: Clock,
                 recipients: Recipients | None = None, client: httpx.Client | None = None,
                 rng: random.Random | None = None) -> None:
        self.log = DeliveryLog(db.sessions)
        self._db = db
        self._policy = policy
        self._clock = clock
        self._recipients = recipients
        self._client = client or httpx.Client(timeout=policy.timeout_s)
        self._rng = rng or random.Random()
        self.counts = dict.fromkeys(("queued", "delivered", "retried", "failed"), 0)

    def attach(self, bus: EventBus) -> Callable[[], None]:
        return bus.subscribe(self.on_event)

    def on_event(self, event: Event) -> None:
        """Queue ``event`` for every route it matches (never raises into the publisher)."""
        if not event.topic.startswith(("alarm.", "workorder.", "emergency.", "complaint.", "notice.")):
            return
        self.queue(str(uuid.uuid4()), event.topic, event.data)

    def queue(self, event_id: str, topic: str, data: dict[str, Any]) -> int:
        """Queue one event (idempotent on ``event_id`` per endpoint); returns how many deliveries were added."""
        now = self._clock.now()
        body = orjson.dumps({"id": event_id, "topic": topic, "at": now.isoformat(), "data": data})
        added = sum(self.log.enqueue(event_id, route, topic, body, now)
                    for route in routes_for(self._policy.routes, topic, data))
        self.counts["queued"] += added
        return added

    def escalate_alarms(self) -> int:
        """Queue an ``alarm.escalated`` event for each critical alarm unacknowledged too long (once per level):
        level 1 to the site's on-call person, level 2 to their supervisor."""
        now = self._clock.now()
        added = 0
        for escalation in unacknowledged_escalations(self._db.alarms.open_of(), now, self._policy.alarm_ack_timeout):
            alarm = escalation.alarm
            people = [] if self._recipients is None else self._recipients(alarm.site_id, escalation.level, now)
            data = {"alarm_id": alarm.id, "rule_id": alarm.rule_id, "site_id": alarm.site_id,
                    "asset_id": alarm.asset_id, "severity": alarm.severity.value, "level": escalation.level,
                    "message": alarm.message, "started_at": alarm.started_at.isoformat(), "recipients": people}
            added += self.queue(escalation.key, ALARM_ESCALATED, data)
        return added

    def run_once(self) -> None:
        """One round of the sender thread: escalate what waited too long, then send what is due."""
        self.escalate_alarms()
        self.deliver_due()

    def deliver_due(self, limit: int = 100) -> int:
        """Send what is due now; returns how many were delivered."""
        delivered = 0
        for delivery in self.log.due(self._clock.now(), limit):
            delivered += self._send(delivery)
        return delivered

    def _send(self, delivery: Delivery) -> bool:
        secret = self._policy.secrets.get(delivery.endpoint, b"")
        now = self._clock.now()
        headers = {"Content-Type": "application/json", EVENT_HEADER: delivery.topic,
                   DELIVERY_HEADER: delivery.event_id,
                   SIGNATURE_HEADER: sign(secret, int(now.timestamp()), delivery.body)}
        code: int | None = None
        try:
            response = self._client.post(delivery.url, content=delivery.body, headers=headers)
            code = response.status_code
            error = "" if response.is_success else f"HTTP {code}: {response.text[:200]}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        if not error:
            self.log.settle(delivery.id, "delivered", now, code, "", None)
            self.counts["delivered"] += 1
            return True
        attempts = delivery.attempts + 1
        if attempts >= self._policy.max_attempts:
            log.warning("webhook %s gave up on %s after %d attempts: %s", delivery.endpoint, delivery.event_id,
                        attempts, error)
            self.log.settle(delivery.id, "failed", now, code, error, None)
            self.counts["failed"] += 1
        else:
            wait = retry_delay(attempts, self._policy.retry_base_s, self._policy.retry_max_s, self._rng)
            self.log.settle(delivery.id, "pending", now, code, error, now + wait)
            self.counts["retried"] += 1
        return False

    def close(self) -> None:
        self._client.close()


def build_notifier(settings: NotifySettings, db: Database, clock: Clock,
                   recipients: Recipients | None = None) -> WebhookNotifier | None:
    """The notifier for the configured endpoints (None when there are none)."""
    if not settings.webhooks:
        return None
    routes = [Route(hook.name, hook.url, tuple(hook.topics), frozenset(hook.sites), frozenset(hook.kinds),
                    frozenset(hook.priorities)) for hook in settings.webhooks]
    secrets = {hook.name: hook.secret.get_secret_value().encode() for hook in settings.webhooks}
    policy = WebhookPolicy(routes, secrets, settings.max_attempts, settings.retry_base_s, settings.retry_max_s,
                           settings.timeout_s, timedelta(seconds=settings.alarm_ack_timeout_s))
    return WebhookNotifier(db, policy, clock, recipients)
