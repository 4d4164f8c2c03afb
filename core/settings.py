"""facmon's settings: a TOML file, overridden by ``FACMON_<SECTION>__<FIELD>`` environment variables.

Built once in the entry point and passed down; nothing reads settings at import time. Unknown keys are
refused so that a typo fails at start. Every field is documented in docs/configuration.md.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.errors import ConfigError
from core.zones import parse_zone


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None  # a client certificate (mutual TLS; `facmon devices provision` issues one)
    key_file: Path | None = None  # its private key
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
    # No reading from any site for this long (clock seconds) while the collector is connected raises ONE
    # "portfolio_silent" alarm (docs/rules.md); 0 turns it off.
    portfolio_silence_s: float = Field(300, ge=0)


class PredictorSettings(_Section):
    interval_s: float = Field(3600, gt=0)  # in clock time: simulated time under the demo
    history_days: float = Field(30, gt=0)
    train_interval_s: float = Field(7 * 86_400, gt=0)  # in clock time: how often the RUL models retrain
    train_history_days: float = Field(730, gt=0)  # the fleet history they train on


class PlannerSettings(_Section):
    enabled: bool = True  # re-plan after each forecast run (docs/planner.md, "The plan in use")
    horizon_days: int = Field(90, ge=1, le=366)
    time_limit_s: float = Field(10, gt=0)  # the MIP's limit; past it, its best plan (or the greedy one)
    rules_file: Path | None = None  # a portfolio's PM rules over the packaged ones, by rule id
    costs_file: Path | None = None  # a portfolio's cost model instead of the packaged one


class EmergencySettings(_Section):
    # Laid over the packaged plans (workorders/emergency_plans.yaml): plans replace by name.
    plans_file: Path | None = None
    late_check_s: float = Field(30, gt=0)  # in clock time: how often late plan steps are escalated
class SlaSettings(_Section):
    # The site override file applied on top of the packaged policy (docs/workorders.md, "SLA clocks").
    policy_file: Path | None = None
class InspectionSettings(_Section):
    templates: Path | None = None  # a site's template file, merged over the packaged one by template id
    horizon_days: int = Field(30, ge=1)  # rounds are generated this far ahead, once a day
    missed_check_s: float = Field(900, gt=0)  # in clock time: how often overdue rounds are marked missed


class DevicesSettings(_Section):
    """How `facmon devices provision` lets devices onto the broker (docs/devices.md)."""

    auth: Literal["password", "certificate"] = "password"  # certificate: mutual TLS, the CN is the username
    directory: Path = Path("facmon-devices")  # password file or certificates, ACL, mosquitto.conf
    listener_host: str = ""  # the address the broker's device listener binds ("" = every interface)
    listener_port: int | None = Field(None, ge=1, le=65535)  # None: 1883 with passwords, 8883 with certificates
    sparkplug_gateways: bool = False  # also one Sparkplug B edge node account per site (<site>-gateway)
    broker_names: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1"])  # the server certificate's
    certificate_days: int = Field(825, ge=1, le=3650)


class PartitionSettings(_Section):
    """Which sites this instance evaluates (docs/scaling.md "Partitions").

    Nothing set: one partition owning every site. ``sites``: an explicit list. ``index`` of ``count``: the
    sites whose stable hash (``core.partitions.site_partition``) modulo ``count`` is ``index``, as Prometheus
    shards targets with hashmod. A standby is a second instance with the same settings: it waits for the
    partition's lease in the records database and takes over its MQTT session and spool."""

    sites: list[str] = Field(default_factory=list)
    index: int | None = Field(None, ge=0)
    count: int = Field(1, ge=1, le=1024)
    lease_s: float = Field(15.0, ge=1)  # a holder that has not renewed for this long loses the partition
    refresh_s: float = Field(30.0, gt=0)  # how often the site list is read again (new sites, moved sites)

    @model_validator(mode="after")
    def _one_way(self) -> PartitionSettings:
        if self.sites and self.index is not None:
            raise ValueError("partition: give either sites or index/count, not both")
        if self.index is not None and self.index >= self.count:
            raise ValueError(f"partition.index {self.index} is not below partition.count {self.count}")
        return self

    @property
    def name(self) -> str:
        """The partition's name: its lease, MQTT session and checkpoint key."""
        if self.index is not None:
            return f"p{self.index}-of-{self.count}"
        if self.sites:
            return "sites-" + "-".join(sorted(self.sites))[:80]
        return "all"


Role = Literal["ingest", "api", "scheduler"]
ROLES: tuple[Role, ...] = ("ingest", "api", "scheduler")


class ServeSettings(_Section):
    """What `facmon serve` runs in this process (docs/scaling.md "Topology")."""

    # ingest: MQTT, spool, store writer and the rules of this partition's sites. api: the HTTP API and
    # console. scheduler: the once-per-deployment periodic work (forecasts, planner, SLA watch, rounds,
    # emergency plans, webhooks), guarded by a lease so replicas run it once.
    roles: list[Role] = Field(default_factory=lambda: list(ROLES), min_length=1)


