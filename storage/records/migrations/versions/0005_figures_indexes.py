"""Indexes on the milestones the monthly figures select by (opened, completed, closed, followed up in a
month): over a million orders, the all-sites month read 2.4 s in sequential scans without them.

Revision ID: 0005
Revises: 0004_kpi
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004_kpi"
branch_labels = None
depends_on = None

MILESTONES = ("opened_at", "completed_at", "closed_at", "followed_up_at")


def upgrade() -> None:
    for column in MILESTONES:
        op.create_index(f"ix_work_orders_{column}", "work_orders", [column])


def downgrade() -> None:
    for column in MILESTONES:
        op.drop_index(f"ix_work_orders_{column}", table_name="work_orders")
