"""The people repositories (users, technicians, shifts) on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from core.errors import InvalidRequest, NotFound
from people.model import Role, Shift, Skill, Technician, User
from people.records import PeopleRecords
from people.roster import parse_roster
from storage.records import Database
from tests.records import BACKENDS, fresh_database

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(request, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def people(db: Database) -> PeopleRecords:
    return PeopleRecords(db)


def add_technician(people: PeopleRecords, user_id: str = "tom", active: bool = True) -> Technician:
    people.users.upsert(User(user_id, user_id.title(), frozenset({Role.TECHNICIAN}), active=active), T0)
    return people.technicians.upsert(Technician(user_id, frozenset({Skill.ELEVATOR, Skill.GENERAL}),
                                                {"elevator": date(2027, 6, 30)}, frozenset({"north"}), "east"))


def test_user_round_trips_and_upsert_keeps_creation_time(people: PeopleRecords) -> None:
    user = User("ann", "Ann Lee", frozenset({Role.SUPERVISOR, Role.DISPATCHER}), "+86 10 1234", "ann@example.org",
                supervisor_id="boss")
    assert people.users.upsert(user, T0) == User(**{**_fields(user), "created_at": T0})
    renamed = people.users.upsert(User("ann", "Ann Lee-Wong", frozenset({Role.SUPERVISOR})), T0 + timedelta(days=1))
    assert (renamed.name, renamed.roles, renamed.created_at) == ("Ann Lee-Wong", {Role.SUPERVISOR}, T0)
    assert people.users.get("ann") == renamed


def test_users_list_by_role_and_activity(people: PeopleRecords) -> None:
    people.users.upsert(User("b", "B", frozenset({Role.TECHNICIAN})), T0)
    people.users.upsert(User("a", "A", frozenset({Role.SUPERVISOR})), T0)
    people.users.upsert(User("c", "C", frozenset({Role.TECHNICIAN}), active=False), T0)
    assert [u.id for u in people.users.list()] == ["a", "b", "c"]
    assert [u.id for u in people.users.list(role=Role.TECHNICIAN, active_only=True)] == ["b"]
    assert people.users.find("nobody") is None
    with pytest.raises(NotFound, match="user nobody not found"):
        people.users.get("nobody")


def test_technician_round_trips_with_certificate_dates(people: PeopleRecords) -> None:
    tech = add_technician(people)
    assert people.technicians.find("tom") == tech
    assert tech.certificates == {"elevator": date(2027, 6, 30)}
    changed = people.technicians.upsert(Technician("tom", frozenset({Skill.PLUMBER}), {}, frozenset(), "west"))
    assert people.technicians.find("tom") == changed
    assert people.technicians.list() == [changed]


def test_technician_needs_a_user(people: PeopleRecords) -> None:
    with pytest.raises(NotFound, match="user ghost not found"):
        people.technicians.upsert(Technician("ghost", frozenset({Skill.GENERAL})))


def test_inactive_technicians_are_left_out_by_default(people: PeopleRecords) -> None:
    add_technician(people, "tom")
    add_technician(people, "old", active=False)
    assert [t.user_id for t in people.technicians.list()] == ["tom"]
    assert [t.user_id for t in people.technicians.list(active_only=False)] == ["old", "tom"]


def test_shifts_between_returns_those_overlapping_the_window(people: PeopleRecords) -> None:
    add_technician(people)
    day = people.shifts.add(Shift("tom", T0, T0 + timedelta(hours=9)))
    night = people.shifts.add(Shift("tom", T0 + timedelta(hours=9), T0 + timedelta(hours=24), on_call=True))
    assert None not in (day.id, night.id)
    assert people.shifts.between(T0 + timedelta(hours=8), T0 + timedelta(hours=8)) == [day]
    assert people.shifts.between(T0 + timedelta(hours=9), T0 + timedelta(hours=9)) == [night]
    assert people.shifts.between(T0 - timedelta(days=1), T0 + timedelta(days=2)) == [day, night]
    assert people.shifts.between(T0 + timedelta(days=1), T0 + timedelta(days=2)) == []
    assert people.shifts.between(T0, T0 + timedelta(days=1), user_id="ann") == []


def test_shift_must_end_after_it_starts_and_name_a_user(people: PeopleRecords) -> None:
    add_technician(people)
    with pytest.raises(InvalidRequest, match="end after it starts"):
        people.shifts.add(Shift("tom", T0, T0))
    with pytest.raises(NotFound, match="ghost"):
        people.shifts.add(Shift("ghost", T0, T0 + timedelta(hours=1)))


ROSTER = """
timezone: UTC
zones: {east: [north, south]}
users:
  - {id: sue, name: Sue, roles: [supervisor]}
technicians:
  - {id: tom, name: Tom, skills: [plumber], zone: east, supervisor: sue}
shifts:
  - {days: [mon, tue, wed, thu, fri], from: "08:00", to: "17:00", technicians: [tom]}
"""


def test_installing_a_roster_twice_stores_each_shift_once(people: PeopleRecords) -> None:
    roster = parse_roster(yaml.safe_load(ROSTER), "roster.yaml")
    monday = date(2026, 11, 30)
    for _ in range(2):
        people.install(roster, monday, monday + timedelta(days=7), T0)
    shifts = people.shifts.between(T0, T0 + timedelta(days=14))
    assert len(shifts) == 5
    assert people.technicians.find("tom") == Technician("tom", frozenset({Skill.PLUMBER}), {},
                                                         frozenset({"north", "south"}), "east")
    assert people.users.get("tom").supervisor_id == "sue"


def _fields(user: User) -> dict[str, object]:
    return {name: getattr(user, name) for name in User.__slots__}
