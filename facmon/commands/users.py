"""`facmon users add|list|disable|token`: accounts from the command line (the first admin, scripts' tokens).

Every change is recorded in the audit log with ``via = "cli"`` and the operating-system user as the actor.
Commands find the demo's records when no --config is given (``facmon.workspace.command_settings``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import InvalidRequest
from facmon.commands import Commands
from people.access import Permission
from people.model import Role

if TYPE_CHECKING:
    from people.accounts import Accounts
    from people.model import User
    from storage.records import Database


def register(commands: Commands) -> None:
    users = commands.add_parser("users", help="user accounts: add, list, disable, API tokens").add_subparsers(
        required=True, metavar="ACTION")
    add = users.add_parser("add", help="add a user with roles and a password (asked for unless given)")
    add.add_argument("user_id", help="the login name")
    add.add_argument("--name", default=None, help="full name (default: the login name)")
    add.add_argument("--role", dest="roles", action="append", required=True, choices=[r.value for r in Role],
                     help="a role (repeat for several)")
    add.add_argument("--site", dest="sites", action="append", default=[], help="a resident's site (repeat)")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    how.add_argument("--no-password", action="store_true", help="no password: the user signs in by single sign-on")
    add.set_defaults(run=run_add)

    listing = users.add_parser("list", help="users as a table")
    listing.add_argument("--role", default=None, choices=[r.value for r in Role], help="only users with this role")
    listing.set_defaults(run=run_list)

    disable = users.add_parser("disable", help="disable a user: their sessions end and their tokens are revoked")
    disable.add_argument("user_id")
    disable.set_defaults(run=run_disable)

    token = users.add_parser("token", help="issue a personal API token (printed once)")
    token.add_argument("user_id")
    token.add_argument("--name", required=True, help="what the token is for, e.g. 'bms-export'")
    token.add_argument("--scope", dest="scopes", action="append", default=None,
                       choices=[p.value for p in Permission],
                       help="a permission the token carries (repeat; default: all of the user's)")
    token.add_argument("--days", type=int, default=90, help="expires after this many days (default 90)")
    token.set_defaults(run=run_token)

    for parser in (add, listing, disable, token):
        parser.add_argument("--config", type=Path, default=None, help="TOML settings file (as for facmon serve)")


def run_add(args: argparse.Namespace) -> int:
    from people.model import User

    password = None if args.no_password else _password(args.password_stdin)
    user = User(args.user_id, args.name or args.user_id, frozenset(Role(role) for role in args.roles),
                sites=frozenset(args.sites))
    with _accounts(args.config) as (db, accounts):
        stored = accounts.add_user(user, password)
        _audit(db, accounts, "user.add", stored.id, None, _public(stored))
    print(f"added {stored.id} ({', '.join(sorted(stored.roles))})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with _accounts(args.config) as (_, accounts):
        users = accounts.users.list(Role(args.role) if args.role else None)
    rows = [("ID", "NAME", "ROLES", "ACTIVE", "SITES")]
    rows += [(u.id, u.name, ",".join(sorted(u.roles)), "yes" if u.active else "no", ",".join(sorted(u.sites)) or "-")
             for u in users]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def run_disable(args: argparse.Namespace) -> int:
    with _accounts(args.config) as (db, accounts):
        before = accounts.users.get(args.user_id)
        after = accounts.set_active(args.user_id, False)
        _audit(db, accounts, "user.disable", after.id, _public(before), _public(after))
    print(f"disabled {args.user_id}: sessions ended, tokens revoked")
    return 0


def run_token(args: argparse.Namespace) -> int:
    if not args.days >= 1:
        raise InvalidRequest("--days must be at least 1")
    with _accounts(args.config) as (db, accounts):
        scopes = None if args.scopes is None else frozenset(args.scopes)
        expires = accounts.clock.now() + timedelta(days=args.days)
        token, info = accounts.issue_token(args.user_id, args.name, scopes, expires)
        _audit(db, accounts, "token.issue", info.id, None,
               {"user_id": info.user_id, "name": info.name, "scopes": sorted(info.scopes),
                "expires_at": expires.isoformat()})
    print(f"token {info.id} for {info.user_id} ({', '.join(sorted(info.scopes))}), expires "
          f"{expires:%Y-%m-%d %H:%M} UTC; shown once:", file=sys.stderr)
    print(token)
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise InvalidRequest("the passwords differ")
    return password


@contextmanager
def _accounts(config: Path | None) -> Iterator[tuple[Database, Accounts]]:
    """The records of the configured (or the demo's) database, and its accounts on wall time."""
    from core.clock import WallClock
    from facmon.workspace import command_settings
    from people.accounts import Accounts, policy_of
    from storage.records import Database

    settings = command_settings(config)
    db = Database(settings.database.url)
    try:
        yield db, Accounts(db, WallClock(), policy_of(settings.auth))
    finally:
        db.dispose()


def _public(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "roles": sorted(user.roles), "active": user.active,
            "sites": sorted(user.sites)}


def _audit(db: Database, accounts: Accounts, action: str, target_id: str, before: dict[str, Any] | None,
           after: dict[str, Any] | None) -> None:
    from storage.records.audit import AuditEntry

    db.audit.append(AuditEntry(at=accounts.clock.now(), actor=getpass.getuser(), via="cli", action=action,
                               target_type=action.split(".")[0], target_id=target_id, before=before, after=after))
