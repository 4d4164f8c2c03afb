"""Who may do what: the permissions a write (or a read) needs, the roles that grant them, and the signed-in
identity a request acts as.

Routes ask for a permission, never for a role, so the matrix lives here once. Technicians and residents
get narrow permissions whose "own" part (an order assigned to them, a request they filed) is checked by
the route against the record.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from people.model import Role


class Permission(enum.StrEnum):
    READ = "read"  # every staff read: alarms, orders, assets, forecasts, plan, figures
    ALARMS = "alarms"  # acknowledge, comment, shelve, assign alarms; maintenance windows; emergency runs
    ORDERS = "orders"  # the service desk: create, dispatch, transition any order, complaints, notices, rounds
    ORDERS_OWN = "orders:own"  # a technician's own orders and rounds: accept, on site, complete, photos
    PLAN = "plan"  # forecasts' models, re-plan, accept/move/reject plan tasks
    REQUESTS_OWN = "requests:own"  # a resident's own repair requests and complaints: file, follow, rate
    ADMIN = "admin"  # users and tokens, rules, dead letters, settings, the audit log


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.ALARMS}),
    Role.DISPATCHER: frozenset({Permission.READ, Permission.ORDERS, Permission.ORDERS_OWN}),
    Role.SUPERVISOR: frozenset({Permission.READ, Permission.ALARMS, Permission.ORDERS, Permission.ORDERS_OWN}),
    Role.TECHNICIAN: frozenset({Permission.ORDERS_OWN}),
    Role.PLANNER: frozenset({Permission.READ, Permission.PLAN}),
    Role.RESIDENT: frozenset({Permission.REQUESTS_OWN}),
    Role.ADMIN: frozenset(Permission),  # admins may do everything, and answer for it in the audit log
}


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: frozenset[Permission] = frozenset()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return granted


@dataclass(frozen=True, slots=True)
class Principal:
    """The identity a request acts as: a signed-in user (browser session or OIDC), or a personal API token
    (whose scopes narrow the user's permissions), or the local operator of an unauthenticated loopback
    server. ``user_id`` is what every record and the audit log name as the actor."""

    user_id: str
    name: str
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    via: str  # session | oidc | token | local | cli | public
    sites: frozenset[str] = frozenset()  # a resident's sites (empty for staff)
    locale: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
