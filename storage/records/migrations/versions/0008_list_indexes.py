"""Indexes for the console's lists, newest first: alarms by start (all, by state, by site) and work orders by
status and opening time. ``facmon bench api`` measured the lists without them (docs/api.md "Performance").

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = (  # (name, table, columns)
    ("ix_alarms_started_at_id", "alarms", ["started_at", "id"]),
    ("ix_alarms_state_started_at", "alarms", ["state", "started_at"]),
    ("ix_alarms_site_id_started_at", "alarms", ["site_id", "started_at"]),
    ("ix_work_orders_status_opened_at", "work_orders", ["status", "opened_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
