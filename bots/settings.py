"""The one settings object, read from PROMPTEUR_* environment variables in composition roots."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROMPTEUR_", extra="ignore")

    home: Path = Field(
        default=Path.home() / ".prompteur",
        description="Data folder: uploads, SQLite database, Chroma index, admin token.",
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in `home` when unset.")
    chroma_url: str | None = Field(default=None, description="Chroma server URL; embedded Chroma in `home` when unset.")
    # Postgres and a Chroma server (issue #17): the database pool, and how long anyone waits on it.
    database_pool_size: int = Field(default=5, ge=1, description="Database connections the server keeps open.")
    database_max_overflow: int = Field(
        default=10, ge=0, description="Extra database connections opened when all pooled ones are busy."
    )
    database_pool_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest a request waits for a free database connection before a 503 with Retry-After.",
    )
    database_connect_timeout_s: float = Field(
        default=5.0, gt=0, description="Longest the server waits for Postgres to accept a new connection."
    )
    public_url: str | None = Field(
        default=None,
        description="The server's address as sites and integrations reach it (e.g. https://chat.example.com), used in embed snippets; unset: the address of each request.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    # Several server processes (issue #17): see README "Running several processes".
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes `prompteur serve` starts (uvicorn workers); more than 1 needs PROMPTEUR_CHROMA_URL.",
    )
    rate_limit_store: Literal["auto", "memory", "database"] = Field(
        default="auto",
        description="Where rate-limit buckets live: 'memory' (one process), 'database' (shared by every process), or 'auto': the database when several processes may serve (workers > 1 or a database other than SQLite).",
    )
    admin_token: str | None = Field(
        default=None, description="Fixed admin token; generated into home/admin_token when unset."
    )
    max_upload_mb: int = 50
    # Every other body is parsed on the event loop before auth runs: keep them small.
    max_public_body_kb: int = Field(
        default=64, ge=1, description="Largest request body on the public API (chat, sessions, OpenAI-compatible)."
    )
    max_admin_body_kb: int = Field(
        default=1024, ge=1, description="Largest JSON body on the admin API (document uploads have max_upload_mb)."
    )
    max_pdf_pages: int = 5000
    ingest_workers: int = 1
    job_lease_s: float = Field(
        default=30.0,
        ge=0.5,
        description="How long a server process's claim on an ingestion job or web sync lasts unless renewed (it is, every second, while the process works): another process takes the work over after it.",
    )
    # Public API: sessions, limits and the proxies whose X-Forwarded-For we believe.
    session_secret: str | None = Field(
        default=None,
        description="HMAC key for widget session tokens; generated into home/session_secret when unset (set the same value on every replica).",
    )
    session_ttl_s: int = Field(default=3600, ge=60)
    max_message_chars: int = Field(default=2000, ge=1)
    max_conversation_messages: int = Field(
        default=100, ge=2, description="Messages (questions and answers) one conversation may hold."
    )
    rate_per_ip: int = Field(default=30, ge=1, description="Public requests per minute from one client IP.")
    rate_per_session: int = Field(default=20, ge=1, description="Questions per minute in one session or with one key.")
    rate_per_bot: int = Field(default=600, ge=1, description="Questions per minute to one bot from everyone.")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="IPs/CIDRs of reverse proxies whose X-Forwarded-For is trusted."
    )
    openai_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMPTEUR_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="Server-wide OpenAI key for bots that set provider 'openai' without their own.",
    )
    # Evaluation: the server-wide LLM judge (a bot's spec may set its own) and run parallelism.
    judge_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible base URL of the judge model that grades evaluation runs; unset: no judge.",
    )
    judge_model: str = Field(default="", description="The judge's model name (empty: the provider's default).")
    judge_api_key: str | None = Field(default=None, description="The judge endpoint's API key.")
    judge_timeout_s: float = Field(default=30.0, gt=0, le=600)
    eval_workers: int = Field(
        default=1, ge=1, le=16, description="Cases of one evaluation run answered at once (1 suits a 2-core machine)."
    )

    # Hand-off inbox: replies to customers by e-mail, and the team told of new requests.
    smtp_host: str | None = Field(default=None, description="SMTP server for hand-off e-mails; unset: no e-mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field(default="prompteur@localhost", description="From: address of hand-off e-mails.")
    handoff_notify_emails: list[str] = Field(
        default_factory=list, description="JSON list of team addresses told of each new hand-off request."
    )
    handoff_webhook_url: str | None = Field(
        default=None, description="URL that gets a signed JSON POST for each new hand-off request."
    )
    handoff_webhook_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key of the webhook's X-Prompteur-Signature header."
    )

    @model_validator(mode="after")
    def _webhook_is_signed(self) -> Settings:
        # An unsigned webhook lets anyone who finds the receiver's URL post fake hand-offs.
        if self.handoff_webhook_url and not self.handoff_webhook_secret:
            raise ValueError(
                "PROMPTEUR_HANDOFF_WEBHOOK_URL needs PROMPTEUR_HANDOFF_WEBHOOK_SECRET to sign its payloads"
            )
        return self

    # Website knowledge (issue #16): what crawls may reach and how politely they go.
    fetch_allow: str = Field(
        default="",
        description="Hosts or networks (CIDR) crawls may fetch although they are private, comma-separated (e.g. intranet.example.com,10.0.0.0/8). By default only public addresses are fetched.",
    )
    crawl_delay_s: float = Field(default=1.0, ge=0, description="Pause between two requests to the same host.")
    fetch_timeout_s: float = Field(default=20.0, gt=0, description="Longest a crawl waits for one page, body included.")
    fetch_max_mb: float = Field(
        default=10.0, gt=0, description="Largest page or document a crawl reads (after decompression)."
    )
    crawl_user_agent: str = Field(default="", description="User agent of crawls; unset: PrompteurBot.")
    web_schedule_check_s: float = Field(default=60.0, gt=0, description="How often scheduled syncs are looked for.")
    # Team use (issue #15, item 10)
    login_session_hours: float = Field(
        default=12.0, gt=0, description="How long a builder sign-in lasts before the person signs in again."
    )
    login_attempts_per_minute: int = Field(
        default=10, ge=1, description="Sign-in attempts per minute from one client IP, and for one user name."
    )

    @property
    def fetch_allow_entries(self) -> list[str]:
        return [e.strip() for e in self.fetch_allow.split(",") if e.strip()]

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'prompteur.db'}"

    @property
    def shared_rate_limits(self) -> bool:
        """True when rate limits must hold across processes: a Postgres (or other server)
        database is what replicas share, and workers share even a SQLite file."""
        if self.rate_limit_store != "auto":
            return self.rate_limit_store == "database"
        return self.workers > 1 or not self.resolved_database_url.startswith("sqlite")

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"
