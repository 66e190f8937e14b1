"""web sources: crawled sites, their pages and sync history (issue #16)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "web_sources",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("bot_id", sa.String(40), sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("include", sa.JSON(), nullable=False),
        sa.Column("exclude", sa.JSON(), nullable=False),
        sa.Column("max_pages", sa.Integer(), nullable=False),
        sa.Column("max_depth", sa.Integer(), nullable=False),
        sa.Column("respect_robots", sa.Boolean(), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.Column("schedule", sa.String(10), nullable=False),
        _ts("last_sync_at", nullable=True),
        _ts("created_at"),
    )
    op.create_index("ix_web_sources_bot_id", "web_sources", ["bot_id"])
    op.create_table(
        "web_pages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(40), sa.ForeignKey("web_sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("document_id", sa.String(40), sa.ForeignKey("documents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("etag", sa.String(300), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("text_hash", sa.String(64), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        _ts("fetched_at", nullable=True),
        sa.UniqueConstraint("source_id", "url", name="uq_web_pages_source_url"),
    )
    op.create_index("ix_web_pages_source_id", "web_pages", ["source_id"])
    op.create_index("ix_web_pages_document_id", "web_pages", ["document_id"])
    op.create_table(
        "web_syncs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source_id", sa.String(40), sa.ForeignKey("web_sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("bot_id", sa.String(40), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("finished_at", nullable=True),
    )
    op.create_index("ix_web_syncs_source_id", "web_syncs", ["source_id"])
    op.create_index("ix_web_syncs_bot_id", "web_syncs", ["bot_id"])
    op.create_index("ix_web_syncs_created_at", "web_syncs", ["created_at"])


def downgrade() -> None:
    op.drop_table("web_syncs")
    op.drop_table("web_pages")
    op.drop_table("web_sources")
