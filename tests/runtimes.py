"""Settings of a whole runtime for the end-to-end tests: a real Mosquitto, SQLite files in the test's
folder, and the API on loopback as the local admin (no sign-in), so tests drive it without credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings, load_settings
from facmon.broker import free_port
from facmon.services import Mosquitto


def local_runtime_settings(mosquitto: Mosquitto, folder: Path, client_id: str, **sections: Any) -> Settings:
    """``sections`` add to (or replace) the defaults, e.g. ``rules={"portfolio_silence_s": 300}``."""
    return load_settings(**{
        "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "client_id": client_id},
        "telemetry": {"backend": "sqlite", "sqlite_path": folder / "telemetry.sqlite3"},
        "database": {"url": f"sqlite:///{folder / 'records.sqlite3'}"},
        "collector": {"spool_dir": folder / "spool"},
        "api": {"port": free_port()}, "auth": {"required": False},  # loopback: the local admin
        **sections,
    })
