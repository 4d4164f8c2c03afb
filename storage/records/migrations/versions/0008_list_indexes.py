"""Indexes for the console's lists, newest first (``ORDER BY <time> DESC, id DESC``): alarms in all, by state
(the live list asks for two states) and by site; work orders by status (the board, open and overdue lists
ask for a set of states). ``facmon bench api`` measured the lists with and without them (docs/api.md
"Performance"): the live-alarm list read all 100k alarms through the time index (23 ms; 0.9 ms now).
Partial indexes were tried and left out: with bound parameters neither SQLite nor a generic PostgreSQL
plan can prove a query's ``IN (?, ?)`` matches an index's condition.

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
    ("ix_alarms_state_started_at_id", "alarms", ["state", "started_at", "id"]),
    ("ix_alarms_site_id_started_at_id", "alarms", ["site_id", "started_at", "id"]),
    ("ix_work_orders_status_opened_at_id", "work_orders", ["status", "opened_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
