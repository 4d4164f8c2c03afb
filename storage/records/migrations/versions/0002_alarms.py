"""Alarm flags (shelving, suppression, out of service, chatter, assignee), rule checkpoints, maintenance windows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(64)
NAME = sa.String(200)


def upgrade() -> None:
    op.add_column("alarms", sa.Column("shelved_until", UTC_DATETIME, nullable=True))
    op.add_column("alarms", sa.Column("shelve_reason", sa.Text(), server_default="", nullable=False))
    op.add_column("alarms", sa.Column("suppressed_by", sa.Integer(), nullable=True))
    op.add_column("alarms", sa.Column("out_of_service", NAME, server_default="", nullable=False))
    op.add_column("alarms", sa.Column("chattering", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("alarms", sa.Column("assignee", NAME, nullable=True))
    op.create_table(
        "rule_checkpoints",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("saved_at", UTC_DATETIME, nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rule_checkpoints"),
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("asset_id", ID, nullable=True),
        sa.Column("since", UTC_DATETIME, nullable=False),
        sa.Column("until", UTC_DATETIME, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", NAME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_windows"),
    )
    op.create_index("ix_maintenance_windows_site_id", "maintenance_windows", ["site_id"])
    op.create_index("ix_maintenance_windows_until", "maintenance_windows", ["until"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_until", table_name="maintenance_windows")
    op.drop_index("ix_maintenance_windows_site_id", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_table("rule_checkpoints")
    with op.batch_alter_table("alarms") as batch:
        for column in ("assignee", "chattering", "out_of_service", "suppressed_by", "shelve_reason",
                       "shelved_until"):
            batch.drop_column(column)
