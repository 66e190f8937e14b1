"""handoff inbox: status, assignee and the e-mails and webhooks sent about a hand-off

Revision ID: 0008
Revises: 0007

A hand-off request becomes an inbox item (new, assigned, answered, closed); each e-mail or
webhook sent about it is a row, so a failed delivery is recorded and shown.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        # Requests from before the inbox start as "new": nobody has answered them here.
        batch_op.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="new"))
        batch_op.add_column(sa.Column("assignee", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_handoffs_status", ["status"])
    op.create_table(
        "handoff_deliveries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("handoff_id", sa.String(40), sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_handoff_deliveries_handoff_id", "handoff_deliveries", ["handoff_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_deliveries_handoff_id", "handoff_deliveries")
    op.drop_table("handoff_deliveries")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index("ix_handoffs_status")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("assignee")
        batch_op.drop_column("status")
