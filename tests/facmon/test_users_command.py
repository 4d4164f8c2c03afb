"""`facmon users add|list|disable|token` on a real records database, as an administrator uses them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core.clock import WallClock
from facmon.cli import main
from people.access import Permission
from people.accounts import Accounts, SignInRefused
from storage.records import Database
from storage.records.audit import AuditFilter

PASSWORD = "a long enough secret"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    database = Database(url)
    database.upgrade()
    monkeypatch.setenv("FACMON_DATABASE__URL", url)
    return database


def _add(monkeypatch: pytest.MonkeyPatch, *args: str, password: str = PASSWORD) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["users", "add", *args, "--password-stdin"])


def test_add_list_token_disable(db: Database, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    accounts = Accounts(db, WallClock())
    assert _add(monkeypatch, "ann", "--name", "Ann Lee", "--role", "operator", "--role", "viewer") == 0
    assert _add(monkeypatch, "rita", "--role", "resident", "--site", "north") == 0
    assert accounts.sign_in("ann", PASSWORD).user.name == "Ann Lee"
    capsys.readouterr()

    assert main(["users", "list"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ID", "NAME", "ROLES", "ACTIVE", "SITES"]
    assert table[1].split() == ["ann", "Ann", "Lee", "operator,viewer", "yes", "-"]
    assert table[2].split() == ["rita", "rita", "resident", "yes", "north"]

    assert main(["users", "token", "ann", "--name", "export", "--scope", "read", "--days", "30"]) == 0
    token = capsys.readouterr().out.strip()
    principal = accounts.token_principal(token)
    assert principal.user_id == "ann"
    assert principal.permissions == frozenset({Permission.READ})  # the scope, not all of an operator's

    assert main(["users", "disable", "ann"]) == 0
    assert "disabled ann" in capsys.readouterr().out
    with pytest.raises(SignInRefused):
        accounts.token_principal(token)
    with pytest.raises(SignInRefused):
        accounts.sign_in("ann", PASSWORD)
    assert main(["users", "list", "--role", "operator"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-2] == "no"

    entries, _ = db.audit.page(AuditFilter())
    assert [(e.action, e.target_id, e.via) for e in reversed(entries)] == [
        ("user.add", "ann", "cli"), ("user.add", "rita", "cli"), ("token.issue", token.split("_")[1], "cli"),
        ("user.disable", "ann", "cli")]
    assert (entries[0].before or {}).get("active") is True
    assert (entries[0].after or {}).get("active") is False
    assert all("password" not in str(e.after) and token not in str(e.after) for e in entries)


def test_password_prompted_twice_and_must_match(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "add", "bob", "--role", "admin"]) == 2
    assert "passwords differ" in capsys.readouterr().err
    assert db.audit.total(AuditFilter()) == 0

    answers = iter([PASSWORD, PASSWORD])
    assert main(["users", "add", "bob", "--role", "admin"]) == 0
    assert Accounts(db, WallClock()).sign_in("bob", PASSWORD).user.id == "bob"


def test_refusals_say_why(db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _add(monkeypatch, "cy", "--role", "viewer", password="short") == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert _add(monkeypatch, "cy", "--role", "viewer") == 0
    assert _add(monkeypatch, "cy", "--role", "viewer") == 2
    assert "already exists" in capsys.readouterr().err
    # A viewer's token cannot carry a permission the viewer lacks.
    assert main(["users", "token", "cy", "--name", "x", "--scope", "alarms"]) == 2
    assert "scopes beyond" in capsys.readouterr().err
    assert main(["users", "disable", "nobody"]) == 2


def test_without_a_database_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FACMON_STATE_DIR", str(tmp_path / "state"))  # no demo recorded
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FACMON_DATABASE__URL", raising=False)
    assert main(["users", "list"]) == 2
    assert "run `facmon demo` first" in capsys.readouterr().err
    assert not (tmp_path / "facmon.sqlite3").exists()
