"""The people of facmon: users with roles, technicians with skills and certificates, shifts.

A ``User`` is anyone who uses facmon (staff, technicians, residents); issue 12 adds sign-in and role
checks on the same record. A ``Technician`` is what a user may work on; a ``Shift`` is when they work
(or, ``on_call``, when they answer emergencies outside the working hours).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class Role(enum.StrEnum):
    VIEWER = "viewer"  # reads everything, changes nothing
    OPERATOR = "operator"  # control room: alarms
    DISPATCHER = "dispatcher"  # service desk: takes requests, dispatches
    TECHNICIAN = "technician"  # works orders and inspection rounds
    PLANNER = "planner"  # maintenance plan
    ADMIN = "admin"  # users, roles, rules, dead letters
    RESIDENT = "resident"  # files requests and complaints, verifies, rates
    SUPERVISOR = "supervisor"  # verifies alarm-born orders, overrides dispatch, receives escalations


class Skill(enum.StrEnum):
    """What a technician is trained for; the kind of work an order needs (``workorders.dispatch``)."""

    ELEVATOR = "elevator"  # also needs the valid elevator certificate (ELEVATOR_CERTIFICATE)
    ELECTRICIAN = "electrician"  # lighting, power
    PLUMBER = "plumber"  # pumps, water
    GENERAL = "general"  # everything else


# The certificate that elevator work needs on the day (in China the special-equipment operator licence).
ELEVATOR_CERTIFICATE = "elevator"


@dataclass(frozen=True, slots=True)
class User:
    id: str  # the login name
    name: str
    roles: frozenset[Role] = frozenset()
    phone: str | None = None
    email: str | None = None
    active: bool = True
    supervisor_id: str | None = None  # who an escalation goes to next
    created_at: datetime | None = None  # set by the records when first stored
    locale: str | None = None  # the preferred language (en, zh-CN); None: the browser's
    sites: frozenset[str] = frozenset()  # a resident's sites (empty for staff)

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class Technician:
    """What a user may work on and where: skills, certificates (code -> expiry date), sites or zone."""

    user_id: str
    skills: frozenset[Skill] = frozenset()
    certificates: dict[str, date] = field(default_factory=dict)  # valid up to and including the date
    sites: frozenset[str] = frozenset()  # empty: every site of the zone
    zone: str | None = None

    def certified(self, code: str, on: date) -> bool:
        """Holds certificate ``code``, still valid on ``on``."""
        expires = self.certificates.get(code)
        return expires is not None and on <= expires

    def covers(self, site_id: str, site_zones: frozenset[str]) -> bool:
        """Works at ``site_id``: named in ``sites``, or (no sites named) the site lies in the zone."""
        if self.sites:
            return site_id in self.sites
        return self.zone is not None and self.zone in site_zones


@dataclass(frozen=True, slots=True)
class Shift:
    """A technician's shift from ``starts_at`` until ``ends_at`` (exclusive); ``on_call`` for a duty."""

    user_id: str
    starts_at: datetime
    ends_at: datetime
    on_call: bool = False
    id: int | None = None  # set by the records

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at
