"""SQL tables: the source of truth. The vector index can be rebuilt from `chunks`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bots.core.status import DocumentStatus, JobStatus


def now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class Base(DeclarativeBase):
    pass


class Bot(Base):
    __tablename__ = "bots"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("bot"))
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="en")
    embedding_model: Mapped[str] = mapped_column(String(100))
    # The Chroma collection searches use; a re-index fills a new one and then switches.
    vector_collection: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    # Bumped whenever the bot's searchable chunks change; search snapshots are keyed on it.
    knowledge_generation: Mapped[int] = mapped_column(Integer, default=0)
    # The version the public API serves; None until the first publish.
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("doc"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(300))  # the name the user gave the file
    stored_name: Mapped[str] = mapped_column(String(100))  # generated; never user-controlled
    content_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.QUEUED)  # a DocumentStatus
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    # The version whose chunks searches see; a re-ingest writes version+1 and then flips this.
    active_version: Mapped[int] = mapped_column(Integer, default=0)
    # Several server processes (issue #17): the highest version an ingest began. Each attempt
    # takes the next number, so the chunks and vectors of an attempt a taken-over process is
    # still writing never share ids with the attempt that replaced it.
    last_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)
    __table_args__ = (Index("ix_documents_bot_source", "bot_id", "source"),)


class Chunk(Base):
    __tablename__ = "chunks"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headings: Mapped[list] = mapped_column(JSON, default=list)
    # An FAQ entry's question, embedded on its own too (vector id: question_vector_id).
    question: Mapped[str | None] = mapped_column(Text, nullable=True)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("job"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # ingest | reindex
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED)  # a JobStatus
    # [{"document_id", "source", "status": an ItemStatus, "error"}]
    items: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)
    # Several server processes (issue #17, bots/leases.py): who works the job and until when,
    # and what the item being worked on is doing ({"stage", "embedded", "chunks"}), so that
    # any process can show it.
    lease_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    live: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class BotVersion(Base):
    """A published spec, frozen: edits go to the bot's draft (`Bot.spec`), never here."""

    __tablename__ = "bot_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    # Set when an owner published although the publish gate refused: why, in their words.
    override_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What the gate measured ({"pass_rate", "run_id", "refusals"}); None: no gate ran.
    gate: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The corrected answers it was published with (bots/corrected_answers.py snapshot()):
    # edits after publishing reach the draft only. None: published before they existed.
    corrected_answers: Mapped[list | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    __table_args__ = (UniqueConstraint("bot_id", "number", name="uq_bot_versions_bot_number"),)


class ApiKey(Base):
    """Only a hash is stored: the plaintext is shown once, at creation."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("key"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # secret | publishable
    prefix: Mapped[str] = mapped_column(String(20))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Conversation(Base):
    __tablename__ = "conversations"
    # Unguessable: 192 random bits. Knowing it is still not enough; see `owner`.
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    # Who may continue and read it: "key:<api key id>", "session" (the signed token carries
    # the conversation id) or "admin".
    owner: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(20))  # api | widget | openai | playground
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the draft
    # Questions and answers stored or reserved (a question counts its answer before it
    # exists): the length limit is checked and raised in one conditional UPDATE of this.
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("msg"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[str] = mapped_column(String(40), index=True)
    role: Mapped[str] = mapped_column(String(20))  # user | assistant
    content: Mapped[str] = mapped_column(Text)
    citations: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    # Assistant messages: "model" (generated or quoted from the documents), "corrected" (a
    # corrected answer the support team wrote) or "fallback". None on questions.
    answered_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(60), nullable=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    debug: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # A client's Idempotency-Key on the question, so a retried request is answered once.
    request_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reply_to: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    __table_args__ = (
        UniqueConstraint("conversation_id", "request_key", name="uq_messages_request_key"),
        # The review inbox walks a bot's answers newest first and stops early (bots/review.py).
        Index("ix_messages_bot_role_created", "bot_id", "role", "created_at"),
    )


class Feedback(Base):
    __tablename__ = "feedback"
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    rating: Mapped[str] = mapped_column(String(10))  # up | down
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)


class HandoffRequest(Base):
    __tablename__ = "handoffs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("hnd"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(300), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(60), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    # The inbox (migration 0008): a HandoffStatus, who on the team has it, when it last moved.
    status: Mapped[str] = mapped_column(String(20), default="new", server_default="new", index=True)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TestSet(Base):
    """A bot's named set of test cases; a draft is measured against them before it goes live."""

    __tablename__ = "test_sets"
    __test__ = False  # not a pytest class, despite its name
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("set"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)
    __table_args__ = (UniqueConstraint("bot_id", "name", name="uq_test_sets_bot_name"),)


class TestCase(Base):
    __tablename__ = "test_cases"
    __test__ = False
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    set_id: Mapped[str] = mapped_column(ForeignKey("test_sets.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    # The case as `bots.test_sets.Case` validated it (question, expected_sources, ...).
    data: Mapped[dict] = mapped_column(JSON)


class EvalRun(Base):
    """One version of a bot measured on test sets; per-case results in `eval_case_results`."""

    __tablename__ = "eval_runs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("run"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(20))  # "draft" or a version number, as asked
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the draft
    set_names: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|done|cancelled|failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errored: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    # Hash of spec + knowledge generation + the sets' content: a finished run with the same
    # key measured exactly what a new one would, so the publish gate reuses it.
    gate_key: Mapped[str] = mapped_column(String(64), index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class EvalCaseResult(Base):
    __tablename__ = "eval_case_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"), index=True)
    set_name: Mapped[str] = mapped_column(String(200))
    ordinal: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # passed | failed | errored
    must_pass: Mapped[bool] = mapped_column(Boolean, default=False)
    checks: Mapped[dict] = mapped_column(JSON, default=dict)  # {name: {"passed", "reason"}}
    retrieved: Mapped[list] = mapped_column(JSON, default=list)  # [{"source", "page", "chunk_id", "score"}]
    expected_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-based; None: not retrieved
    answer: Mapped[str] = mapped_column(Text, default="")
    citations: Mapped[list] = mapped_column(JSON, default=list)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)


class GateSettings(Base):
    """Which sets gate publishing and how well the draft must do; no row: the defaults."""

    __tablename__ = "gate_settings"
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)
    set_names: Mapped[list | None] = mapped_column(JSON, nullable=True)  # None: every set of the bot
    min_pass_rate: Mapped[float] = mapped_column(Float, default=0.8)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


