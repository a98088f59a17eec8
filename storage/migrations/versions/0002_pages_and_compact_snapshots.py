"""pages and compact snapshots

A page seen again with the same status and parsed content no longer gets a snapshot
row of its own: the check records which pages it fetched (``page_set_id``) and how
long each took (``timings``). Existing snapshots are attached to new ``pages`` rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 17:58:38.591874
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("page_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("latest_snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "url"),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index("ix_actions_identifier", ["identifier"], unique=False)
        batch_op.create_index("ix_actions_platform_id", ["platform_id"], unique=False)

    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_set_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("timings", sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key(
            "fk_checks_page_set_id_page_sets", "page_sets", ["page_set_id"], ["id"]
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_check", ["check_id"], unique=False)

    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_snapshots_page_id", ["page_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_snapshots_page_id_pages", "pages", ["page_id"], ["id"]
        )

    _attach_existing_snapshots()


def _attach_existing_snapshots() -> None:
    # Snapshots written before 0002 (one per page per check) get their pages rows.
    op.execute(
        """
        INSERT INTO pages (source_id, url)
        SELECT DISTINCT checks.source_id, snapshots.url
        FROM snapshots JOIN checks ON checks.id = snapshots.check_id
        """
    )
    op.execute(
        """
        UPDATE snapshots SET page_id = (
            SELECT pages.id FROM pages JOIN checks ON checks.source_id = pages.source_id
            WHERE checks.id = snapshots.check_id AND pages.url = snapshots.url
        )
        """
    )
    op.execute(
        """
        UPDATE pages SET latest_snapshot_id = (
            SELECT max(snapshots.id) FROM snapshots WHERE snapshots.page_id = pages.id
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_constraint("fk_snapshots_page_id_pages", type_="foreignkey")
        batch_op.drop_index("ix_snapshots_page_id")
        batch_op.drop_column("pruned_at")
        batch_op.drop_column("page_id")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_check")

    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_constraint("fk_checks_page_set_id_page_sets", type_="foreignkey")
        batch_op.drop_column("timings")
        batch_op.drop_column("page_set_id")

    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index("ix_actions_platform_id")
        batch_op.drop_index("ix_actions_identifier")

    op.drop_table("pages")
    op.drop_table("page_sets")
