"""Sign-in and accountability (issue 12): passwords and lockout on users, browser sessions, personal API
tokens, the audit log; who filed a request or complaint and its follow-up link; each site's time zone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.records.types import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(200), nullable=True))  # Argon2id, PHC string
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("oidc_subject", sa.String(255), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(16), nullable=True))
        batch.add_column(sa.Column("sites", sa.JSON(), nullable=False, server_default="[]"))
        batch.create_index("uq_users_oidc_subject", ["oidc_subject"], unique=True)
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))  # IANA; NULL: the default
    for table in ("work_orders", "complaints"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("reporter_id", sa.String(64), nullable=True))
            batch.add_column(sa.Column("follow_token_hash", sa.String(64), nullable=True))
            batch.create_index(f"ix_{table}_reporter_id", ["reporter_id"])
            batch.create_index(f"uq_{table}_follow_token_hash", ["follow_token_hash"], unique=True)
    op.create_table(
        "user_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),  # SHA-256 of the cookie's value
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("via", sa.String(32), nullable=False),  # password | oidc
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),  # the token's public part
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),  # SHA-256 of the secret part
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        sa.Column("actor", sa.String(64), nullable=False, index=True),
        sa.Column("via", sa.String(32), nullable=False),  # session | token | oidc | cli | public
        sa.Column("action", sa.String(200), nullable=False, index=True),  # e.g. "alarm.acknowledge"
        sa.Column("target_type", sa.String(32), nullable=True),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_tokens")
    op.drop_table("user_sessions")
    for table in ("work_orders", "complaints"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"uq_{table}_follow_token_hash")
            batch.drop_index(f"ix_{table}_reporter_id")
            batch.drop_column("follow_token_hash")
            batch.drop_column("reporter_id")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("uq_users_oidc_subject")
        for column in ("sites", "locale", "oidc_subject", "locked_until", "failed_logins", "password_hash"):
            batch.drop_column(column)
