"""The live event stream over a real uvicorn server: format, auth, topic filter, unsubscribe."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from api.deps import Services
from core.domain import Alarm
from core.events import STOPPING

TIMEOUT = httpx.Timeout(5.0)


@contextmanager
def stream(url: str, headers: dict[str, str] | None = None) -> Iterator[Iterator[str]]:
    """The stream's lines, once the server says the subscription is in place."""
    with httpx.Client(timeout=TIMEOUT) as client, client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == ": connected"
        yield lines


def next_event(lines: Iterator[str]) -> tuple[str, dict[str, Any]]:
    """Read up to the end of the next event that has a name; skip comments (keepalives)."""
    name, data = "", ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data += line.removeprefix("data: ")
        elif line == "" and name:
            return name, json.loads(data)
    raise AssertionError("the stream ended")


def test_published_event_arrives_as_named_sse_event(live_server: Any, services: Services, token: str) -> None:
    with stream(f"{live_server.url}/api/v1/events?token={token}") as lines:
        services.bus.publish("test.hello", {"n": 1, "text": "two\nlines"})
        assert next_event(lines) == ("test.hello", {"n": 1, "text": "two\nlines"})


def test_bearer_header_works_for_the_stream_too(live_server: Any, services: Services, token: str) -> None:
    with stream(f"{live_server.url}/api/v1/events", {"Authorization": f"Bearer {token}"}) as lines:
        services.bus.publish("test.header", {})
        assert next_event(lines) == ("test.header", {})


def test_stream_without_token_is_401(live_server: Any) -> None:
    response = httpx.get(f"{live_server.url}/api/v1/events", timeout=TIMEOUT)
    assert response.status_code == 401


def test_topic_prefix_filters_events(live_server: Any, services: Services, token: str) -> None:
    with stream(f"{live_server.url}/api/v1/events?token={token}&topic=workorder.") as lines:
        services.bus.publish("alarm.raised", {"id": 1})
        services.bus.publish("workorder.opened", {"id": 2})
        assert next_event(lines) == ("workorder.opened", {"id": 2})


def test_rules_service_alarm_reaches_the_stream(live_server: Any, services: Services, token: str,
                                                burst_pipe: Callable[..., Alarm]) -> None:
    with stream(f"{live_server.url}/api/v1/events?token={token}") as lines:
        alarm = burst_pipe()
        seen = [next_event(lines) for _ in range(3)]
    topics = [topic for topic, _ in seen]
    assert "alarm.raised" in topics
    assert "workorder.opened" in topics
    raised = dict(seen)["alarm.raised"]
    assert (raised["id"], raised["rule_id"], raised["severity"]) == (alarm.id, "pump_burst_pipe", "critical")


