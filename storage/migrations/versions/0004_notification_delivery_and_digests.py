"""notification delivery and digests

Outbox rows learn which subscription asked for them, which worker claimed them and
when, and how many sends a crash may have doubled; digest entries hold events until
a subscription's next digest.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 18:02:30.024477
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription", "event_id"),
    )
    with op.batch_alter_table("digest_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_digest_entries_pending", ["subscription", "period"], unique=False
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subscription", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_by", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "possible_duplicates",
                sa.Integer(),
                nullable=False,
                server_default="0",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("possible_duplicates")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("subscription")

    with op.batch_alter_table("digest_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_digest_entries_pending")

    op.drop_table("digest_entries")