class EventSettings(_Section):
    """Where the live event stream comes from (docs/scaling.md "API replicas")."""

    # memory: one process's bus. postgresql: every process publishes to the records database (a table and
    # NOTIFY) and streams from it, so a console on any API replica sees every partition's events.
    channel: Literal["memory", "postgresql"] = "memory"


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Origins (scheme://host[:port]) whose pages may call the API from a browser; empty: same origin only.
    cors_origins: list[str] = Field(default_factory=list)


class OidcSettings(_Section):
    """Single sign-on with an OpenID Connect provider (docs/security.md "Single sign-on")."""

    issuer: str = Field(pattern=r"^https?://")  # its discovery document is <issuer>/.well-known/openid-configuration
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None  # None: a public client (PKCE only)
    redirect_url: str = Field(pattern=r"^https?://")  # <console origin>/api/v1/auth/oidc/callback
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    # Who a subject is: a user already linked to it, else the user whose id is this claim's value (linked
    # then); else, with ``default_roles``, a new user with those roles; else refused (403).
    username_claim: str = "preferred_username"
    default_roles: list[str] = Field(default_factory=list)
    label: str = "SSO"  # the sign-in button's text


class AuthSettings(_Section):
    """Sign-in, sessions, tokens and lockout (docs/security.md)."""

    # False: requests without credentials act as the local admin; allowed only on a loopback address.
    required: bool = True
    session_ttl_s: float = Field(12 * 3600, gt=0, le=30 * 86_400)  # a browser session, from sign-in
    session_idle_s: float = Field(2 * 3600, gt=0)  # ... ended sooner if unused this long
    max_failed_logins: int = Field(5, ge=1, le=100)  # wrong passwords in a row before the account locks
    lockout_s: float = Field(15 * 60, gt=0)  # how long it stays locked
    login_rate: str = "10/minute"  # sign-in attempts per client address (the `limits` notation)
    token_max_days: int = Field(365, ge=1)  # the longest expiry a personal API token may have
    oidc: OidcSettings | None = None


class WebhookSettings(_Section):
    """One webhook endpoint and the events routed to it (docs/workorders.md "Notifications")."""

    name: str = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr  # the HMAC-SHA256 signing key the receiver shares
    topics: list[str] = Field(default_factory=lambda: ["alarm.", "workorder.", "emergency."])
    sites: list[str] = Field(default_factory=list)  # empty: every site
    kinds: list[str] = Field(default_factory=list)  # work-order kind or asset kind; empty: any
    priorities: list[str] = Field(default_factory=list)  # work-order priority or alarm severity; empty: any


class NotifySettings(_Section):
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    alarm_ack_timeout_s: float = Field(300, gt=0)  # a critical alarm unacknowledged this long escalates
    max_attempts: int = Field(8, ge=1)
    retry_base_s: float = Field(5, gt=0)
    retry_max_s: float = Field(3600, gt=0)
    timeout_s: float = Field(5, gt=0)
    send_interval_s: float = Field(1, gt=0)  # how often due deliveries are sent (wall time)
class AttachmentSettings(_Section):
    """Where photos attached to work orders are kept (docs/configuration.md "[attachments]")."""

    backend: Literal["disk", "s3"] = "disk"
    directory: Path = Path("facmon-attachments")  # disk: relative paths are from the working directory
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # an S3-compatible service (MinIO, Ceph ...); None: AWS
    s3_region: str | None = None
    s3_access_key_id: SecretStr | None = None  # None: boto3's own chain (environment, profile, role)
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = "attachments/"
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)  # larger uploads are refused (413)

    @model_validator(mode="after")
    def _bucket_for_s3(self) -> AttachmentSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("attachments.s3_bucket is required when attachments.backend is 's3'")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACMON_", env_nested_delimiter="__", extra="forbid")

    site_name: str = "facmon"
    # IANA zone of a site without its own (sites.time_zone NULL): rules' `during` windows and reports.
    time_zone: str = "UTC"
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    collector: CollectorSettings = Field(default_factory=CollectorSettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    predictor: PredictorSettings = Field(default_factory=PredictorSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    devices: DevicesSettings = Field(default_factory=DevicesSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    emergency: EmergencySettings = Field(default_factory=EmergencySettings)
    attachments: AttachmentSettings = Field(default_factory=AttachmentSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    inspections: InspectionSettings = Field(default_factory=InspectionSettings)
    planner: PlannerSettings = Field(default_factory=PlannerSettings)
    partition: PartitionSettings = Field(default_factory=PartitionSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    portfolio: Path | None = None  # sites and assets to register at start (YAML)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            parse_zone(value)
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _authenticated_beyond_loopback(self) -> Settings:
        if not self.auth.required and not is_loopback(self.api.host):
            raise ValueError(f"api.host = {self.api.host!r} listens beyond loopback, which needs "
                             "auth.required = true (sign-in); or listen on 127.0.0.1")
        return self

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
