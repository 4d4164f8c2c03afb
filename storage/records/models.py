"""The records schema as SQLAlchemy ORM models (the migrations in ``migrations/`` create the same tables)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.records.types import UtcDateTime

ID = String(64)  # site and asset ids (core.wire: at most 64 characters)
CODE = String(32)  # enum values
NAME = String(200)
BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite numbers only INTEGER primary keys itself

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    address: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str | None] = mapped_column(String(64))  # IANA zone (0007); None: the configured default


class AssetRow(Base):
    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(CODE)
    name: Mapped[str] = mapped_column(NAME)
    installed_on: Mapped[date | None] = mapped_column(Date)
    report_interval_s: Mapped[float] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)


class AlarmRow(Base):
    __tablename__ = "alarms"
    # The episode key: raising the same (rule, asset, start) twice returns the first row.
    __table_args__ = (
        UniqueConstraint("rule_id", "asset_id", "started_at"),
        # The console's lists, newest first: all, by state, by site (0008).
        Index("ix_alarms_started_at_id", "started_at", "id"),
        Index("ix_alarms_state_started_at_id", "state", "started_at", "id"),
        Index("ix_alarms_site_id_started_at_id", "site_id", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(128))
    asset_id: Mapped[str] = mapped_column(ID)
    site_id: Mapped[str] = mapped_column(ID, index=True)
    severity: Mapped[str] = mapped_column(CODE)
    state: Mapped[str] = mapped_column(CODE, index=True)
    message: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(NAME)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    work_order_id: Mapped[int | None] = mapped_column(Integer)
    # 0002: shelving, suppression, out of service, chatter, assignment (flags on top of the state).
    shelved_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    shelve_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    suppressed_by: Mapped[int | None] = mapped_column(Integer)
    out_of_service: Mapped[str] = mapped_column(NAME, default="", server_default="")
    chattering: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    assignee: Mapped[str | None] = mapped_column(NAME)


class AlarmEventRow(Base):
    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(NAME)
    from_state: Mapped[str | None] = mapped_column(CODE)
    to_state: Mapped[str] = mapped_column(CODE)
    note: Mapped[str] = mapped_column(Text, default="")


class WorkOrderRow(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        # At most one work order per alarm episode, enforced by the database (NULL = not from an alarm).
        Index("uq_work_orders_alarm_id", "alarm_id", unique=True,
              sqlite_where=text("alarm_id IS NOT NULL"), postgresql_where=text("alarm_id IS NOT NULL")),
        # The board and the figures: orders of a site by time, of an assignee by status.
        Index("ix_work_orders_site_id_opened_at", "site_id", "opened_at"),
        Index("ix_work_orders_assignee_status", "assignee", "status"),
        # The monthly figures select by these milestones (0005).
        Index("ix_work_orders_opened_at", "opened_at"),
        Index("ix_work_orders_completed_at", "completed_at"),
        Index("ix_work_orders_closed_at", "closed_at"),
        Index("ix_work_orders_followed_up_at", "followed_up_at"),
        Index("uq_work_orders_follow_token_hash", "follow_token_hash", unique=True),
        Index("ix_work_orders_status_opened_at_id", "status", "opened_at", "id"),  # the board by states (0008)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(CODE)
    priority: Mapped[str] = mapped_column(CODE)
    status: Mapped[str] = mapped_column(CODE, index=True)
    title: Mapped[str] = mapped_column(NAME)
    description: Mapped[str] = mapped_column(Text, default="")
    site_id: Mapped[str] = mapped_column(ID, index=True)
    asset_id: Mapped[str | None] = mapped_column(ID, index=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assignee: Mapped[str | None] = mapped_column(NAME)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cause: Mapped[str | None] = mapped_column(Text)
    remedy: Mapped[str | None] = mapped_column(Text)
    # 0003: the service desk (sources, completion record, verification, follow-up, optimistic locking).
    source: Mapped[str] = mapped_column(CODE, default="desk", server_default="desk")
    source_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    channel: Mapped[str | None] = mapped_column(CODE)
    requester: Mapped[str | None] = mapped_column(NAME)
    caller_phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    related_assets: Mapped[list[str]] = mapped_column(JSON, default=list)
    recurrences: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    waiting_for: Mapped[str | None] = mapped_column(CODE)
    failure_code: Mapped[str | None] = mapped_column(CODE)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    labour_hours: Mapped[float | None] = mapped_column(Float)
    completion_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    follow_up_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    on_site_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    restored_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    followed_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # 0004_kpi: a preventive order's interval (PM compliance: done within 20 % of it, at most 28 days late).
    pm_interval_days: Mapped[float | None] = mapped_column(Float)
    # 0007: the signed-in resident who filed it; the SHA-256 of its follow-up link's token.
    reporter_id: Mapped[str | None] = mapped_column(ID, index=True)
    follow_token_hash: Mapped[str | None] = mapped_column(String(64))


class WorkOrderEventRow(Base):
    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(NAME)
    from_status: Mapped[str | None] = mapped_column(CODE)
    to_status: Mapped[str] = mapped_column(CODE)
    note: Mapped[str] = mapped_column(Text, default="")
    # 0003: what the event records (core.domain.WorkOrderAction) and its particulars.
    action: Mapped[str] = mapped_column(CODE, default="transition", server_default="transition")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AttachmentRow(Base):
    """A file attached to a work order (a photo of the fault or the repair); the bytes live in blob storage."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(NAME)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[str] = mapped_column(NAME)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SlaEscalationRow(Base):
    """An SLA target of a work order that reached 80 % of its time or was breached; once per level."""

    __tablename__ = "sla_escalations"
    __table_args__ = (UniqueConstraint("work_order_id", "target", "level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(CODE)  # accept | arrive | restore | complete | respond
    level: Mapped[str] = mapped_column(CODE)  # at_risk | breached
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    notified: Mapped[str] = mapped_column(NAME, default="", server_default="")  # who was told


class UserRow(Base):
    """A person who uses facmon: staff with roles, technicians, residents (issue 12 adds sign-in)."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_oidc_subject", "oidc_subject", unique=True),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)  # the login name
    name: Mapped[str] = mapped_column(NAME)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    supervisor_id: Mapped[str | None] = mapped_column(ID)  # who an escalation goes to next
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # 0007: sign-in. An Argon2id PHC string (None: no password, OIDC or tokens only), the lockout counter,
    # the OIDC subject this user signs in as, the preferred language, a resident's sites.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    sites: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class UserSessionRow(Base):
    """A browser session (0007): the cookie is a random value, stored only as its SHA-256."""

    __tablename__ = "user_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(CODE)  # password | oidc
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiTokenRow(Base):
    """A personal API token (0007): ``fm_<id>_<secret>``; only the secret's SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(NAME)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)  # people.access.Permission values
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """One write through the API or the CLI (0007): who, what, on which record, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(ID, index=True)
    via: Mapped[str] = mapped_column(CODE)  # session | token | oidc | cli | public
    action: Mapped[str] = mapped_column(NAME, index=True)  # e.g. "alarm.acknowledge"
    target_type: Mapped[str | None] = mapped_column(CODE)
    target_id: Mapped[str | None] = mapped_column(ID)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(ID)
    status: Mapped[int | None] = mapped_column(Integer)


class TechnicianRow(Base):
    """What a user may work on: skills, certificates with their expiry, the sites or zone they cover."""

    __tablename__ = "technicians"

    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)  # elevator, electrician, plumber, general
    certificates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # code -> ISO expiry date
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every site of the zone
    zone: Mapped[str | None] = mapped_column(String(64))


class ShiftRow(Base):
    """A technician's shift, or an on-call duty (``on_call``) outside the working hours."""

    __tablename__ = "shifts"
    __table_args__ = (Index("ix_shifts_starts_at_ends_at", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    on_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class InspectionRoundRow(Base):
    """One inspection round (巡检): a template's item set on a site (or one asset), due by a time."""

    __tablename__ = "inspection_rounds"
    __table_args__ = (
        # A schedule creates each round once: (template, item set, site, asset, due time) is its key.
        Index("uq_inspection_rounds_key", "template", "item_set", "site_id", "asset_id", "due_at", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    template: Mapped[str] = mapped_column(String(64))
    item_set: Mapped[str] = mapped_column(String(64))  # daily, weekly, half_monthly, quarterly ...
    site_id: Mapped[str] = mapped_column(ID, index=True)
    asset_id: Mapped[str | None] = mapped_column(ID)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    assignee: Mapped[str | None] = mapped_column(NAME)
    status: Mapped[str] = mapped_column(CODE)  # scheduled | in_progress | done | missed
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InspectionResultRow(Base):
    """One checklist item of a round, recorded with who and when; a failed item links its work order."""

    __tablename__ = "inspection_results"
    __table_args__ = (UniqueConstraint("round_id", "item", "asset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_rounds.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str] = mapped_column(ID, default="", server_default="")  # "" for a site-wide item
    passed: Mapped[bool] = mapped_column(Boolean)
    value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(NAME)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    work_order_id: Mapped[int | None] = mapped_column(Integer)


class ComplaintRow(Base):
    """A complaint (投诉): registered, investigated, answered, followed up for satisfaction, closed."""

    __tablename__ = "complaints"
    __table_args__ = (Index("uq_complaints_follow_token_hash", "follow_token_hash", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ID, index=True)
    channel: Mapped[str] = mapped_column(CODE)
    category: Mapped[str] = mapped_column(CODE)
    status: Mapped[str] = mapped_column(CODE, index=True)
    complainant: Mapped[str] = mapped_column(NAME)
    phone: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    respond_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer: Mapped[str] = mapped_column(Text, default="")
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    follow_up_comment: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    work_order_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # 0007: as on work orders.
    reporter_id: Mapped[str | None] = mapped_column(ID, index=True)
    follow_token_hash: Mapped[str | None] = mapped_column(String(64))


class ComplaintEventRow(Base):
    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(NAME)
    from_status: Mapped[str | None] = mapped_column(CODE)
    to_status: Mapped[str] = mapped_column(CODE)
    note: Mapped[str] = mapped_column(Text, default="")


class NoticeRow(Base):
    """A notice (公告) to the residents of a site about planned work: draft, published, withdrawn."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ID, index=True)
    title: Mapped[str] = mapped_column(NAME)
    body: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(CODE)
    work_order_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_by: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EmergencyRunRow(Base):
    """An emergency plan (应急预案) being worked: for a real emergency order, or a drill."""

    __tablename__ = "emergency_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan: Mapped[str] = mapped_column(String(64))  # site_power_cut | burst_pipe | entrapment | water_supply
    site_id: Mapped[str] = mapped_column(ID, index=True)
    work_order_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # one plan per emergency order
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_by: Mapped[str] = mapped_column(NAME)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EmergencyStepRow(Base):
    __tablename__ = "emergency_steps"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("emergency_runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(CODE)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by: Mapped[str | None] = mapped_column(NAME)
    note: Mapped[str] = mapped_column(Text, default="")
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookDeliveryRow(Base):
    """One event sent (or to be sent) to one webhook endpoint: the delivery log with its retries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(64))  # the endpoint's name in the configuration
    url: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # exactly the signed bytes
    status: Mapped[str] = mapped_column(CODE)  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ForecastRow(Base):
    __tablename__ = "forecasts"
    __table_args__ = (Index("ix_forecasts_asset_id_at", "asset_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    health: Mapped[float] = mapped_column(Float)  # 0-100 since 0006 (0-1 before)
    rul_days: Mapped[float | None] = mapped_column(Float)  # P50
    driver: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # 0006: quantiles in days and usage, failure probabilities, drivers in words, the model's version.
    rul_p10_days: Mapped[float | None] = mapped_column(Float)
    rul_p90_days: Mapped[float | None] = mapped_column(Float)
    usage_unit: Mapped[str | None] = mapped_column(String(32))
    rul_p10_usage: Mapped[float | None] = mapped_column(Float)
    rul_p50_usage: Mapped[float | None] = mapped_column(Float)
    rul_p90_usage: Mapped[float | None] = mapped_column(Float)
    p_fail_30d: Mapped[float | None] = mapped_column(Float)
    p_fail_90d: Mapped[float | None] = mapped_column(Float)
    drivers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    model_version: Mapped[str] = mapped_column(String(64), default="", server_default="")


class PredictorModelRow(Base):
    """A trained model, versioned per name (0006)."""

    __tablename__ = "predictor_models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    trained_at: Mapped[datetime] = mapped_column(UtcDateTime)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime)
    window_end: Mapped[datetime] = mapped_column(UtcDateTime)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    format: Mapped[str] = mapped_column(CODE)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class PlanRow(Base):
    """One run of the maintenance planner (0006)."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by: Mapped[str] = mapped_column(NAME)
    horizon_start: Mapped[date] = mapped_column(Date)
    horizon_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(CODE)
    expected_cost: Mapped[float] = mapped_column(Float)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PlanTaskRow(Base):
    """A planned task, one row per (rule, asset, due date): re-planning updates it, never adds a twin (0006)."""

    __tablename__ = "plan_tasks"
    __table_args__ = (
        UniqueConstraint("rule_id", "asset_id", "due_date"),
        Index("ix_plan_tasks_planned_date", "planned_date"),
        Index("ix_plan_tasks_technician_id_planned_date", "technician_id", "planned_date"),
        Index("ix_plan_tasks_site_id_planned_date", "site_id", "planned_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str] = mapped_column(ID)
    site_id: Mapped[str] = mapped_column(ID)
    due_date: Mapped[date] = mapped_column(Date)
    planned_date: Mapped[date] = mapped_column(Date)
    technician_id: Mapped[str | None] = mapped_column(NAME)
    task: Mapped[str] = mapped_column(NAME)
    hours: Mapped[float] = mapped_column(Float)
    planned_cost: Mapped[float] = mapped_column(Float)
    expected_failure_cost: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    affects_residents: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(CODE, index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    move_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by: Mapped[str | None] = mapped_column(NAME)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeadLetterRow(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    topic: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class RuleCheckpointRow(Base):
    """The rule engine's snapshot (timers, windows, active states), one row per engine name."""

    __tablename__ = "rule_checkpoints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    epoch: Mapped[int] = mapped_column(Integer, default=0)  # the lease epoch of the partition holder that saved it


class EventLogRow(Base):
    """The shared event stream (``events.channel = "postgresql"``): every process's bus events, in id order."""

    __tablename__ = "event_log"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)  # the event's global seq
    topic: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    origin: Mapped[str] = mapped_column(String(200))  # the publishing bus (host, pid, run)


class PartitionLeaseRow(Base):
    """Who evaluates a partition's sites now; ``epoch`` grows at every change of holder (the fencing token)."""

    __tablename__ = "partition_leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claim: Mapped[dict[str, Any]] = mapped_column(JSON)  # core.partitions.Ownership.as_json()


class MaintenanceWindowRow(Base):
    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ID, index=True)
    asset_id: Mapped[str | None] = mapped_column(ID)
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(NAME)
