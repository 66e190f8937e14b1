"""experiments: variants of a draft (spec overrides), each measured by an evaluation run

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("bot_id", sa.String(40), sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("set_name", sa.String(200), nullable=False),
        sa.Column("promoted", sa.String(100), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_experiments_bot_id", "experiments", ["bot_id"])
    op.create_table(
        "experiment_runs",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("experiment_id", sa.String(40), sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(100), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
    )
    op.create_index("ix_experiment_runs_experiment_id", "experiment_runs", ["experiment_id"])


def downgrade() -> None:
    op.drop_index("ix_experiment_runs_experiment_id", "experiment_runs")
    op.drop_table("experiment_runs")
    op.drop_index("ix_experiments_bot_id", "experiments")
    op.drop_table("experiments")
