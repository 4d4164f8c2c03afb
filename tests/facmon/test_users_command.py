"""`facmon users`: add, list, token, disable, against a real SQLite records database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.clock import WallClock
from facmon.cli import main
from people.accounts import Accounts, SignInRefused
from storage.records import Database
from storage.records.audit import AuditFilter


def test_add_list_token_disable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    monkeypatch.setenv("FACMON_DATABASE__URL", url)
    monkeypatch.setenv("FACMON_PASSWORD", "a long password")
    assert main(["users", "add", "ada", "--role", "operator", "--name", "Ada"]) == 0
    assert main(["users", "list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert listed == [{"id": "ada", "name": "Ada", "roles": ["operator"], "active": True, "sites": []}]
    assert main(["users", "token", "ada", "--scope", "read", "--days", "3"]) == 0
    token = capsys.readouterr().out.splitlines()[0]
    db = Database(url)
    accounts = Accounts(db, WallClock())
    assert accounts.token_principal(token).permissions == {"read"}  # narrowed to its scope
    assert accounts.sign_in("ada", "a long password").user.id == "ada"
    assert main(["users", "disable", "ada"]) == 0
    # A server that verified the token moments ago believes it for TOKEN_CACHE (test_accounts.py shows it
    # refused after that); one that reads it now refuses it at once.
    accounts = Accounts(db, WallClock())
    with pytest.raises(SignInRefused):
        accounts.token_principal(token)
    with pytest.raises(SignInRefused):
        accounts.sign_in("ada", "a long password")
    assert main(["users", "add", "ada", "--role", "viewer"]) == 2  # taken: a FacmonError, exit 2
    # Every change is in the audit log, by the CLI, with the record before and after; never a secret.
    entries, _ = db.audit.page(AuditFilter())
    assert [(e.action, e.target_id, e.via) for e in reversed(entries)] == [
        ("user.add", "ada", "cli"), ("token.issue", token.split("_")[1], "cli"), ("user.disable", "ada", "cli")]
    assert (entries[0].before or {}).get("active") is True
    assert (entries[0].after or {}).get("active") is False
    assert all("a long password" not in str(e.after) and token not in str(e.after) for e in entries)
    db.dispose()
