"""Business time: working hours, weekends, holidays, midnight and DST changes; the always-on clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workorders.calendar import AROUND_THE_CLOCK, BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
DAY = ((510, 1050),)  # 08:30-17:30
OFFICE = BusinessCalendar("Asia/Shanghai", (DAY,) * 5 + ((), ()), frozenset({date(2026, 10, 5)}))
# Berlin, with spans that cross the 02:00-03:00 hour the clocks skip in March and repeat in October.
NIGHTS = BusinessCalendar("Europe/Berlin", (((0, 150), (165, 200), (540, 1020)),) * 6 + (((0, 1440),),))
GAPS = BusinessCalendar("Europe/Berlin", (((0, 150), (165, 200), (540, 1020)),) * 7)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_time_within_one_working_day_adds_plainly() -> None:
    start = local(SHANGHAI, 2026, 9, 28, 9, 0)  # a Monday
    assert OFFICE.add(start, timedelta(hours=2)) == local(SHANGHAI, 2026, 9, 28, 11, 0)


def test_time_past_closing_continues_next_morning() -> None:
    start = local(SHANGHAI, 2026, 9, 28, 17, 0)
    assert OFFICE.add(start, timedelta(hours=1)) == local(SHANGHAI, 2026, 9, 29, 9, 0)


def test_weekend_and_holiday_do_not_count() -> None:
    friday_evening = local(SHANGHAI, 2026, 10, 2, 17, 0)  # Monday 5 October is a holiday
    assert OFFICE.add(friday_evening, timedelta(hours=1)) == local(SHANGHAI, 2026, 10, 6, 9, 0)
    assert OFFICE.elapsed(friday_evening, local(SHANGHAI, 2026, 10, 6, 9, 0)) == timedelta(hours=1)


def test_start_outside_hours_counts_from_opening() -> None:
    saturday = local(SHANGHAI, 2026, 9, 26, 11, 0)
    assert OFFICE.add(saturday, timedelta(minutes=30)) == local(SHANGHAI, 2026, 9, 28, 9, 0)
    assert OFFICE.elapsed(saturday, local(SHANGHAI, 2026, 9, 28, 8, 30)) == timedelta(0)


def test_result_is_utc_and_the_day_length_is_the_longest_day() -> None:
    assert OFFICE.add(local(SHANGHAI, 2026, 9, 28, 9, 0), timedelta(hours=1)).tzinfo is UTC
    assert OFFICE.day_length == timedelta(hours=9)


def test_a_whole_sunday_is_23_hours_when_clocks_spring_forward_and_25_when_they_fall_back() -> None:
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)  # Sundays: Berlin changes at 02:00
    for day, hours in ((spring, 23), (autumn, 25)):
        start = local(BERLIN, day.year, day.month, day.day, 0, 0)
        end = local(BERLIN, day.year, day.month, day.day + 1, 0, 0)
        assert NIGHTS.elapsed(start, end) == timedelta(hours=hours)


def test_a_span_that_ends_in_the_skipped_hour_ends_as_the_old_offset_reads_it() -> None:
    # 02:00-03:00 does not exist on 29 March: "00:00-02:30" ends at 02:30 CET = 03:30 CEST (PEP 495, fold 0),
    # and "02:45-03:20" lies within what was already counted, so it counts no second time.
    sunday = local(BERLIN, 2026, 3, 29, 0, 0)
    assert GAPS.elapsed(sunday, local(BERLIN, 2026, 3, 29, 4, 0)) == timedelta(hours=2, minutes=30)
    assert GAPS.elapsed(sunday, local(BERLIN, 2026, 3, 29, 3, 5)) == timedelta(hours=2, minutes=5)


def test_working_hours_stay_local_across_a_dst_change() -> None:
    before = local(BERLIN, 2026, 3, 28, 16, 0)  # Saturday 16:00 CET; Sunday is worked whole
    after = NIGHTS.add(before, timedelta(hours=1 + 23 + 1))  # rest of Saturday, Sunday (23 h), Monday 00:00-01:00
    assert after == local(BERLIN, 2026, 3, 30, 1, 0)
    assert after.astimezone(BERLIN).utcoffset() == timedelta(hours=2)


def test_always_on_counts_every_moment_across_midnight() -> None:
    start = datetime(2026, 9, 28, 23, 50, tzinfo=UTC)
    assert AROUND_THE_CLOCK.add(start, timedelta(minutes=30)) == datetime(2026, 9, 29, 0, 20, tzinfo=UTC)
    assert AROUND_THE_CLOCK.elapsed(start, start - timedelta(hours=1)) == timedelta(0)


@pytest.mark.parametrize(("hours", "message"), [
    ((DAY,) * 6, "7 weekdays"),
    (((), ) * 7, "at least one weekday"),
    ((((600, 700), (650, 800)),) * 7, "overlap"),
])
def test_invalid_calendars_are_refused(hours: tuple, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        BusinessCalendar("Asia/Shanghai", hours)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        BusinessCalendar("Mars/Olympus", (DAY,) * 7)


# --- properties --------------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),  # noqa: DTZ001
                       timezones=st.just(UTC))
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
calendars = st.sampled_from([OFFICE, NIGHTS, GAPS])


@settings(max_examples=300, deadline=None)
@given(calendars, moments, durations)
def test_elapsed_after_add_gives_the_duration_back(calendar: BusinessCalendar, start: datetime,
                                                   duration: timedelta) -> None:
    assert calendar.elapsed(start, calendar.add(start, duration)) == duration


@settings(max_examples=200, deadline=None)
@given(calendars, moments, durations, durations)
def test_add_is_monotonic_in_the_duration(calendar: BusinessCalendar, start: datetime, a: timedelta,
                                          b: timedelta) -> None:
    shorter, longer = sorted((a, b))
    assert calendar.add(start, shorter) <= calendar.add(start, longer)


@settings(max_examples=200, deadline=None)
@given(calendars, moments, moments, durations)
def test_add_is_monotonic_in_the_start(calendar: BusinessCalendar, a: datetime, b: datetime,
                                       duration: timedelta) -> None:
    earlier, later = sorted((a, b))
    assert calendar.add(earlier, duration) <= calendar.add(later, duration)


@settings(max_examples=200, deadline=None)
@given(calendars, moments, moments, moments)
def test_elapsed_adds_up_over_a_split(calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    first, middle, last = sorted((a, b, c))
    assert calendar.elapsed(first, last) == calendar.elapsed(first, middle) + calendar.elapsed(middle, last)
    assert calendar.elapsed(first, last) <= last - first
