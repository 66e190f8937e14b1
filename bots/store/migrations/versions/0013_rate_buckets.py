"""several server processes: rate-limit buckets shared in the database

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("counted_at", sa.Float(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_rate_buckets_counted_at", "rate_buckets", ["counted_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_buckets_counted_at", table_name="rate_buckets")
    op.drop_table("rate_buckets")
