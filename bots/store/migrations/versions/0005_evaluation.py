"""evaluation: test sets, runs, per-case results, gate settings, publish overrides

Revision ID: 0005
Revises: 0004

Test sets travel with a bot; runs measure a version on them; the publish gate refuses a draft
that regresses unless an owner overrides it, and the override's note is kept with the version.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "test_sets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("bot_id", sa.String(40), sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("bot_id", "name", name="uq_test_sets_bot_name"),
    )
    op.create_index("ix_test_sets_bot_id", "test_sets", ["bot_id"])
    op.create_table(
        "test_cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("set_id", sa.String(40), sa.ForeignKey("test_sets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_test_cases_set_id", "test_cases", ["set_id"])
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("bot_id", sa.String(40), sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("set_names", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errored", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("gate_key", sa.String(64), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("finished_at", nullable=True),
    )
    op.create_index("ix_eval_runs_bot_id", "eval_runs", ["bot_id"])
    op.create_index("ix_eval_runs_gate_key", "eval_runs", ["gate_key"])
    op.create_table(
        "eval_case_results",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("set_name", sa.String(200), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("must_pass", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("retrieved", sa.JSON(), nullable=False),
        sa.Column("expected_rank", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
    )
    op.create_index("ix_eval_case_results_run_id", "eval_case_results", ["run_id"])
    op.create_table(
        "gate_settings",
        sa.Column("bot_id", sa.String(40), sa.ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("set_names", sa.JSON(), nullable=True),
        sa.Column("min_pass_rate", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
    )
    with op.batch_alter_table("bot_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("override_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("gate", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_versions", schema=None) as batch_op:
        batch_op.drop_column("gate")
        batch_op.drop_column("override_note")
    op.drop_table("gate_settings")
    op.drop_index("ix_eval_case_results_run_id", "eval_case_results")
    op.drop_table("eval_case_results")
    op.drop_index("ix_eval_runs_gate_key", "eval_runs")
    op.drop_index("ix_eval_runs_bot_id", "eval_runs")
    op.drop_table("eval_runs")
    op.drop_index("ix_test_cases_set_id", "test_cases")
    op.drop_table("test_cases")
    op.drop_index("ix_test_sets_bot_id", "test_sets")
    op.drop_table("test_sets")
