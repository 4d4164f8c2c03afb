"""The pure part of notifications: routing, signatures, retry delays, alarm escalation levels."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.domain import Alarm, AlarmState, Severity
from workorders.notify import Route, retry_delay, routes_for, sign, unacknowledged_escalations, verify

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
SECRET = b"s3cret"


def test_route_filters_by_topic_site_kind_and_priority() -> None:
    pumps_north = Route("pumps", "http://x", ("workorder.",), frozenset({"north"}), frozenset({"emergency"}),
                        frozenset({"emergency", "urgent"}))
    order = {"site_id": "north", "kind": "emergency", "priority": "emergency"}
    assert pumps_north.matches("workorder.opened", order)
    assert not pumps_north.matches("alarm.raised", order)
    assert not pumps_north.matches("workorder.opened", {**order, "site_id": "south"})
    assert not pumps_north.matches("workorder.opened", {**order, "priority": "normal"})
    assert not pumps_north.matches("workorder.opened", {"kind": "emergency", "priority": "emergency"})


def test_unfiltered_route_takes_every_event_of_its_topics() -> None:
    everything = Route("all", "http://x")
    chosen = routes_for([everything, Route("none", "http://y", ("complaint.",))], "alarm.raised", {})
    assert [route.endpoint for route in chosen] == ["all"]


@given(body=st.binary(max_size=2000), timestamp=st.integers(0, 2**40))
def test_a_signature_verifies_and_any_change_to_the_body_breaks_it(body: bytes, timestamp: int) -> None:
    header = sign(SECRET, timestamp, body)
    assert verify(SECRET, header, body, now=timestamp)
    assert not verify(SECRET, header, body + b"x", now=timestamp)
    assert not verify(b"other", header, body, now=timestamp)


def test_a_signature_older_than_the_tolerance_is_refused() -> None:
    header = sign(SECRET, 1000, b"{}")
    assert verify(SECRET, header, b"{}", now=1299)
    assert not verify(SECRET, header, b"{}", now=1301)
    assert not verify(SECRET, "v1=abc", b"{}", now=1000)


@given(attempt=st.integers(1, 60), seed=st.integers(0, 2**32))
def test_retry_delay_grows_within_its_cap(attempt: int, seed: int) -> None:
    delay = retry_delay(attempt, base_s=5, cap_s=600, rng=random.Random(seed)).total_seconds()
    assert 2.5 <= delay <= max(2.5, min(600, 5 * 2 ** (attempt - 1)))


def _alarm(severity: Severity = Severity.CRITICAL, state: AlarmState = AlarmState.UNACKNOWLEDGED) -> Alarm:
    return Alarm(7, "elevator_entrapment", "e1", "north", severity, state, "trapped", T0)


def test_critical_alarm_unacknowledged_escalates_a_level_per_timeout() -> None:
    timeout = timedelta(minutes=5)
    assert unacknowledged_escalations([_alarm()], T0 + timedelta(minutes=4), timeout) == []
    assert [e.level for e in unacknowledged_escalations([_alarm()], T0 + timedelta(minutes=5), timeout)] == [1]
    levels = unacknowledged_escalations([_alarm()], T0 + timedelta(minutes=11), timeout)
    assert [(e.level, e.key) for e in levels] == [(1, "alarm:7:escalation:1"), (2, "alarm:7:escalation:2")]


def test_acknowledged_muted_or_non_critical_alarms_do_not_escalate() -> None:
    late = T0 + timedelta(hours=1)
    quiet = [_alarm(state=AlarmState.ACKNOWLEDGED), _alarm(Severity.HIGH),
             replace(_alarm(), suppressed_by=3), replace(_alarm(), out_of_service="work order #2 in progress"),
             replace(_alarm(), shelved_until=late)]
    assert unacknowledged_escalations(quiet, late, timedelta(minutes=5)) == []
