"""Dependencies: probes run by ``check`` only; the last results, since when, and the health report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import ManualClock
from core.errors import ServiceUnavailable
from core.health import Dependencies

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


class Switch:
    """A probe whose dependency is up or down as the test says; counts its calls."""

    def __init__(self) -> None:
        self.up, self.calls = True, 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.up:
            raise ServiceUnavailable("InfluxDB at http://127.0.0.1:1 unreachable")


def test_nothing_checked_is_ok_and_reading_the_report_runs_no_probe() -> None:
    dependencies, store = Dependencies(ManualClock(T0)), Switch()
    dependencies.add("telemetry_store", store)
    assert dependencies.report() == {"status": "ok", "down": [], "dependencies": {}}
    assert dependencies.is_up("telemetry_store")
    assert store.calls == 0


def test_a_failing_probe_makes_the_report_degraded_with_its_reason_and_since_when() -> None:
    clock = ManualClock(T0)
    dependencies, store, broker = Dependencies(clock), Switch(), Switch()
    dependencies.add("telemetry_store", store)
    dependencies.add("broker", broker)
    store.up = False
    dependencies.check()
    clock.advance(timedelta(seconds=30))
    dependencies.check()  # still down: "since" stays at the first failure
    report = dependencies.report()
    assert report["status"] == "degraded"
    assert report["down"] == ["telemetry_store"]
    assert report["dependencies"]["telemetry_store"] == {
        "up": False, "since": T0.isoformat(), "detail": "InfluxDB at http://127.0.0.1:1 unreachable"}
    assert report["dependencies"]["broker"]["up"] is True
    assert not dependencies.is_up("telemetry_store")


def test_a_dependency_that_answers_again_is_up_since_then() -> None:
    clock = ManualClock(T0)
    dependencies, store = Dependencies(clock), Switch()
    dependencies.add("telemetry_store", store)
    store.up = False
    dependencies.check()
    clock.advance(timedelta(minutes=2))
    store.up = True
    (state,) = dependencies.check()
    assert state.up
    assert state.since == T0 + timedelta(minutes=2)
    assert state.detail == ""
    assert dependencies.report()["status"] == "ok"


def test_a_probe_raising_anything_counts_as_down_with_the_error_named() -> None:
    dependencies = Dependencies(ManualClock(T0))

    def broken() -> None:
        raise ConnectionResetError

    dependencies.add("broker", broken)
    (state,) = dependencies.check()
    assert not state.up
    assert state.detail == "ConnectionResetError"
