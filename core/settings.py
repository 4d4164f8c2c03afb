"""facmon's settings: a TOML file, overridden by ``FACMON_<SECTION>__<FIELD>`` environment variables.

Built once in the entry point and passed down; nothing reads settings at import time. Unknown keys are
refused so that a typo fails at start. Every field is documented in docs/configuration.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: Path | None = None
    client_id: str = "facmon-collector"
    topic_prefix: str = "facmon/v1"
    qos: Literal[0, 1] = 1
    keepalive_s: int = Field(30, ge=5)
    # Protocol, session, in-flight window, reconnect backoff, shared subscription.
    protocol: Literal["3.1.1", "5"] = "3.1.1"  # the embedded demo broker (amqtt) speaks only 3.1.1
    session_expiry_s: int = Field(7 * 24 * 3600, ge=0)  # MQTT 5: how long the broker keeps our session
    max_inflight: int = Field(1000, ge=1)  # MQTT 5 receive maximum: unacknowledged messages the broker may send
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    shared_group: str | None = None  # subscribe as $share/<group>/... so several collectors split the load
    sparkplug: bool = True  # also subscribe spBv1.0/# (Sparkplug B)


class TelemetrySettings(_Section):
    backend: Literal["sqlite", "influxdb"] = "sqlite"
    sqlite_path: Path = Path("facmon-telemetry.sqlite3")
    influx_url: str = "http://127.0.0.1:8086"
    influx_database: str = "facmon"
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    # Which write API, and what the v2 API needs (docs/collector.md "Sinks").
    influx_api: Literal["v1", "v2"] = "v1"
    influx_org: str = ""
    influx_bucket: str | None = None  # v2: the bucket; None = influx_database
    influx_token: SecretStr | None = None
    influx_gzip: bool = True
    influx_batch_size: int = Field(5000, ge=1)
    retention_days: int = Field(400, ge=1)


class DatabaseSettings(_Section):
    # SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user:pass@host/db
    url: str = "sqlite:///facmon.sqlite3"


class CollectorSettings(_Section):
    max_payload_bytes: int = Field(16_384, ge=256)
    late_limit_s: float = Field(7 * 24 * 3600, gt=0)
    future_limit_s: float = Field(300, gt=0)
    batch_size: int = Field(5000, ge=1)
    flush_interval_s: float = Field(0.2, gt=0)
    # The durable spool and its consumers (docs/collector.md "Guarantees"); relative paths are from the
    # working directory, like the SQLite files. One directory per collector instance.
    spool_dir: Path = Path("facmon-spool")
    spool_max_bytes: int = Field(1024 * 1024 * 1024, ge=1024 * 1024)
    spool_segment_bytes: int = Field(64 * 1024 * 1024, ge=64 * 1024)
    commit_interval_ms: float = Field(5.0, gt=0, le=1000)  # group commit window: one fdatasync per window
    retry_max_s: float = Field(10.0, gt=0)  # cap of the store writer's backoff while the store is down
    lag_threshold_s: float = Field(30.0, gt=0)  # backlog older than this: collector.status lagging = true
    status_interval_s: float = Field(10.0, gt=0)  # collector.status is published at least this often


class RulesSettings(_Section):
    # Rule files applied on top of the default pack; a rule with the same id replaces the default.
    files: list[Path] = Field(default_factory=list)
    use_default_pack: bool = True


class PredictorSettings(_Section):
    interval_s: float = Field(3600, gt=0)  # in clock time: simulated time under the demo
    history_days: float = Field(30, gt=0)


class InspectionSettings(_Section):
    templates: Path | None = None  # a site's template file, merged over the packaged one by template id
    horizon_days: int = Field(30, ge=1)  # rounds are generated this far ahead, once a day
    missed_check_s: float = Field(900, gt=0)  # in clock time: how often overdue rounds are marked missed


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    token: SecretStr | None = None  # bearer token for /api/v1; None disables auth (local use only)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACMON_", env_nested_delimiter="__", extra="forbid")

    site_name: str = "facmon"
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    collector: CollectorSettings = Field(default_factory=CollectorSettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    predictor: PredictorSettings = Field(default_factory=PredictorSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    inspections: InspectionSettings = Field(default_factory=InspectionSettings)
    portfolio: Path | None = None  # sites and assets to register at start (YAML)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, FACMON_* variables, .env, the TOML file, then secret files.
        toml = TomlConfigSettingsSource(settings_cls)
        return init_settings, env_settings, dotenv_settings, toml, file_secret_settings


def load_settings(toml_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``toml_file`` (if given), the environment, then ``overrides`` (highest)."""
    if toml_file is not None and not toml_file.is_file():
        raise ConfigError(f"configuration file not found: {toml_file}")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=toml_file)

    try:
        return FileSettings(**overrides)
    except ValidationError as error:
        raise ConfigError(f"invalid configuration: {error}") from error
