"""history query indexes

Indexes for the history queries on large databases (bench/query_latency.py): an
action's events in time order, a source's events in time order, and the versions a
check opened (retention asks it of every old snapshot).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_versions", schema=None) as batch_op:
        batch_op.create_index("ix_action_versions_check", ["check_id"], unique=False)

    with op.batch_alter_table("organization_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organization_versions_check", ["check_id"], unique=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_source_action",
            ["source_id", "action_platform_id", "observed_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_events_source_observed", ["source_id", "observed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_source_observed")
        batch_op.drop_index("ix_events_source_action")

    with op.batch_alter_table("organization_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_organization_versions_check")

    with op.batch_alter_table("action_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_action_versions_check")
