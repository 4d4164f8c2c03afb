"""Partitions: a lease per partition with a fencing epoch, and the epoch of the holder that saved a rule
checkpoint, so an instance that lost its partition cannot overwrite its successor's state.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.records.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partition_leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("acquired_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("claim", sa.JSON, nullable=False),
    )
    with op.batch_alter_table("rule_checkpoints") as table:
        table.add_column(sa.Column("epoch", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("rule_checkpoints") as table:
        table.drop_column("epoch")
    op.drop_table("partition_leases")