# --- hand-off inbox: e-mails and webhooks sent about a hand-off ---------------------------
class HandoffDelivery(Base):
    """One notification or reply sent outside the server (e-mail, webhook), sent in the
    background: its row says whether it went out, so a failure is shown, not lost."""

    __tablename__ = "handoff_deliveries"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("dlv"))
    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # team_email | team_webhook | customer_email
    target: Mapped[str] = mapped_column(String(500))  # the address or URL it went to
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# --- experiments (session 6): variants of a draft measured side by side -------------------


class Experiment(Base):
    """Variants of a bot's draft (spec overrides) each measured by an evaluation run on one set."""

    __tablename__ = "experiments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("exp"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    set_name: Mapped[str] = mapped_column(String(200))
    promoted: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the variant made the draft
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ExperimentRun(Base):
    """One variant of an experiment: its overrides, and the run that measured the draft with them."""

    __tablename__ = "experiment_runs"
    run_id: Mapped[str] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str] = mapped_column(String(100))
    overrides: Mapped[dict] = mapped_column(JSON, default=dict)


# --- Website knowledge (issue #16): crawled sources, their pages and sync history ---------


class WebSource(Base):
    """A site a bot's knowledge comes from: a start address to crawl, a sitemap, or a list."""

    __tablename__ = "web_sources"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("web"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # crawl | sitemap | urls
    url: Mapped[str] = mapped_column(Text)  # the start address or the sitemap
    urls: Mapped[list] = mapped_column(JSON, default=list)  # kind "urls": the addresses
    include: Mapped[list] = mapped_column(JSON, default=list)
    exclude: Mapped[list] = mapped_column(JSON, default=list)
    max_pages: Mapped[int] = mapped_column(Integer, default=500)
    max_depth: Mapped[int] = mapped_column(Integer, default=5)
    respect_robots: Mapped[bool] = mapped_column(Boolean, default=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    schedule: Mapped[str] = mapped_column(String(10), default="none")  # none | hourly | daily | weekly
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class WebPage(Base):
    """One address of a source as last fetched; `document_id` holds its indexed text."""

    __tablename__ = "web_pages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("web_sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    document_id: Mapped[str | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    etag: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # sha256 of the extracted text: the same text under two addresses is indexed once, and
    # a page whose bytes changed but whose text did not (a new ad, a date) costs no embedding.
    text_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Its links as last read: a 304 has no body, and a re-sync must still follow them.
    links: Mapped[list] = mapped_column(JSON, default=list)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (UniqueConstraint("source_id", "url", name="uq_web_pages_source_url"),)


class WebSync(Base):
    """One crawl or re-sync of a source: its progress while it runs, its history after."""

    __tablename__ = "web_syncs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sync"))
    source_id: Mapped[str] = mapped_column(ForeignKey("web_sources.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[str] = mapped_column(String(40), index=True)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")  # manual | schedule
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED)  # a JobStatus
    # {"found", "fetched", "indexed", "unchanged", "removed", "failed", "skipped"}
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # [{"url", "event": added|changed|removed|failed|skipped, "reason"}], capped
    events: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Several server processes (issue #17, bots/leases.py): who runs the sync and until when.
    lease_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# --- Corrected answers and the review inbox (issue #14) ------------------------------------


class CorrectedAnswer(Base):
    """An answer the support team approved for a question and its paraphrases, per bot;
    reused word for word when a customer's question is close enough (bots/corrected_answers.py)."""

    __tablename__ = "corrected_answers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("cor"))
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    paraphrases: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON, default=list)  # [{"source": str, "page": int | None}]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    hit_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(60), default="admin")  # "admin" until accounts exist
    updated_by: Mapped[str] = mapped_column(String(60), default="admin")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, onupdate=now)


