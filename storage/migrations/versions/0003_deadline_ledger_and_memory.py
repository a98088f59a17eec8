"""deadline ledger, record memory, plan settings

The reminder ledger of staleness and task deadlines, the recent field values of each
record (so an A/B flip alerts once), and the staleness lines each source goes by.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 18:02:00.237700
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadline_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("action_platform_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alert_index", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "subject"),
    )
    with op.batch_alter_table("deadline_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deadline_ledger_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "plan_settings",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_days", sa.Integer(), nullable=False),
        sa.Column("acceptable_days", sa.Integer(), nullable=False),
        sa.Column("stale_days", sa.Integer(), nullable=False),
        sa.Column("limits_from", sa.String(length=20), nullable=False),
        sa.Column("plan_limits", sa.JSON(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
        ),
        sa.PrimaryKeyConstraint("source_id"),
    )
    op.create_table(
        "record_memory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sa.String(length=20), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("recent", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "record_kind", "platform_id"),
    )
    with op.batch_alter_table("record_memory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_record_memory_source_id"), ["source_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("record_memory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_memory_source_id"))

    op.drop_table("record_memory")
    op.drop_table("plan_settings")
    with op.batch_alter_table("deadline_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_ledger_source_id"))

    op.drop_table("deadline_ledger")
