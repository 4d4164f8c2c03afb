"""`facmon users add|list|disable|enable|password|token`: the people who sign in, from the command line."""

from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facmon.commands import Commands

if TYPE_CHECKING:
    from people.accounts import Accounts
    from people.model import User
    from storage.records import Database

ROLES = ["viewer", "operator", "dispatcher", "supervisor", "technician", "planner", "resident", "admin"]
PASSWORD_ENV = "FACMON_PASSWORD"  # read instead of prompting (scripts, containers)


def register(commands: Commands) -> None:
    users = commands.add_parser("users", help="users, roles, passwords and API tokens").add_subparsers(
        required=True, metavar="ACTION")
    add = users.add_parser("add", help=f"add a user; asks for the password (or reads ${PASSWORD_ENV})")
    add.add_argument("user_id", help="the login name")
    add.add_argument("--name", default=None, help="the full name (default: the login name)")
    add.add_argument("--role", dest="roles", action="append", required=True, choices=ROLES,
                     help="a role (repeat)")
    add.add_argument("--site", dest="sites", action="append", default=[], help="a resident's site (repeat)")
    add.add_argument("--no-password", action="store_true", help="signs in by single sign-on or tokens only")
    listing = users.add_parser("list", help="list users (one JSON object per line)")
    for name, text in (("disable", "disable a user: ends their sessions, revokes their tokens"),
                       ("enable", "enable a disabled user"), ("password", "set a user's password")):
        action = users.add_parser(name, help=text)
        action.add_argument("user_id")
        action.set_defaults(run=_with_accounts(_ACTIONS[name]))
    token = users.add_parser("token", help="issue a personal API token for a user (printed once)")
    token.add_argument("user_id")
    token.add_argument("--name", default="cli", help="what the token is for")
    token.add_argument("--scope", dest="scopes", action="append", default=None,
                       help="a permission it may use (repeat; default: all of the user's)")
    token.add_argument("--days", type=int, default=90, help="days until it expires")
    add.set_defaults(run=_with_accounts(_add, creates=True))
    listing.set_defaults(run=_with_accounts(_list))
    token.set_defaults(run=_with_accounts(_token))
    for parser in (add, listing, token, *(users.choices[n] for n in _ACTIONS)):
        parser.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")


def _with_accounts(action: Callable[..., int], creates: bool = False) -> Callable[[argparse.Namespace], int]:
    """Run ``action`` on the records of the configuration, or the last demo's; ``creates``: a fresh install
    (its first admin) may start the database."""

    def run(args: argparse.Namespace) -> int:
        from core.clock import WallClock
        from core.errors import ConfigError
        from core.settings import load_settings
        from facmon.workspace import command_settings
        from people.accounts import Accounts, policy_of
        from storage.records import Database

        try:
            settings = command_settings(args.config)
        except ConfigError:
            if not creates:
                raise
            settings = load_settings(args.config)
        db = Database(settings.database.url)
        try:
            db.upgrade()
            accounts = Accounts(db, WallClock(), policy_of(settings.auth))
            return action(args, accounts, _auditor(db, accounts))
        finally:
            db.dispose()

    return run


# (action, target id, before, after): one audit-log entry per change.
Audit = Callable[[str, str, "dict[str, Any] | None", "dict[str, Any] | None"], None]


def _auditor(db: Database, accounts: Accounts) -> Audit:
    """Records a CLI change in the audit log: the operating-system user as the actor, via "cli"."""
    from storage.records.audit import AuditEntry

    def record(action: str, target_id: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        db.audit.append(AuditEntry(at=accounts.clock.now(), actor=getpass.getuser(), via="cli", action=action,
                                   target_type=action.split(".")[0], target_id=target_id, before=before,
                                   after=after))

    return record


def _public(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "roles": sorted(user.roles), "active": user.active,
            "sites": sorted(user.sites)}


def _password(prompt: str) -> str:
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV]
    first = getpass.getpass(prompt)
    if getpass.getpass("again: ") != first:
        from core.errors import InvalidRequest

        raise InvalidRequest("the passwords differ")
    return first


def _add(args: argparse.Namespace, accounts: Accounts, audit: Audit) -> int:
    from people.model import Role, User

    user = User(args.user_id, args.name or args.user_id, frozenset(Role(role) for role in args.roles),
                sites=frozenset(args.sites))
    password = None if args.no_password else _password(f"password for {args.user_id}: ")
    audit("user.add", user.id, None, _public(accounts.add_user(user, password)))
    print(f"added {user.id} ({', '.join(sorted(user.roles))})")
    return 0


def _list(_: argparse.Namespace, accounts: Accounts, __: Audit) -> int:
    for user in accounts.users.list():
        print(json.dumps({"id": user.id, "name": user.name, "roles": sorted(user.roles), "active": user.active,
                          "sites": sorted(user.sites)}))
    return 0


def _set_active(active: bool) -> Callable[..., int]:
    def run(args: argparse.Namespace, accounts: Accounts, audit: Audit) -> int:
        before = _public(accounts.users.get(args.user_id))
        audit("user.enable" if active else "user.disable", args.user_id, before,
              _public(accounts.set_active(args.user_id, active)))
        print(f"{args.user_id} {'enabled' if active else 'disabled'}")
        return 0

    return run


def _set_password(args: argparse.Namespace, accounts: Accounts, audit: Audit) -> int:
    accounts.set_password(args.user_id, _password(f"new password for {args.user_id}: "))
    audit("user.password", args.user_id, None, None)  # that it changed, never what to
    print(f"password of {args.user_id} set; their sessions ended")
    return 0


def _token(args: argparse.Namespace, accounts: Accounts, audit: Audit) -> int:
    expires = datetime.now(UTC) + timedelta(days=args.days)
    token, info = accounts.issue_token(args.user_id, args.name,
                                       None if args.scopes is None else frozenset(args.scopes), expires)
    audit("token.issue", info.id, None, {"user_id": info.user_id, "name": info.name, "scopes": sorted(info.scopes),
                                         "expires_at": expires.isoformat()})
    print(token)
    print(f"token {info.id} for {info.user_id}: scopes {', '.join(sorted(info.scopes))}; expires "
          f"{expires:%Y-%m-%d}; send as 'Authorization: Bearer <token>'")
    return 0


_ACTIONS: dict[str, Callable[..., int]] = {"disable": _set_active(False), "enable": _set_active(True),
                                           "password": _set_password}
