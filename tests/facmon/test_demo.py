"""`facmon demo` end to end: embedded broker, simulators, collector, rules, predictor and API in one process."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from facmon.broker import free_port
from facmon.cli import main
from facmon.demo_users import DEMO_ROLES

pytestmark = pytest.mark.integration


def test_demo_reports_readings_alarms_work_orders_and_forecasts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FACMON_STATE_DIR", str(tmp_path / "state"))  # where the demo records its data dir
    summary_file = tmp_path / "summary.json"
    port = free_port()
    tee = _Tee(sys.stdout)
    monkeypatch.setattr(sys, "stdout", tee)
    checked: dict[str, Any] = {}
    signing_in = threading.Thread(target=_sign_in_as_printed, args=(tee, port, checked), daemon=True)
    signing_in.start()
    exit_code = main(["demo", "--duration", "40", "--port", str(port), "--data-dir", str(tmp_path / "data"),
                      "--summary-json", str(summary_file)])
    assert exit_code == 0
    signing_in.join(5)
    # A credential for every role is printed; those tried sign in to the running demo's API as that role (the
    # technician sees his orders), and a wrong password does not.
    assert checked.get("error") is None, checked.get("error")
    assert checked["printed"] == {role.value for role in DEMO_ROLES}
    assert set(checked["roles"]) == set(TRIED)
    assert all(role in roles for role, roles in checked["roles"].items())
    assert checked["wrong_password"] == 401
    assert checked["technician_orders"] == 200
    summary = json.loads(summary_file.read_text())
    assert summary["readings"] > 1000
    assert summary["alarms"] >= 1
    assert summary["work_orders"] >= 1
    assert summary["forecasts"] >= 1
    # Forecasts with their intervals and a maintenance plan with planned work orders, each task explaining itself
    # (the simulated technicians may have worked every task of the plan already: open or done, it is shown).
    assert any("P10" in forecast["rul"] for forecast in summary["forecasts_preview"])
    assert all(forecast["why"] for forecast in summary["forecasts_preview"])
    assert summary["planned_orders"] >= 1
    assert summary["plan"]
    assert all(task["why"] for task in summary["plan"])
    # Simulated operations alongside: residents' requests and complaints, a round, a plan worked, call-backs.
    for count in ("requests", "complaints", "rounds_completed", "plans_worked", "follow_ups"):
        assert summary[count] > 0, count
    # The only dead letters are the malformed messages the demo injects on purpose.
    assert summary["dead_letters"] == summary["dead_letters_injected"]
    assert summary["dead_letters_injected"] >= 1
    # The demo said where its broker is, and a command run elsewhere finds the demo's dead letters.
    assert "mosquitto_pub -h 127.0.0.1 -p " in capsys.readouterr().out
    monkeypatch.chdir(tmp_path / "state")
    monkeypatch.delenv("FACMON_DATABASE__URL", raising=False)
    assert main(["deadletters", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == summary["dead_letters"]


# Signing in costs an Argon2id hash each: three roles keep the demo's simulated operations on time.
TRIED = ("technician", "resident", "admin")
PASSWORD_LINE = re.compile(r"^console: \S+\s+- sign in as any of these, password (\S+)$", re.MULTILINE)
LOGIN_LINE = re.compile(r"^  ([a-z]+)\s+(\S+)$")


class _Tee(io.StringIO):
    """Keeps what the demo prints (for the sign-in thread) and passes it on (for capsys)."""

    def __init__(self, out: Any) -> None:
        super().__init__()
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text)
        return super().write(text)


def _sign_in_as_printed(tee: _Tee, port: int, checked: dict[str, Any]) -> None:
    try:
        deadline = time.monotonic() + 30
        while "API docs:" not in tee.getvalue():
            assert time.monotonic() < deadline, "the demo printed no sign-in lines"
            time.sleep(0.1)
        printed = tee.getvalue()
        password = PASSWORD_LINE.search(printed).group(1)  # type: ignore[union-attr]
        roles = {role.value for role in DEMO_ROLES}
        logins = [(*match.groups(), password) for line in printed.splitlines()
                  if (match := LOGIN_LINE.match(line)) and match.group(1) in roles]
        checked["printed"] = {role for role, _, _ in logins}
        base = f"http://127.0.0.1:{port}/api/v1"
        signed_in = {}
        for role, user, password in (login for login in logins if login[0] in TRIED):
            with httpx.Client(base_url=base, timeout=10) as browser:
                answer = browser.post("/auth/login", json={"username": user, "password": password})
                assert answer.status_code == 200, answer.text
                signed_in[role] = browser.get("/auth/me").json()["roles"]
                if role == "technician":  # the roster technician's own orders, through the session cookie
                    checked["technician_orders"] = browser.get("/workorders").status_code
        checked["roles"] = signed_in
        checked["wrong_password"] = httpx.post(f"{base}/auth/login", json={"username": "admin", "password": "x" * 12},
                                               timeout=10).status_code
    except Exception as error:  # reported to the test's thread
        checked["error"] = repr(error)
