"""The whole portfolio silent: ONE alarm of facmon's own when no site reports while the collector is
connected (not one per device); absence alarms go under it; it clears when readings arrive again."""

from __future__ import annotations

from datetime import timedelta

from core.domain import AlarmState, Severity
from rules.service import COLLECTOR_RULE, PORTFOLIO_ASSET, PORTFOLIO_RULE, RulesService
from storage.records import Database
from tests.rules.test_alarm_service import Harness, _healthy_minute, db  # noqa: F401 (fixture)

ASSETS = ["pump-0", "pump-1", "pump-2"]


def silent_minutes(harness: Harness, minutes: int) -> None:
    for _ in range(minutes):
        harness.clock.advance(timedelta(minutes=1))
        harness.service.tick()


def test_every_site_silent_raises_one_alarm_and_devices_going_offline_go_under_it(db: Database) -> None:  # noqa: F811
    harness = Harness(db)
    harness.service.collector_status(connected=True, lagging=False)
    harness.feed([r for minute in range(5) for r in _healthy_minute(minute, ASSETS)])
    silent_minutes(harness, 5)
    assert db.alarms.list() == []  # five minutes: not yet
    silent_minutes(harness, 2)
    [alarm] = db.alarms.list()
    assert (alarm.rule_id, alarm.asset_id, alarm.severity) == (PORTFOLIO_RULE, PORTFOLIO_ASSET, Severity.CRITICAL)
    assert "No reading from any of the" in alarm.message
    for asset in ASSETS:  # the broker publishes every device's last will
        harness.service.device_status(asset, "offline")
    silent_minutes(harness, 60)
    assert [a.rule_id for a in db.alarms.list(suppressed=False)] == [PORTFOLIO_RULE]
    assert harness.service.stats()["portfolio_silences"] == 1


def test_readings_arriving_again_clear_it_and_a_device_still_silent_is_shown_after_the_settle(
        db: Database) -> None:  # noqa: F811
    harness = Harness(db)
    harness.service.collector_status(connected=True, lagging=False)
    harness.feed([r for minute in range(5) for r in _healthy_minute(minute, ASSETS)])
    silent_minutes(harness, 10)
    alarm = db.alarms.find_open(PORTFOLIO_RULE, PORTFOLIO_ASSET)
    assert alarm is not None
    back = ["pump-0", "pump-1"]  # pump-2 stays silent
    for minute in range(15, 19):  # the clock is at 14: readings again from 15
        harness.feed(_healthy_minute(minute, back))
        harness.service.tick()
    assert db.alarms.get(alarm.id).state is AlarmState.RTN_UNACKNOWLEDGED
    [held] = [a for a in db.alarms.list() if a.rule_id != PORTFOLIO_RULE]
    assert (held.rule_id, held.asset_id, held.suppressed_by) == ("device_offline", "pump-2", alarm.id)
    for minute in range(19, 30):
        harness.feed(_healthy_minute(minute, back))
        harness.service.tick()
    shown = [(a.rule_id, a.asset_id) for a in db.alarms.list(suppressed=False) if a.rule_id != PORTFOLIO_RULE]
    assert shown == [("device_offline", "pump-2")]  # after the settle: the one really offline is shown


def test_a_collector_without_its_broker_raises_its_own_alarm_not_the_portfolio_one(db: Database) -> None:  # noqa: F811
    harness = Harness(db)
    harness.service.collector_status(connected=True, lagging=False)
    harness.feed([r for minute in range(5) for r in _healthy_minute(minute, ASSETS)])
    harness.service.collector_status(connected=False, lagging=False)
    silent_minutes(harness, 30)
    assert [a.rule_id for a in db.alarms.list()] == [COLLECTOR_RULE]


def test_a_silence_of_zero_turns_it_off(db: Database) -> None:  # noqa: F811
    harness = Harness(db)
    harness.service = RulesService(harness.rules, db, harness.book, harness.bus, harness.clock,
                                   silence=timedelta(0))
    harness.feed([r for minute in range(5) for r in _healthy_minute(minute, ASSETS)])
    silent_minutes(harness, 30)
    assert db.alarms.list() == []
