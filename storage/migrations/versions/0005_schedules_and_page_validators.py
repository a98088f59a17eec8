"""schedules and page validators

``schedules``: one row per periodic job (a source's check, a daily job) with the slot
it is next due for; ``planwatch run`` processes claim due rows (monitor/scheduling.py).
``page_validators``: the ETag and Last-Modified of each page's latest full answer,
sent back as a conditional request (monitor/conditional.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 18:03:32.769358
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("key", sa.String(length=240), nullable=False),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_runner", sa.String(length=200), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "page_validators",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.String(length=80), nullable=True),
        sa.Column("full_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"]),
        sa.PrimaryKeyConstraint("page_id"),
    )


def downgrade() -> None:
    op.drop_table("page_validators")
    op.drop_table("schedules")