class ReviewAction(Base):
    """What a reviewer did with an answer in the review inbox, and who and when: "reviewed"
    (it leaves the queue), "corrected", "added_to_test_set"."""

    __tablename__ = "review_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. {"corrected_answer_id": ...}
    actor: Mapped[str] = mapped_column(String(60), default="admin")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


# --- Team use: accounts, API tokens and the audit log (issue #15, item 10) -----------------


class User(Base):
    """A person who signs in to the builder or the CLI. `password_hash` is bcrypt's; None for
    the first owner until they choose one (they sign in with the admin token until then)."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("usr"))
    name: Mapped[str] = mapped_column(String(200), unique=True)  # a login name or an email
    password_hash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    role: Mapped[str] = mapped_column(String(20))  # a bots.core.roles.Role
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ApiToken(Base):
    """A credential of one user: a builder session (expires) or a named API token for the CLI.
    Only the SHA-256 of the secret is kept; the secret is shown once, when it is made."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("tok"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # "session" or "api"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """Who changed what: one row per accepted change made through the admin API. The user's
    name is copied so the row still reads right after the account is deleted."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    user_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    user_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    bot_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


# --- Several server processes (issue #17): rate limits shared by every process ---------------


class RateBucket(Base):
    """One token bucket of the shared rate limiter (bots.store.rate_buckets): its tokens
    left and when they were last counted, in seconds since the epoch (a float compares and
    subtracts the same way on SQLite and Postgres, where timestamps would not)."""

    __tablename__ = "rate_buckets"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    counted_at: Mapped[float] = mapped_column(Float, index=True)
    # Whether the hit that last counted this bucket was let through: an upsert returns it.
    allowed: Mapped[bool] = mapped_column(Boolean)
