"""The predictor and the maintenance planner: forecast quantiles and drivers, stored models, plans and tasks.

Health moves from 0-1 to 0-100 (the scale planners read); stored forecasts are rescaled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.records.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FORECAST_FLOATS = ("rul_p10_days", "rul_p90_days", "rul_p10_usage", "rul_p50_usage", "rul_p90_usage",
                   "p_fail_30d", "p_fail_90d")


def upgrade() -> None:
    with op.batch_alter_table("forecasts") as batch:
        for column in FORECAST_FLOATS:
            batch.add_column(sa.Column(column, sa.Float(), nullable=True))
        batch.add_column(sa.Column("usage_unit", sa.String(32), nullable=True))
        batch.add_column(sa.Column("drivers", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("model_version", sa.String(64), nullable=False, server_default=""))
    op.execute("UPDATE forecasts SET health = health * 100")
    op.create_table(
        "predictor_models",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trained_at", UtcDateTime(), nullable=False),
        sa.Column("window_start", UtcDateTime(), nullable=False),
        sa.Column("window_end", UtcDateTime(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.UniqueConstraint("name", "version", name="uq_predictor_models_name_version"),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("horizon_start", sa.Date(), nullable=False),
        sa.Column("horizon_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("expected_cost", sa.Float(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
    )
    op.create_index("ix_plans_created_at", "plans", ["created_at"])
    op.create_table(
        "plan_tasks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id", name="fk_plan_tasks_plan_id_plans")),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("asset_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("technician_id", sa.String(200)),
        sa.Column("task", sa.String(200), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("planned_cost", sa.Float(), nullable=False),
        sa.Column("expected_failure_cost", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("affects_residents", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("work_order_id", sa.Integer(),
                  sa.ForeignKey("work_orders.id", name="fk_plan_tasks_work_order_id_work_orders")),
        sa.Column("move_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("decided_at", UtcDateTime()),
        sa.UniqueConstraint("rule_id", "asset_id", "due_date", name="uq_plan_tasks_rule_id_asset_id_due_date"),
    )
    op.create_index("ix_plan_tasks_plan_id", "plan_tasks", ["plan_id"])
    op.create_index("ix_plan_tasks_status", "plan_tasks", ["status"])
    op.create_index("ix_plan_tasks_planned_date", "plan_tasks", ["planned_date"])
    op.create_index("ix_plan_tasks_technician_id_planned_date", "plan_tasks", ["technician_id", "planned_date"])
    op.create_index("ix_plan_tasks_site_id_planned_date", "plan_tasks", ["site_id", "planned_date"])


def downgrade() -> None:
    op.drop_table("plan_tasks")
    op.drop_table("plans")
    op.drop_table("predictor_models")
    op.execute("UPDATE forecasts SET health = health / 100")
    with op.batch_alter_table("forecasts") as batch:
        for column in (*FORECAST_FLOATS, "usage_unit", "drivers", "model_version"):
            batch.drop_column(column)
