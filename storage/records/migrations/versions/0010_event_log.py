"""The shared event log: with ``events.channel = "postgresql"`` every process's bus writes its events here
(and NOTIFYs), and every process feeds its live stream from it, so event ids are global.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.records.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
    )
    op.create_index("ix_event_log_at", "event_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_event_log_at", table_name="event_log")
    op.drop_table("event_log")
