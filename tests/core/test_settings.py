"""Settings: TOML file, environment overrides, refusal of unknown keys, docs in step with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from core.errors import ConfigError
from core.settings import Settings, load_settings

DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_defaults_need_no_file() -> None:
    settings = load_settings()
    assert settings.telemetry.backend == "sqlite"
    assert settings.auth.required  # sign-in is on unless switched off


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "facmon.toml"
    config.write_text('[mqtt]\nhost = "from-file"\nport = 1999\npassword = "s3cret"\n')
    monkeypatch.setenv("FACMON_MQTT__HOST", "from-env")
    settings = load_settings(config)
    assert (settings.mqtt.host, settings.mqtt.port) == ("from-env", 1999)
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_unknown_key_fails_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "facmon.toml"
    config.write_text("[mqtt]\nprot = 1883\n")
    with pytest.raises(ConfigError, match=r"mqtt\.prot"):
        load_settings(config)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            assert f"`[{name}]`" in text, f"section [{name}] missing from docs/configuration.md"
            for key in section.model_fields:
                assert f"`{key}`" in text or f"`{key}`," in text, f"{name}.{key} missing from configuration.md"
        else:
            assert f"`{name}`" in text, f"{name} missing from docs/configuration.md"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "facmon.example"])
def test_no_sign_in_beyond_loopback_is_a_config_error(host: str) -> None:
    with pytest.raises(ConfigError, match=r"auth\.required"):
        load_settings(api={"host": host}, auth={"required": False})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_no_sign_in_on_loopback_is_allowed(host: str) -> None:
    assert not load_settings(api={"host": host}, auth={"required": False}).auth.required
