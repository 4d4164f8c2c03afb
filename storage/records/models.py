"""The records schema as SQLAlchemy ORM models (the migrations in ``migrations/`` create the same tables)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.records.types import UtcDateTime

ID = String(64)  # site and asset ids (core.wire: at most 64 characters)
CODE = String(32)  # enum values
NAME = String(200)

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
    __table_args__ = (UniqueConstraint("rule_id", "asset_id", "started_at"),)

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


class WorkOrderEventRow(Base):
    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(NAME)
    from_status: Mapped[str | None] = mapped_column(CODE)
    to_status: Mapped[str] = mapped_column(CODE)
    note: Mapped[str] = mapped_column(Text, default="")


class ForecastRow(Base):
    __tablename__ = "forecasts"
    __table_args__ = (Index("ix_forecasts_asset_id_at", "asset_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    health: Mapped[float] = mapped_column(Float)
    rul_days: Mapped[float | None] = mapped_column(Float)
    driver: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


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


class MaintenanceWindowRow(Base):
    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ID, index=True)
    asset_id: Mapped[str | None] = mapped_column(ID)
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(NAME)
