"""Rosters: who is on shift or on call at a time, and the roster file expanded into shifts.

Pure: times come in as data. The roster file (YAML, format in docs/workorders.md) names the users, the
technicians, the zones, a weekly shift pattern and an on-call rota, in the local time of ``timezone``;
``expand`` turns it into the shifts of a date range (UTC), ready for ``people.records``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.configfile import load_yaml, read_config_file
from core.errors import ConfigError
from people.model import Role, Shift, Skill, Technician, User

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_ROSTER = Path(__file__).parent / "rosters" / "default.yaml"  # for the simulated portfolio
ROTA_ANCHOR = date(1970, 1, 5)  # a Monday: by default weekly rotas turn on Mondays


def on_shift(shifts: Iterable[Shift], at: datetime) -> set[str]:
    """The users working a (not on-call) shift at ``at``."""
    return {shift.user_id for shift in shifts if not shift.on_call and shift.covers(at)}


def on_call(shifts: Iterable[Shift], at: datetime) -> set[str]:
    """The users on call at ``at``."""
    return {shift.user_id for shift in shifts if shift.on_call and shift.covers(at)}


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserEntry(_File):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = []
    phone: str | None = None
    email: str | None = None
    active: bool = True
    supervisor: str | None = None


class TechnicianEntry(UserEntry):
    skills: list[Skill] = Field(min_length=1)
    certificates: dict[str, date] = {}
    sites: list[str] = []
    zone: str | None = None


class Hours(_File):
    days: list[Day] = Field(min_length=1)
    start: time = Field(alias="from")
    end: time = Field(alias="to")  # at or before ``from``: the next day


class ShiftEntry(Hours):
    technicians: list[str] = Field(min_length=1)


class OnCall(_File):
    rota: list[str] = Field(min_length=1)  # in turn, one at a time
    rotate: Literal["daily", "weekly"] = "weekly"
    starts: date = ROTA_ANCHOR  # the first of the rota takes the turn (day or week) that starts here
    hours: list[Hours] = Field(min_length=1)


class RosterFile(_File):
    timezone: str = "UTC"
    zones: dict[str, list[str]] = {}  # zone -> its sites
    users: list[UserEntry] = []
    technicians: list[TechnicianEntry] = []
    shifts: list[ShiftEntry] = []
    on_call: OnCall | None = None


@dataclass(frozen=True)
class Roster:
    """A roster file, read and checked: users (technicians among them), technicians, the pattern."""

    users: tuple[User, ...]
    technicians: tuple[Technician, ...]
    file: RosterFile
    zone_info: ZoneInfo

    def expand(self, since: date, until: date) -> list[Shift]:
        """The shifts and on-call duties starting on the days from ``since`` up to ``until`` (exclusive)."""
        shifts: list[Shift] = []
        day = since
        while day < until:
            weekday = DAYS[day.weekday()]
            for entry in self.file.shifts:
                if weekday in entry.days:
                    starts, ends = self._window(day, entry)
                    shifts += [Shift(user_id, starts, ends) for user_id in entry.technicians]
            duty = self.file.on_call
            if duty is not None:
                turn = (day - duty.starts).days // (7 if duty.rotate == "weekly" else 1)
                user_id = duty.rota[turn % len(duty.rota)]
                shifts += [Shift(user_id, *self._window(day, hours), on_call=True)
                           for hours in duty.hours if weekday in hours.days]
            day += timedelta(days=1)
        return sorted(shifts, key=lambda shift: (shift.starts_at, shift.user_id))

    def _window(self, day: date, hours: Hours) -> tuple[datetime, datetime]:
        starts = datetime.combine(day, hours.start, self.zone_info)
        end_day = day if hours.end > hours.start else day + timedelta(days=1)
        ends = datetime.combine(end_day, hours.end, self.zone_info)
        return starts.astimezone(UTC), ends.astimezone(UTC)


def parse_roster(data: Any, source: str) -> Roster:
    """The roster in ``data`` (a parsed YAML document); ConfigError naming ``source`` and the field."""
    try:
        file = RosterFile.model_validate(data if data is not None else {})
    except ValidationError as error:
        raise ConfigError(f"{source}: invalid roster: {error}") from None
    try:
        zone_info = ZoneInfo(file.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{source}: unknown timezone {file.timezone!r}") from None
    users = [_user(entry, technician=False) for entry in file.users]
    users += [_user(entry, technician=True) for entry in file.technicians]
    _check_names(file, {user.id for user in users}, source)
    technicians = tuple(_technician(entry, file.zones) for entry in file.technicians)
    return Roster(tuple(users), technicians, file, zone_info)


def load_roster(path: Path | str) -> Roster:
    """Read and check the roster file at ``path`` (ConfigError naming the file)."""
    return parse_roster(load_yaml(read_config_file(path, "roster"), str(path)), str(path))


def _user(entry: UserEntry, technician: bool) -> User:
    roles = frozenset(entry.roles) | ({Role.TECHNICIAN} if technician else set())
    return User(entry.id, entry.name, roles, entry.phone, entry.email, entry.active, entry.supervisor)


def _technician(entry: TechnicianEntry, zones: dict[str, list[str]]) -> Technician:
    # A technician of a zone who names no sites works at every site the roster puts in that zone.
    sites = entry.sites or (zones.get(entry.zone, []) if entry.zone else [])
    return Technician(entry.id, frozenset(entry.skills), dict(entry.certificates), frozenset(sites), entry.zone)


def _check_names(file: RosterFile, user_ids: set[str], source: str) -> None:
    """Every name the roster uses is one of its users, and none is defined twice."""
    defined = [entry.id for entry in [*file.users, *file.technicians]]
    twice = sorted({name for name in defined if defined.count(name) > 1})
    if twice:
        raise ConfigError(f"{source}: defined twice: {', '.join(twice)}")
    technicians = {entry.id for entry in file.technicians}
    used = [(f"shift of {', '.join(e.days)}", name) for e in file.shifts for name in e.technicians]
    used += [("on_call rota", name) for name in (file.on_call.rota if file.on_call else [])]
    for where, name in used:
        if name not in technicians:
            raise ConfigError(f"{source}: {where} names {name!r}, which is not a technician of the roster")
    for entry in [*file.users, *file.technicians]:
        if entry.supervisor is not None and entry.supervisor not in user_ids:
            raise ConfigError(f"{source}: {entry.id}'s supervisor {entry.supervisor!r} is not a user of the roster")
