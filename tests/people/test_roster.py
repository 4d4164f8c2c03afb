"""Rosters: on shift and on call at a time, and the roster file expanded into shifts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.errors import ConfigError
from people.model import Role, Shift, Skill
from people.roster import DEFAULT_ROSTER, load_roster, on_call, on_shift, parse_roster

ROSTER = """
timezone: Europe/Berlin
zones:
  east: [riverside, harbour]
users:
  - {id: sue, name: Sue Supervisor, roles: [supervisor, dispatcher], phone: "+49 30 1"}
technicians:
  - id: tom
    name: Tom Lift
    skills: [elevator, general]
    certificates: {elevator: 2027-06-30}
    zone: east
    supervisor: sue
  - {id: pia, name: Pia Pipes, skills: [plumber], sites: [harbour]}
shifts:
  - {days: [mon, tue, wed, thu, fri], from: "08:00", to: "17:00", technicians: [tom, pia]}
on_call:
  rota: [tom, pia]
  rotate: weekly
  starts: 2026-03-23
  hours:
    - {days: [mon, tue, wed, thu, fri], from: "17:00", to: "08:00"}
    - {days: [sat, sun], from: "08:00", to: "08:00"}
"""
MONDAY = date(2026, 3, 23)  # the week before Berlin moves to summer time (Sunday 29 March)


def roster_of(text: str = ROSTER, **changes: Any) -> Any:
    return parse_roster({**yaml.safe_load(text), **changes}, "roster.yaml")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_roster_gives_users_technicians_and_zone_sites() -> None:
    roster = roster_of()
    users = {user.id: user for user in roster.users}
    assert users["sue"].roles == {Role.SUPERVISOR, Role.DISPATCHER}
    assert users["tom"].roles == {Role.TECHNICIAN}
    assert users["tom"].supervisor_id == "sue"
    tom, pia = roster.technicians
    assert tom.skills == {Skill.ELEVATOR, Skill.GENERAL}
    assert tom.certificates == {"elevator": date(2027, 6, 30)}
    assert tom.sites == {"riverside", "harbour"}  # no sites named: the zone's
    assert pia.sites == {"harbour"}


def test_weekday_shifts_are_local_time_in_utc() -> None:
    shifts = roster_of().expand(MONDAY, MONDAY + timedelta(days=1))
    day_shifts = [s for s in shifts if not s.on_call]
    assert day_shifts == [Shift("pia", utc(2026, 3, 23, 7), utc(2026, 3, 23, 16)),
                          Shift("tom", utc(2026, 3, 23, 7), utc(2026, 3, 23, 16))]


def test_on_call_runs_overnight_and_follows_summer_time() -> None:
    shifts = roster_of().expand(MONDAY, MONDAY + timedelta(days=7))
    duties = [s for s in shifts if s.on_call]
    assert len(duties) == 7
    assert duties[0] == Shift("tom", utc(2026, 3, 23, 16), utc(2026, 3, 24, 7), on_call=True)
    # Saturday 08:00 CET is 07:00 UTC; summer time starts that night, Sunday 08:00 CEST is 06:00 UTC.
    assert duties[-2] == Shift("tom", utc(2026, 3, 28, 7), utc(2026, 3, 29, 6), on_call=True)
    assert duties[-1] == Shift("tom", utc(2026, 3, 29, 6), utc(2026, 3, 30, 6), on_call=True)


def test_weekly_rota_hands_over_on_monday() -> None:
    shifts = roster_of().expand(MONDAY, MONDAY + timedelta(days=14))
    by_week = [{s.user_id for s in shifts if s.on_call and (s.starts_at.date() - MONDAY).days // 7 == week}
               for week in (0, 1)]
    assert by_week == [{"tom"}, {"pia"}]


def test_daily_rota_turns_every_day() -> None:
    roster = roster_of(on_call={"rota": ["tom", "pia"], "rotate": "daily",
                                "hours": [{"days": ["mon", "tue"], "from": "17:00", "to": "08:00"}]})
    duties = [s.user_id for s in roster.expand(MONDAY, MONDAY + timedelta(days=2)) if s.on_call]
    assert duties == ["pia", "tom"]  # 1970-01-05 began with tom; 2026-03-23 is an odd number of days on


def test_who_is_on_shift_or_on_call_at_a_time() -> None:
    shifts = roster_of().expand(MONDAY, MONDAY + timedelta(days=2))
    assert on_shift(shifts, utc(2026, 3, 23, 10)) == {"tom", "pia"}
    assert on_call(shifts, utc(2026, 3, 23, 10)) == set()
    assert on_shift(shifts, utc(2026, 3, 23, 16)) == set()  # the shift ends at 17:00 local, exclusive
    assert on_call(shifts, utc(2026, 3, 23, 16)) == {"tom"}


@pytest.mark.parametrize(("changes", "message"), [
    ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
    ({"shifts": [{"days": ["mon"], "from": "08:00", "to": "17:00", "technicians": ["sue"]}]},
     "shift of mon names 'sue', which is not a technician"),
    ({"on_call": {"rota": ["zed"], "hours": [{"days": ["sat"], "from": "08:00", "to": "08:00"}]}},
     "on_call rota names 'zed'"),
    ({"users": [{"id": "tom", "name": "Tom again"}]}, "defined twice: tom"),
    ({"users": [{"id": "x", "name": "X", "supervisor": "nobody"}]}, "supervisor 'nobody'"),
    ({"technicians": [{"id": "x", "name": "X", "skills": ["juggling"]}]}, "invalid roster"),
    ({"shift": []}, "invalid roster"),
])
def test_roster_mistakes_name_the_file_and_the_fault(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"roster\.yaml") as caught:
        roster_of(**changes)
    assert message in str(caught.value)


def test_load_roster_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(ROSTER, encoding="utf-8")
    assert [t.user_id for t in load_roster(path).technicians] == ["tom", "pia"]
    with pytest.raises(ConfigError, match="cannot read roster"):
        load_roster(tmp_path / "missing.yaml")


def test_default_roster_covers_every_site_of_the_simulated_portfolio_on_weekdays() -> None:
    roster = load_roster(DEFAULT_ROSTER)
    assert {site for tech in roster.technicians for site in tech.sites} == {"riverside", "harbour"}
    shifts = roster.expand(MONDAY, MONDAY + timedelta(days=7))
    tuesday_noon = utc(2026, 3, 24, 4)  # 12:00 in Shanghai
    assert on_shift(shifts, tuesday_noon) == {"tom", "ming", "pia", "eli"}
    assert len(on_call(shifts, utc(2026, 3, 28, 20))) == 1  # Saturday night: one on call
