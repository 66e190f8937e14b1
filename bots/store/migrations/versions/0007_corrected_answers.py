"""corrected answers, frozen with each published version; the review inbox's actions

Revision ID: 0007
Revises: 0006

A corrected answer is written once by the support team and reused for the question and its
paraphrases; a published version keeps the list it was published with (a JSON snapshot in
its row), so editing one changes the draft only. Reviewers' actions on answers in the review
inbox are recorded with who and when.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrected_answers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("bot_id", sa.String(40), sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("paraphrases", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("hit_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(60), nullable=False),
        sa.Column("updated_by", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_corrected_answers_bot_id", "corrected_answers", ["bot_id"])
    op.create_table(
        "review_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("bot_id", sa.String(40), sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("message_id", sa.String(40), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_actions_bot_id", "review_actions", ["bot_id"])
    op.create_index("ix_review_actions_message_id", "review_actions", ["message_id"])
    with op.batch_alter_table("bot_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrected_answers", sa.JSON(), nullable=True))
    # The review inbox reads a bot's newest answers first and stops after a bounded number.
    op.create_index("ix_messages_bot_role_created", "messages", ["bot_id", "role", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_bot_role_created", table_name="messages")
    with op.batch_alter_table("bot_versions", schema=None) as batch_op:
        batch_op.drop_column("corrected_answers")
    op.drop_index("ix_review_actions_message_id", table_name="review_actions")
    op.drop_index("ix_review_actions_bot_id", table_name="review_actions")
    op.drop_table("review_actions")
    op.drop_index("ix_corrected_answers_bot_id", table_name="corrected_answers")
    op.drop_table("corrected_answers")