def test_disconnect_unwatches_the_bus(live_server: Any, services: Services, token: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    watching: list[Callable[[], None]] = []
    watch = services.bus.watch

    def counting_watch(wake: Callable[[], None]) -> Callable[[], None]:
        unwatch = watch(wake)
        watching.append(wake)

        def counted_unwatch() -> None:
            watching.remove(wake)
            unwatch()

        return counted_unwatch

    monkeypatch.setattr(services.bus, "watch", counting_watch)
    with stream(f"{live_server.url}/api/v1/events?token={token}&topic=alarm.") as lines:
        assert len(watching) == 1  # one wake-up per stream: it filters topics itself and must also see STOPPING
        services.bus.publish("alarm.raised", {"id": 7})
        assert next_event(lines)[0] == "alarm.raised"
    deadline = time.monotonic() + 5
    while watching and time.monotonic() < deadline:
        time.sleep(0.02)
    assert watching == [], "the stream kept watching the bus after the client left"


def test_the_stream_ends_cleanly_when_the_service_stops(live_server: Any, services: Services, token: str) -> None:
    with stream(f"{live_server.url}/api/v1/events?token={token}&topic=alarm.") as lines:
        services.bus.publish(STOPPING, {})
        # The stream ends (no read timeout) and sends no event after STOPPING.
        assert [line for line in lines if line.startswith(("event:", "data:"))] == []


def next_message(lines: Iterator[str]) -> tuple[str, str, Any]:
    """(id, event name, data) of the next event that has a name; skips comments and id-only messages."""
    event_id, name, data = "", "", ""
    for line in lines:
        if line.startswith("id: "):
            event_id = line.removeprefix("id: ")
        elif line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data += line.removeprefix("data: ")
        elif line == "" and name:
            return event_id, name, json.loads(data)
    raise AssertionError("the stream ended")


def connected_id(url: str, headers: dict[str, str]) -> str:
    """Open a stream and drop it at once: the id its first message carries (the newest event's)."""
    with httpx.Client(timeout=TIMEOUT) as client, client.stream("GET", url, headers=headers) as response:
        lines = response.iter_lines()
        assert next(lines) == ": connected"
        first = next(lines)
        assert first.startswith("id: ")
        return first.removeprefix("id: ")


def test_reconnecting_with_last_event_id_replays_what_was_missed_then_goes_on_live(
        live_server: Any, services: Services, token: str) -> None:
    url, auth = f"{live_server.url}/api/v1/events?topic=test.", {"Authorization": f"Bearer {token}"}
    with stream(url, auth) as lines:
        for n in range(3):
            services.bus.publish("test.n", {"n": n})
        received = [next_message(lines) for _ in range(3)]
    last_id = received[-1][0]
    for n in range(3, 8):  # while no one listens: the connection is gone
        services.bus.publish("test.n", {"n": n})
        services.bus.publish("other.n", {"n": n})  # filtered out on replay too
    with stream(url, {**auth, "Last-Event-ID": last_id}) as lines:
        resumed = [next_message(lines) for _ in range(5)]
        services.bus.publish("test.n", {"n": 8})
        resumed.append(next_message(lines))
    numbers = [data["n"] for _, _, data in received + resumed]
    assert numbers == list(range(9)), "an event was missed or came twice"
    ids = [services.bus.parse_id(event_id) for event_id, _, _ in received + resumed]
    assert ids == sorted(ids)
    assert len(set(ids)) == 9


def test_a_client_dropped_before_its_first_event_resumes_from_the_connected_id(
        live_server: Any, services: Services, token: str) -> None:
    services.bus.publish("test.before", {})
    url, auth = f"{live_server.url}/api/v1/events", {"Authorization": f"Bearer {token}"}
    start = connected_id(url, auth)
    services.bus.publish("test.missed", {"n": 1})
    with stream(f"{url}?after={start}", auth) as lines:
        assert next_message(lines)[1:] == ("test.missed", {"n": 1})


def test_an_id_the_server_cannot_replay_gets_reset_then_live_events(
        live_server: Any, services: Services, token: str) -> None:
    services.bus.publish("test.before", {})
    url = f"{live_server.url}/api/v1/events"
    with stream(url, {"Authorization": f"Bearer {token}", "Last-Event-ID": "0f0f0f0f-12"}) as lines:
        reset_id, name, data = next_message(lines)
        assert (name, data) == ("reset", {"reason": "unknown"})
        assert reset_id == f"{services.bus.epoch}-{services.bus.last_seq}"
        services.bus.publish("test.after", {"n": 2})
        assert next_message(lines)[1:] == ("test.after", {"n": 2})


def test_a_refused_credential_is_answered_401_with_json_and_no_stream(live_server: Any) -> None:
    response = httpx.get(f"{live_server.url}/api/v1/events", timeout=TIMEOUT,
                         headers={"Authorization": "Bearer wrong", "Last-Event-ID": "x-1"})
    assert response.status_code == 401
    assert not response.headers["content-type"].startswith("text/event-stream")
    assert "token" in response.json()["detail"]
