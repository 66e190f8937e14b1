"""conversation message count

Revision ID: 0004
Revises: 0003

A counter per conversation, so that the length limit is checked and taken in one
conditional UPDATE (`bots.chat.Chat._reserve_turn`). Filled from the messages already stored.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_count", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE conversations SET message_count = "
        "(SELECT count(*) FROM messages WHERE messages.conversation_id = conversations.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("message_count")
