"""Allowed work windows: working hours, holidays, weekends per site, quiet hours for resident-affecting work."""

from __future__ import annotations

from datetime import date, timedelta

from core.domain import AssetKind
from predictor.planning.windows import allowed_minutes, site_policies
from tests.predictor.planning.fleet import MONDAY, policy
from workorders.slafile import default_policy


def test_quiet_hours_take_rush_hour_off_elevator_work_that_affects_residents() -> None:
    site = policy()
    assert allowed_minutes(site, AssetKind.ELEVATOR, False, MONDAY) == 8 * 60
    # 08:00-12:00 and 13:00-17:00 less 07:00-09:30 and 17:00-19:30: 09:30-12:00 and 13:00-17:00.
    assert allowed_minutes(site, AssetKind.ELEVATOR, True, MONDAY) == 150 + 240
    # Pumps: no water off 11:00-13:00 either.
    assert allowed_minutes(site, AssetKind.PUMP, True, MONDAY) == 8 * 60 - 60 - 60


def test_holidays_and_weekends_close_the_day_unless_the_site_works_them() -> None:
    holiday = MONDAY + timedelta(days=2)
    site = policy(holidays=frozenset({holiday}))
    assert allowed_minutes(site, AssetKind.LIGHTING, False, holiday) == 0
    saturday = MONDAY + timedelta(days=5)
    assert allowed_minutes(site, AssetKind.LIGHTING, False, saturday) == 0
    assert allowed_minutes(policy(weekend=True), AssetKind.LIGHTING, False, saturday) == 8 * 60


def test_site_policies_use_the_service_desks_business_calendars() -> None:
    sla = default_policy()
    default, sites = site_policies(sla, {}, ["s1"])
    assert default.calendar == sla.calendar
    assert sites["s1"].calendar == sla.calendar_for("s1")
    assert allowed_minutes(default, AssetKind.PUMP, True, date(2027, 3, 6)) == 0  # a Saturday: closed
