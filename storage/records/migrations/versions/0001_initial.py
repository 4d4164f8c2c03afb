"""Initial schema: sites, assets, alarms, work orders (one per alarm), their events, forecasts, dead letters.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# storage.records.types.UtcDateTime stores as this; the decorator only matters at run time.
UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(64)
CODE = sa.String(32)
NAME = sa.String(200)


def _events_columns(parent: str, parent_table: str, state: str) -> list[SchemaItem]:
    table = f"{parent_table[:-1]}_events"
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(parent, sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column(f"from_{state}", CODE, nullable=True),
        sa.Column(f"to_{state}", CODE, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint([parent], [f"{parent_table}.id"], name=f"fk_{table}_{parent}_{parent_table}",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
    )
    op.create_table(
        "assets",
        sa.Column("id", ID, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("report_interval_s", sa.Float(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_assets_site_id_sites"),
        sa.PrimaryKeyConstraint("id", name="pk_assets"),
    )
    op.create_index("ix_assets_site_id", "assets", ["site_id"])

    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("severity", CODE, nullable=False),
        sa.Column("state", CODE, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("cleared_at", UTC_DATETIME, nullable=True),
        sa.Column("acknowledged_at", UTC_DATETIME, nullable=True),
        sa.Column("acknowledged_by", NAME, nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
        # The alarm episode key: raise_alarm is idempotent on it.
        sa.UniqueConstraint("rule_id", "asset_id", "started_at", name="uq_alarms_rule_id_asset_id_started_at"),
    )
    op.create_index("ix_alarms_site_id", "alarms", ["site_id"])
    op.create_index("ix_alarms_state", "alarms", ["state"])
    op.create_table("alarm_events", *_events_columns("alarm_id", "alarms", "state"))
    op.create_index("ix_alarm_events_alarm_id", "alarm_events", ["alarm_id"])

    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", CODE, nullable=False),
        sa.Column("priority", CODE, nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("title", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("asset_id", ID, nullable=True),
        sa.Column("opened_at", UTC_DATETIME, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("assignee", NAME, nullable=True),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], name="fk_work_orders_alarm_id_alarms"),
        sa.PrimaryKeyConstraint("id", name="pk_work_orders"),
    )
    op.create_index("ix_work_orders_asset_id", "work_orders", ["asset_id"])
    op.create_index("ix_work_orders_site_id", "work_orders", ["site_id"])
    op.create_index("ix_work_orders_status", "work_orders", ["status"])
    # At most one work order per alarm episode (rows without an alarm are not constrained).
    not_null = sa.text("alarm_id IS NOT NULL")
    op.create_index("uq_work_orders_alarm_id", "work_orders", ["alarm_id"], unique=True,
                    sqlite_where=not_null, postgresql_where=not_null)
    op.create_table("work_order_events", *_events_columns("work_order_id", "work_orders", "status"))
    op.create_index("ix_work_order_events_work_order_id", "work_order_events", ["work_order_id"])

    op.create_table(
        "forecasts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("health", sa.Float(), nullable=False),
        sa.Column("rul_days", sa.Float(), nullable=True),
        sa.Column("driver", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forecasts"),
    )
    op.create_index("ix_forecasts_asset_id_at", "forecasts", ["asset_id", "at"])

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_reason", "dead_letters", ["reason"])
    op.create_index("ix_dead_letters_received_at", "dead_letters", ["received_at"])


def downgrade() -> None:
    for table in ("dead_letters", "forecasts", "work_order_events", "work_orders", "alarm_events", "alarms",
                  "assets", "sites"):
        op.drop_table(table)
