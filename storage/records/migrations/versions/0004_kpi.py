"""The interval of a preventive work order, for PM compliance in the SMRP sense (done within 20 % of it).

Revision ID: 0004_kpi
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_kpi"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("pm_interval_days", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("work_orders", "pm_interval_days")
