"""leases: jobs and web syncs claimed by any server process

Revision ID: 0012
Revises: 0011

Several server processes share the jobs and web syncs (bots/leases.py): each row says who
works it and until when, and a job's live progress is in its row for every process to read.
Documents count the versions an ingest began, so two attempts never write the same ids;
it starts at the active version (the highest any ingest finished).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(120), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("live", sa.JSON(), nullable=True))
    with op.batch_alter_table("web_syncs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(120), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_version", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE documents SET last_version = active_version")


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("last_version")
    with op.batch_alter_table("web_syncs", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("live")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
