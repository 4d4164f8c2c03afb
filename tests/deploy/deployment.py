"""What the deployment tests share: where the files are, reading them, and facmon's settings as a process
started with a file's configuration and environment would load them (through ``core.settings``)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from pydantic import BaseModel

from core.settings import Settings, load_settings

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose.yaml"


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def read_documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


@contextmanager
def facmon_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Exactly ``env`` as the FACMON_* variables (the test's own FACMON_* variables put aside)."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("FACMON_")}
    with mock.patch.dict(os.environ, {**kept, **env}, clear=True):
        yield


def unknown_names(env: Mapping[str, str]) -> list[str]:
    """FACMON_* variables that name no setting. pydantic-settings refuses an unknown field of a known section
    but ignores an unknown section (``FACMON_PARTITON__INDEX``): this finds both."""
    unknown = []
    for name in env:
        model: type[BaseModel] = Settings
        for part in name.removeprefix("FACMON_").lower().split("__"):
            field = model.model_fields.get(part)
            if field is None:
                unknown.append(name)
                break
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
    return unknown


def settings_of(config: Path, env: Mapping[str, str]) -> Settings:
    """The settings ``facmon serve --config config`` loads with ``env``; every variable must name a setting
    (an unknown one, or a ConfigError, fails the test)."""
    assert not unknown_names(env), f"no such setting: {unknown_names(env)}"
    with facmon_environment(env):
        return load_settings(config)


def compose_services() -> dict[str, dict[str, Any]]:
    """deploy/compose.yaml's services (YAML anchors and merge keys resolved)."""
    return read_yaml(COMPOSE)["services"]  # type: ignore[no-any-return]


def service_environment(name: str) -> dict[str, str]:
    """The FACMON_* environment compose gives service ``name`` (e.g. ``ingest-0``), to start the same process
    outside a container with deploy/facmon.toml: add only the hosts, ports and directories of the machine."""
    return {key: str(value) for key, value in compose_services()[name].get("environment", {}).items()}
