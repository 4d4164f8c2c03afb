"""The service desk: the closed-loop lifecycle, sources, completion record, optimistic locking, attachments,
SLA escalations, people (users, technicians, shifts), inspection rounds, complaints, notices, emergency
plans and the webhook delivery log.

Existing work orders keep every field and event: their statuses are renamed into the new lifecycle
(open -> requested, assigned -> dispatched, on_hold -> waiting; the others keep their names), alarm-born
orders get source "alarm", and the milestones the figures need are taken from their recorded events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
ID = sa.String(64)
CODE = sa.String(32)
NAME = sa.String(200)

RENAMED = {"open": "requested", "assigned": "dispatched", "on_hold": "waiting"}
# Downgrade: each new status to the nearest old one.
RENAMED_BACK = {"requested": "open", "dispatched": "assigned", "accepted": "assigned", "on_site": "in_progress",
                "waiting": "on_hold", "verified": "completed", "followed_up": "completed"}
# Milestone column <- the first event that entered this (old) status.
MILESTONES = {"dispatched_at": "assigned", "on_site_at": "in_progress", "completed_at": "completed"}


def _json_default(value: str) -> sa.TextClause:
    return sa.text(f"'{value}'")


def upgrade() -> None:
    _work_orders()
    _people()
    _inspections()
    _complaints_and_notices()
    _emergency_plans()
    _webhooks()


def _work_orders() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("source", CODE, server_default="desk", nullable=False))
        batch.add_column(sa.Column("source_ref", sa.String(128), nullable=True))
        batch.add_column(sa.Column("channel", CODE, nullable=True))
        batch.add_column(sa.Column("requester", NAME, nullable=True))
        batch.add_column(sa.Column("caller_phone", sa.String(40), nullable=True))
        batch.add_column(sa.Column("address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("related_assets", sa.JSON(), server_default=_json_default("[]"), nullable=False))
        batch.add_column(sa.Column("recurrences", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("waiting_for", CODE, nullable=True))
        batch.add_column(sa.Column("failure_code", CODE, nullable=True))
        batch.add_column(sa.Column("parts", sa.JSON(), server_default=_json_default("[]"), nullable=False))
        batch.add_column(sa.Column("labour_hours", sa.Float(), nullable=True))
        batch.add_column(sa.Column("completion_notes", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("satisfaction", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("follow_up_comment", sa.Text(), server_default="", nullable=False))
        for column in ("dispatched_at", "accepted_at", "on_site_at", "restored_at", "completed_at", "verified_at",
                       "followed_up_at"):
            batch.add_column(sa.Column(column, UTC_DATETIME, nullable=True))
    op.create_index("ix_work_orders_source_ref", "work_orders", ["source_ref"])
    op.create_index("ix_work_orders_site_id_opened_at", "work_orders", ["site_id", "opened_at"])
    op.create_index("ix_work_orders_assignee_status", "work_orders", ["assignee", "status"])
    with op.batch_alter_table("work_order_events") as batch:
        batch.add_column(sa.Column("action", CODE, server_default="transition", nullable=False))
        batch.add_column(sa.Column("data", sa.JSON(), server_default=_json_default("{}"), nullable=False))

    orders = sa.table("work_orders", sa.column("id", sa.Integer()), sa.column("alarm_id", sa.Integer()),
                      sa.column("source", CODE), sa.column("source_ref", sa.String(128)),
                      sa.column("status", CODE), sa.column("closed_at", UTC_DATETIME),
                      *(sa.column(name, UTC_DATETIME) for name in MILESTONES))
    events = sa.table("work_order_events", sa.column("work_order_id", sa.Integer()), sa.column("at", UTC_DATETIME),
                      sa.column("to_status", CODE))
    # Milestones from the history, while the events still carry the old status names.
    for column, old_status in MILESTONES.items():
        first = (sa.select(sa.func.min(events.c.at)).where(events.c.work_order_id == orders.c.id,
                                                           events.c.to_status == old_status).scalar_subquery())
        op.execute(orders.update().values({column: first}))
    op.execute(orders.update().where(orders.c.alarm_id.is_not(None))
               .values(source="alarm", source_ref=sa.literal("alarm:") + sa.cast(orders.c.alarm_id, sa.String)))
    _rename_statuses(RENAMED)


def _rename_statuses(mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        op.execute(sa.text("UPDATE work_orders SET status = :new WHERE status = :old").bindparams(old=old, new=new))
        for column in ("from_status", "to_status"):
            op.execute(sa.text(f"UPDATE work_order_events SET {column} = :new WHERE {column} = :old")
                       .bindparams(old=old, new=new))


def _people() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("supervisor_id", ID, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_table(
        "technicians",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("certificates", sa.JSON(), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.Column("zone", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_technicians_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name="pk_technicians"),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("on_call", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_shifts_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_shifts"),
    )
    op.create_index("ix_shifts_user_id", "shifts", ["user_id"])
    op.create_index("ix_shifts_starts_at_ends_at", "shifts", ["starts_at", "ends_at"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("filename", NAME, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(300), nullable=False),
        sa.Column("uploaded_by", NAME, nullable=False),
        sa.Column("uploaded_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_orders.id"], name="fk_attachments_work_order_id_work_orders",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
    )
    op.create_index("ix_attachments_work_order_id", "attachments", ["work_order_id"])
    op.create_table(
        "sla_escalations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("target", CODE, nullable=False),
        sa.Column("level", CODE, nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("notified", NAME, server_default="", nullable=False),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_orders.id"],
                                name="fk_sla_escalations_work_order_id_work_orders", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_sla_escalations"),
        sa.UniqueConstraint("work_order_id", "target", "level",
                            name="uq_sla_escalations_work_order_id_target_level"),
    )
    op.create_index("ix_sla_escalations_work_order_id", "sla_escalations", ["work_order_id"])
    op.create_index("ix_sla_escalations_at", "sla_escalations", ["at"])


def _inspections() -> None:
    op.create_table(
        "inspection_rounds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("item_set", sa.String(64), nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("asset_id", ID, nullable=True),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("assignee", NAME, nullable=True),
        sa.Column("status", CODE, nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("completed_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inspection_rounds"),
    )
    op.create_index("ix_inspection_rounds_site_id", "inspection_rounds", ["site_id"])
    op.create_index("ix_inspection_rounds_due_at", "inspection_rounds", ["due_at"])
    op.create_index("uq_inspection_rounds_key", "inspection_rounds",
                    ["template", "item_set", "site_id", "asset_id", "due_at"], unique=True)
    op.create_table(
        "inspection_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("asset_id", ID, server_default="", nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", NAME, nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_rounds.id"],
                                name="fk_inspection_results_round_id_inspection_rounds", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_inspection_results"),
        sa.UniqueConstraint("round_id", "item", "asset_id", name="uq_inspection_results_round_id_item_asset_id"),
    )
    op.create_index("ix_inspection_results_round_id", "inspection_results", ["round_id"])


def _complaints_and_notices() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("channel", CODE, nullable=False),
        sa.Column("category", CODE, nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("complainant", NAME, nullable=False),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("respond_due_at", UTC_DATETIME, nullable=False),
        sa.Column("responded_at", UTC_DATETIME, nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("follow_up_comment", sa.Text(), nullable=False),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.Column("work_order_ids", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaints"),
    )
    op.create_index("ix_complaints_site_id", "complaints", ["site_id"])
    op.create_index("ix_complaints_status", "complaints", ["status"])
    op.create_index("ix_complaints_received_at", "complaints", ["received_at"])
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("from_status", CODE, nullable=True),
        sa.Column("to_status", CODE, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"],
                                name="fk_complaint_events_complaint_id_complaints", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_events"),
    )
    op.create_index("ix_complaint_events_complaint_id", "complaint_events", ["complaint_id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("title", NAME, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("created_by", NAME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("published_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
    )
    op.create_index("ix_notices_site_id", "notices", ["site_id"])
    op.create_index("ix_notices_work_order_id", "notices", ["work_order_id"])


def _emergency_plans() -> None:
    op.create_table(
        "emergency_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("site_id", ID, nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("started_by", NAME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_emergency_runs"),
        sa.UniqueConstraint("work_order_id", name="uq_emergency_runs_work_order_id"),
    )
    op.create_index("ix_emergency_runs_site_id", "emergency_runs", ["site_id"])
    op.create_table(
        "emergency_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("role", CODE, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("done_at", UTC_DATETIME, nullable=True),
        sa.Column("done_by", NAME, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("escalated_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["emergency_runs.id"], name="fk_emergency_steps_run_id_emergency_runs",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_emergency_steps"),
        sa.UniqueConstraint("run_id", "position", name="uq_emergency_steps_run_id_position"),
    )
    op.create_index("ix_emergency_steps_run_id", "emergency_steps", ["run_id"])


def _webhooks() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", CODE, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("event_id", "endpoint", name="uq_webhook_deliveries_event_id_endpoint"),
    )
    op.create_index("ix_webhook_deliveries_status_next_attempt_at", "webhook_deliveries",
                    ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in ("webhook_deliveries", "emergency_steps", "emergency_runs", "notices", "complaint_events",
                  "complaints", "inspection_results", "inspection_rounds", "sla_escalations", "attachments",
                  "shifts", "technicians", "users"):
        op.drop_table(table)
    _rename_statuses(RENAMED_BACK)
    op.drop_index("ix_work_orders_assignee_status", table_name="work_orders")
    op.drop_index("ix_work_orders_site_id_opened_at", table_name="work_orders")
    op.drop_index("ix_work_orders_source_ref", table_name="work_orders")
    with op.batch_alter_table("work_order_events") as batch:
        batch.drop_column("data")
        batch.drop_column("action")
    with op.batch_alter_table("work_orders") as batch:
        for column in ("followed_up_at", "verified_at", "completed_at", "restored_at", "on_site_at", "accepted_at",
                       "dispatched_at", "follow_up_comment", "satisfaction", "completion_notes", "labour_hours",
                       "parts", "failure_code", "waiting_for", "version", "recurrences", "related_assets",
                       "address", "caller_phone", "requester", "channel", "source_ref", "source"):
            batch.drop_column(column)
