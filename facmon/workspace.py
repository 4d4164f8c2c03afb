"""Where a command finds its data: its settings file, else the data of the last `facmon demo`.

The demo records where it keeps its data (and its ports) in a small JSON file at a well-known place,
``$XDG_STATE_HOME/facmon/demo.json`` (``~/.local/state/facmon/demo.json``; ``FACMON_STATE_DIR`` overrides the
directory). A command run without ``--config`` and without ``FACMON_DATABASE__URL`` then reads the demo's
records instead of a ``./facmon.sqlite3`` that does not exist, and a SQLite file that does not exist is an
error naming what to do, never an empty database created on the spot.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.settings import Settings, load_settings

STATE_FILE = "demo.json"


@dataclass(frozen=True, slots=True)
class DemoPlace:
    """Where a demo keeps its data and what it listens on."""

    data_dir: str
    database_url: str
    telemetry_path: str
    broker_host: str
    broker_port: int
    api_port: int
    pid: int

    def overrides(self) -> dict[str, Any]:
        """Settings overrides that point a command at this demo's records and telemetry."""
        return {"database": {"url": self.database_url},
                "telemetry": {"backend": "sqlite", "sqlite_path": Path(self.telemetry_path)},
                "mqtt": {"host": self.broker_host, "port": self.broker_port}}

    @property
    def running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def state_dir() -> Path:
    explicit = os.environ.get("FACMON_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "facmon"


def record_demo(place: DemoPlace) -> Path:
    """Remember ``place`` as the last demo's; returns the file written."""
    path = state_dir() / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(place), indent=2) + "\n")
    return path


def last_demo() -> DemoPlace | None:
    """The last demo's place, if one was recorded (and the file is readable)."""
    path = state_dir() / STATE_FILE
    try:
        return DemoPlace(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def command_settings(config: Path | None) -> Settings:
    """Settings for a command that reads existing records: ``config``, the environment, else the last demo's.

    Raises ``ConfigError`` when the SQLite database they name does not exist, instead of creating it empty.
    """
    settings = load_settings(config)
    if config is None and "FACMON_DATABASE__URL" not in os.environ and not _sqlite_exists(settings):
        demo = last_demo()
        if demo is not None:
            settings = load_settings(None, **demo.overrides())
    if not _sqlite_exists(settings):
        raise ConfigError(f"no records database at {settings.database.url.removeprefix('sqlite:///')}: "
                          "run `facmon demo` first (commands then find its data), or pass --config with "
                          "the settings of your installation")
    return settings


def _sqlite_exists(settings: Settings) -> bool:
    url = settings.database.url
    if not url.startswith("sqlite:///"):
        return True  # a server database: connecting will tell
    return Path(url.removeprefix("sqlite:///")).is_file()
