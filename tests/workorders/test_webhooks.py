"""Webhooks against a real HTTP receiver: signed bodies (checked by OpenSSL), retries, the delivery log."""

from __future__ import annotations

import http.server
import random
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from core.clock import ManualClock
from core.domain import Severity
from core.events import Event, EventBus
from storage.records import Database
from tests.tls import OPENSSL
from workorders.notify import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, Route
from workorders.webhooks import ALARM_ESCALATED, WebhookNotifier, WebhookPolicy

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
SECRET = b"a-shared-webhook-secret"


class Receiver:
    """A real HTTP server on a free loopback port that records requests; answers ``statuses`` in turn
    (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def _notifier(db: Database, clock: ManualClock, url: str, max_attempts: int = 4) -> WebhookNotifier:
    policy = WebhookPolicy([Route("ops", url, ("alarm.", "workorder."), frozenset({"north"}))], {"ops": SECRET},
                           max_attempts=max_attempts, retry_base_s=10, retry_max_s=60, timeout_s=2)
    return WebhookNotifier(db, policy, clock, recipients=lambda site, level, at: [{"id": f"{site}-oncall-{level}"}],
                           rng=random.Random(1))


def _openssl_hmac(secret: bytes, message: bytes) -> str:
    """HMAC-SHA256 by OpenSSL's own implementation, independent of Python's hmac module."""
    out = subprocess.run([OPENSSL, "dgst", "-sha256", "-hmac", secret.decode()], input=message,
                         capture_output=True, check=True).stdout.decode()
    return out.strip().rsplit(" ", 1)[-1]


def test_event_is_posted_once_signed_and_the_signature_checks_out_with_openssl(
        db: Database, receiver: Receiver) -> None:
    clock = ManualClock(T0)
    notifier = _notifier(db, clock, receiver.url)
    bus = EventBus()
    notifier.attach(bus)
    bus.publish("workorder.opened", {"id": 5, "site_id": "north", "priority": "emergency"})
    bus.publish("workorder.opened", {"id": 6, "site_id": "south"})  # another site: not routed here
    assert notifier.deliver_due() == 1
    assert notifier.deliver_due() == 0  # delivered once, not again
    (headers, body), = receiver.requests
    timestamp, signature = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
    assert _openssl_hmac(SECRET, timestamp.encode() + b"." + body) == signature
    envelope = orjson.loads(body)
    assert (envelope["topic"], envelope["data"]["id"], headers[EVENT_HEADER]) == ("workorder.opened", 5,
                                                                                   "workorder.opened")
    assert headers[DELIVERY_HEADER] == envelope["id"]
    assert [d.status for d in notifier.log.list()] == ["delivered"]


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(db: Database,
                                                                     receiver: Receiver) -> None:
    clock = ManualClock(T0)
    notifier = _notifier(db, clock, receiver.url)
    receiver.statuses = [500, 503]
    notifier.queue("evt-1", "alarm.raised", {"site_id": "north"})
    assert notifier.deliver_due() == 0
    (pending,) = notifier.log.list()
    assert (pending.status, pending.attempts, pending.last_status_code) == ("pending", 1, 500)
    assert pending.next_attempt_at is not None
    assert pending.next_attempt_at > T0
    assert notifier.deliver_due() == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    clock.advance(timedelta(minutes=2))
    assert notifier.deliver_due() == 0  # 503
    clock.advance(timedelta(minutes=2))
    assert notifier.deliver_due() == 1
    (done,) = notifier.log.list()
    assert (done.status, done.attempts, len(receiver.requests)) == ("delivered", 3, 3)
    assert {body for _, body in receiver.requests} == {done.body}  # the same signed bytes each time


def test_an_unreachable_receiver_ends_failed_in_the_log_after_max_attempts(db: Database) -> None:
    clock = ManualClock(T0)
    unreachable = Receiver()
    url = unreachable.url
    unreachable.close()  # nothing listens there any more
    notifier = _notifier(db, clock, url, max_attempts=3)
    notifier.queue("evt-2", "alarm.raised", {"site_id": "north"})
    for _ in range(3):
        notifier.deliver_due()
        clock.advance(timedelta(minutes=5))
    (failed,) = notifier.log.list()
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "Connect" in failed.last_error
    assert notifier.counts["failed"] == 1


def test_critical_alarm_unacknowledged_for_five_minutes_escalates_once_per_level(
        db: Database, receiver: Receiver) -> None:
    clock = ManualClock(T0)
    notifier = _notifier(db, clock, receiver.url)
    alarm, _ = db.alarms.raise_alarm("elevator_entrapment", "e1", "north", Severity.CRITICAL, "trapped", T0)
    clock.advance(timedelta(minutes=4))
    notifier.run_once()
    assert receiver.requests == []
    clock.advance(timedelta(minutes=1))
    notifier.run_once()
    notifier.run_once()  # found again: still sent once
    clock.advance(timedelta(minutes=5))
    notifier.run_once()
    sent = [orjson.loads(body) for _, body in receiver.requests]
    assert [(e["topic"], e["data"]["level"], e["data"]["recipients"]) for e in sent] == [
        (ALARM_ESCALATED, 1, [{"id": "north-oncall-1"}]), (ALARM_ESCALATED, 2, [{"id": "north-oncall-2"}])]
    assert all(e["data"]["alarm_id"] == alarm.id for e in sent)


def test_events_of_other_topics_are_not_queued(db: Database, receiver: Receiver) -> None:
    notifier = _notifier(db, ManualClock(T0), receiver.url)
    notifier.on_event(Event("forecast.updated", {"site_id": "north"}))
    notifier.on_event(Event("collector.status", {"site_id": "north"}))
    assert notifier.log.list() == []


def test_the_delivery_log_pages_newest_first_with_a_total(db: Database) -> None:
    clock = ManualClock(T0)
    notifier = _notifier(db, clock, "http://127.0.0.1:9/never")
    bus = EventBus()
    notifier.attach(bus)
    for order_id in (1, 2, 3):
        bus.publish("workorder.opened", {"id": order_id, "site_id": "north"})  # same time: the id breaks ties
    first, after = notifier.log.page(limit=2)
    rest, end = notifier.log.page(limit=2, after=after)
    assert [orjson.loads(d.body)["data"]["id"] for d in first + rest] == [3, 2, 1]
    assert (end, notifier.log.total(), notifier.log.total("delivered")) == (None, 3, 0)
