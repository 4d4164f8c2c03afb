"""Outbound notifications, the pure part: which webhook gets an event, how it is signed, when to retry,
and which critical alarms have waited too long for an acknowledgement.

Signature (after Stripe's and Standard Webhooks' scheme): the header ``Facmon-Signature: t=<unix seconds>,
v1=<hex>`` where ``hex = HMAC-SHA256(secret, "<t>." + body)``. Signing the timestamp with the body lets a
receiver refuse replays older than a tolerance; comparing in constant time keeps the secret safe.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.domain import Alarm, AlarmState, Severity

SIGNATURE_HEADER = "Facmon-Signature"
EVENT_HEADER = "Facmon-Event"
DELIVERY_HEADER = "Facmon-Delivery"
DEFAULT_TOLERANCE_S = 300


@dataclass(frozen=True, slots=True)
class Route:
    """Which events go to one endpoint: topic prefixes, and optionally only some sites, kinds, priorities.

    ``kinds`` matches a work order's kind or an alarm's asset kind when the event says it; ``priorities``
    matches a work order's priority or an alarm's severity. Empty means any.
    """

    endpoint: str
    url: str
    topics: tuple[str, ...] = ("alarm.", "workorder.", "emergency.")
    sites: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()

    def matches(self, topic: str, data: Mapping[str, Any]) -> bool:
        if not any(topic.startswith(prefix) for prefix in self.topics):
            return False
        return (_admits(self.sites, data.get("site_id"))
                and _admits(self.kinds, data.get("kind") or data.get("asset_kind"))
                and _admits(self.priorities, data.get("priority") or data.get("severity")))


def _admits(allowed: frozenset[str], value: Any) -> bool:
    # An event that does not say its site (or kind, priority) reaches only unfiltered routes.
    return not allowed or (value is not None and str(value) in allowed)


def routes_for(routes: Iterable[Route], topic: str, data: Mapping[str, Any]) -> list[Route]:
    return [route for route in routes if route.matches(topic, data)]


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``Facmon-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str, body: bytes, now: int, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance_s`` of ``now`` (for receivers
    written in Python, and for our tests)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split(",v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def retry_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> timedelta:
    """The wait before attempt ``attempt + 1``: exponential backoff with full jitter, capped (AWS's
    "full jitter": spreads retries of many deliveries that failed together)."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return timedelta(seconds=rng.uniform(base_s / 2, max(base_s / 2, ceiling)))


@dataclass(frozen=True, slots=True)
class AlarmEscalation:
    """A critical alarm still unacknowledged: level 1 goes to the on-call person, level 2 up the chain."""

    alarm: Alarm
    level: int

    @property
    def key(self) -> str:
        """Stable per alarm and level, so an escalation is sent once however often the check runs."""
        return f"alarm:{self.alarm.id}:escalation:{self.level}"


def unacknowledged_escalations(alarms: Sequence[Alarm], now: datetime, timeout: timedelta,
                               levels: int = 2) -> list[AlarmEscalation]:
    """Critical alarms unacknowledged for ``timeout`` (level 1), ``2 * timeout`` (level 2) ...; muted ones
    (shelved, suppressed, out of service) are not escalated: someone decided about them already."""
    found = []
    for alarm in alarms:
        if (alarm.severity is not Severity.CRITICAL or alarm.state is not AlarmState.UNACKNOWLEDGED
                or alarm.shelved_until is not None or alarm.suppressed_by is not None or alarm.out_of_service):
            continue
        waited = now - alarm.started_at
        found += [AlarmEscalation(alarm, level) for level in range(1, levels + 1) if waited >= timeout * level]
    return found
