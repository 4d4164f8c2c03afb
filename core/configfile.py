"""Reading the YAML files people write (portfolios, scenarios, rule files) with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError


def read_config_file(path: Path | str, what: str) -> str:
    """The text of ``path``; ConfigError ("{path}: cannot read {what}: ...") if it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read {what}: {error}") from None


def load_yaml(text: str, source: str) -> Any:
    """The YAML document in ``text`` (safe loader); ConfigError naming ``source`` if it is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as error:  # ValueError: a date PyYAML cannot build (2026-13-01)
        raise ConfigError(f"{source}: not valid YAML: {error}") from None
