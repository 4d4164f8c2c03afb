"""Business time: working hours per weekday in a site's time zone, minus public holidays; and the clock
that never stops, for emergencies.

Pure: every answer follows from the calendar and the times given. Working hours are local wall-clock
times, so a day on which the clocks change is one hour shorter or longer in real time; the moment an
SLA ends is always an aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
_ZERO = timedelta(0)

Span = tuple[int, int]  # working time within a day: (start, end) in minutes after local midnight, end <= 1440


class Calendar(Protocol):
    """What an SLA clock runs on."""

    @property
    def day_length(self) -> timedelta:
        """The length of one working day, for targets given in working days."""
        ...

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment at which ``duration`` of working time has elapsed since ``start``."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The working time between ``start`` and ``end`` (zero if ``end`` is not after ``start``)."""
        ...


class AroundTheClock:
    """Every moment counts: emergencies."""

    @property
    def day_length(self) -> timedelta:
        return timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return (start + max(duration, _ZERO)).astimezone(UTC)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, _ZERO)


AROUND_THE_CLOCK = AroundTheClock()


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working hours per weekday (Monday first; several spans allow a lunch break), in ``time_zone`` (an
    IANA name such as "Asia/Shanghai"), closed on ``holidays`` (local dates)."""

    time_zone: str
    hours: tuple[tuple[Span, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.time_zone!r}") from None
        if len(self.hours) != 7:
            raise ValueError("hours must give the spans of each of the 7 weekdays")
        for weekday, spans in zip(WEEKDAYS, self.hours, strict=True):
            previous_end = 0
            for start, end in spans:
                if not previous_end <= start < end <= DAY_MINUTES:
                    raise ValueError(f"{weekday}: working spans must be ordered, not overlap and lie within "
                                     f"00:00-24:00")
                previous_end = end
        if not any(self.hours):
            raise ValueError("a business calendar needs working hours on at least one weekday")

    @property
    def day_length(self) -> timedelta:
        """The longest working day of the week (a target of "2 working days" is twice this)."""
        return _longest_day(self.hours)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        remaining = max(duration, _ZERO)
        if not remaining:
            return start.astimezone(UTC)
        for begin, end in self.intervals(start):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: working intervals never run out")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        total = _ZERO
        if end <= start:
            return total
        for begin, finish in self.intervals(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total

    def intervals(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals (UTC, ordered, disjoint, endless) from ``since`` on; the first one is cut
        at ``since``."""
        zone = ZoneInfo(self.time_zone)
        day = since.astimezone(zone).date() - timedelta(days=1)  # an interval of yesterday may still run
        floor = since.astimezone(UTC)
        while True:
            for begin, end in self._day(day, zone):
                # A span that lies in a spring-forward gap maps to a stretch of UTC that may run backwards
                # or overlap its neighbour: clipping at the running floor keeps the intervals ordered.
                begin = max(begin, floor)
                if end > begin:
                    yield begin, end
                    floor = end
            day += timedelta(days=1)

    def _day(self, day: date, zone: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
        return _working_spans(self.hours[day.weekday()], day in self.holidays, day, zone)


@lru_cache(maxsize=64)
def _longest_day(hours: tuple[tuple[Span, ...], ...]) -> timedelta:
    return timedelta(minutes=max(sum(end - start for start, end in spans) for spans in hours))


@lru_cache(maxsize=65_536)
def _working_spans(spans: tuple[Span, ...], holiday: bool, day: date,
                   zone: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
    """A day's working spans in UTC; cached, as the monthly figures run thousands of clocks over the same days."""
    if holiday:
        return ()
    midnight = datetime.combine(day, time.min, tzinfo=zone)
    # Aware arithmetic with the same tzinfo is wall-clock arithmetic: 08:30 stays 08:30 on a DST day.
    return tuple(((midnight + timedelta(minutes=start)).astimezone(UTC),
                  (midnight + timedelta(minutes=end)).astimezone(UTC)) for start, end in spans)
