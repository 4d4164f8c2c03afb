"""Site time zones: a rule's ``during`` window is read in the site's local time, across daylight-saving
changes; a site without a zone takes the configured default; a site whose zone changes follows it at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import ManualClock
from core.domain import AlarmState, Asset, AssetKind, Reading, Site
from core.errors import ConfigError
from core.events import EventBus
from core.settings import Settings
from core.zones import parse_zone
from rules.engine import RuleEngine, TransitionKind
from rules.pack import parse_rules
from rules.service import RulesService
from storage.records import Database
from workorders.book import WorkOrderBook

RULES = parse_rules("""\
rules:
  - id: night_flow
    applies_to: pump
    when: "flow_m3h > 10"
    during: "19:00-06:00"
    severity: low
    message: "m"
""")
PUMP = Asset("p1", "berlin", AssetKind.PUMP, "pump")
BERLIN = Site("berlin", "Berlin office", time_zone="Europe/Berlin")
# Europe/Berlin changes from CET (UTC+1) to CEST (UTC+2) at 01:00 UTC on Sunday 29 March 2026.
BEFORE = datetime(2026, 3, 28, tzinfo=UTC)
AFTER = datetime(2026, 3, 30, tzinfo=UTC)


def raises_at(engine: RuleEngine, at: datetime, asset: Asset = PUMP) -> bool:
    """Whether a flowing reading at ``at`` raises the night rule (a dry reading first resets it)."""
    engine.evaluate(Reading(asset.site_id, asset.kind, asset.id, at - timedelta(seconds=1), {"flow_m3h": 0.0}))
    fired = engine.evaluate(Reading(asset.site_id, asset.kind, asset.id, at, {"flow_m3h": 20.0}))
    return any(t.kind is TransitionKind.RAISE for _rule, _reading, t in fired)


def utc(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


def test_during_follows_the_sites_local_time_across_the_change_to_daylight_saving() -> None:
    engine = RuleEngine(RULES)
    engine.register([PUMP], [BERLIN])
    # In time order: 04:30 UTC is 05:30 CET before the change (inside) and 06:30 CEST after it (outside);
    # 17:30 UTC is 18:30 CET before (outside) and 19:30 CEST after (inside); 18:30 UTC is inside on both.
    assert raises_at(engine, utc(BEFORE, 4, 30))
    assert not raises_at(engine, utc(BEFORE, 17, 30))
    assert raises_at(engine, utc(BEFORE, 18, 30))
    assert not raises_at(engine, utc(AFTER, 4, 30))
    assert raises_at(engine, utc(AFTER, 17, 30))
    assert raises_at(engine, utc(AFTER, 18, 30))


def test_the_window_is_eleven_local_hours_on_the_night_the_clocks_go_forward() -> None:
    engine = RuleEngine(RULES)
    engine.register([PUMP], [BERLIN])
    night = datetime(2026, 3, 28, 17, 0, tzinfo=UTC)  # 18:00 CET on the Saturday
    inside = [night + timedelta(minutes=10 * i) for i in range(13 * 6)
              if raises_at(engine, night + timedelta(minutes=10 * i))]
    assert inside[0].astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "19:00"
    assert inside[-1].astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "05:50"
    # 19:00 CET (18:00 UTC) to 06:00 CEST (04:00 UTC): ten real hours, every one of them inside.
    assert len(inside) == 10 * 6
    assert inside[0] == datetime(2026, 3, 28, 18, 0, tzinfo=UTC)


def test_a_site_without_a_zone_takes_the_default_and_utc_stays_the_default_of_the_default() -> None:
    plain = Site("berlin", "Berlin office")
    shanghai = RuleEngine(RULES, default_zone=parse_zone("Asia/Shanghai"))
    shanghai.register([PUMP], [plain])
    utc_engine = RuleEngine(RULES)
    utc_engine.register([PUMP], [plain])
    # 12:30 UTC is 20:30 in Shanghai (inside) and 12:30 in UTC (outside).
    assert raises_at(shanghai, utc(BEFORE, 12, 30))
    assert not raises_at(utc_engine, utc(BEFORE, 12, 30))


def test_a_site_whose_zone_changes_is_judged_in_the_new_zone_at_once() -> None:
    engine = RuleEngine(RULES)
    engine.register([PUMP], [Site("berlin", "Berlin office")])
    assert not raises_at(engine, utc(AFTER, 17, 30))  # 17:30 UTC: outside in UTC
    engine.register([], [BERLIN])  # the site gets its zone; the asset's track already exists
    assert raises_at(engine, utc(AFTER, 17, 35))  # 19:35 CEST


def test_an_active_alarm_clears_when_the_local_window_ends() -> None:
    engine = RuleEngine(RULES)
    engine.register([PUMP], [BERLIN])
    assert raises_at(engine, utc(AFTER, 3, 0))  # 05:00 CEST
    fired = engine.evaluate(Reading("berlin", AssetKind.PUMP, "p1", utc(AFTER, 4, 0), {"flow_m3h": 20.0}))
    assert [(rule.id, t.kind) for rule, _r, t in fired] == [("night_flow", TransitionKind.CLEAR)]  # 06:00 CEST


def test_an_unknown_zone_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        parse_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        Settings(time_zone="Mars/Olympus")
    assert Settings(time_zone="Asia/Shanghai").time_zone == "Asia/Shanghai"


def test_the_service_raises_by_the_zone_stored_with_the_site_across_the_change(db: Database) -> None:
    """The runtime's path on SQLite and PostgreSQL: the site's zone from the records, the engine told at
    start, the alarm raised at the local window's start before and after the clocks go forward."""
    db.assets.upsert_site(BERLIN)
    db.assets.upsert_asset(PUMP)
    clock = ManualClock(BEFORE)
    bus = EventBus()
    service = RulesService(RULES, db, WorkOrderBook(db, bus, clock), bus, clock)
    service.engine.register(db.assets.list(), db.assets.sites())  # as Runtime.start does
    for day in (BEFORE, AFTER):
        for minute in range(16 * 60, 20 * 60, 10):  # 16:00-20:00 UTC, flowing all along
            at = day + timedelta(minutes=minute)
            clock.advance(at - clock.now())
            service.process([Reading("berlin", AssetKind.PUMP, "p1", at, {"flow_m3h": 20.0})])
        clock.advance(day + timedelta(hours=23) - clock.now())
        service.process([Reading("berlin", AssetKind.PUMP, "p1", day + timedelta(hours=23), {"flow_m3h": 0.0})])
        for alarm in db.alarms.list():
            if alarm.state is AlarmState.RTN_UNACKNOWLEDGED:
                service.acknowledge(alarm.id, "operator")  # the next night is a new episode
    starts = sorted(alarm.started_at for alarm in db.alarms.list())
    # 19:00 local: 18:00 UTC in CET before the change, 17:00 UTC in CEST after it.
    assert starts == [utc(BEFORE, 18), utc(AFTER, 17)]
