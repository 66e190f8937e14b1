"""who answered: the model, a corrected answer, or the fallback

Revision ID: 0006
Revises: 0005

Analytics and the review inbox count answers by who gave them; a corrected answer (written
once by the support team, reused for paraphrases) is neither the model's nor a fallback.
Answers stored before this revision are filled from their fallback flag.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_by", sa.String(16), nullable=True))
    op.execute(
        "UPDATE messages SET answered_by = CASE WHEN fallback THEN 'fallback' ELSE 'model' END WHERE role = 'assistant'"
    )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("answered_by")
