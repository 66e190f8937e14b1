"""The composition root: builds the stores and workers from settings. Only the server
process creates a Runtime, so only it opens SQLite's writer and Chroma's embedded store."""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bots.chat import Chat, Limits
from bots.core.spec import ModelSettings
from bots.corrected_answers import Matcher
from bots.evaluation import Evaluator, recover_runs
from bots.file_modes import create_once, private_dir, warn_if_exposed, write_private
from bots.handoffs import Handoffs
from bots.ingestion import JobRunner
from bots.knowledge_base import KnowledgeBase
from bots.llm.local_model import LocalModelServer
from bots.llm.protocol import ChatModel
from bots.llm.providers import OpenAIChatModel
from bots.rate_limit import Limiter, RateLimiter
from bots.settings import Settings
from bots.store import accounts
from bots.store import tables as t
from bots.store.db import Pool, check_reachable, make_engine, migrate, session_factory
from bots.store.keys import SessionSigner, ensure_session_secret
from bots.store.rate_buckets import SharedRateLimiter
from bots.store.versions import VersionError, resolve
from bots.web_sync import WebConfig, WebSyncRunner
from knowledge.embedding import EmbedderCache
from knowledge.loading import load
from knowledge.vector_index import VectorIndex
from knowledge.web.fetch import DEFAULT_USER_AGENT, FetchPolicy
from knowledge.web.fetch import Limits as FetchLimits


class ChatModels:
    """One client per distinct model configuration, reused across questions; the bundled
    model's server is started on the first question a local-model bot gets, not at boot:
    many servers only use hosted models, and loading it costs memory."""

    def __init__(self, settings: Settings, local_model: LocalModelServer):
        self._settings = settings
        self.local_model = local_model
        self._models: dict[tuple, ChatModel] = {}
        self._lock = threading.Lock()

    def __call__(self, model: ModelSettings) -> ChatModel:
        local_url = None
        if model.provider == "local" and not model.base_url:
            local_url = self.local_model.ensure_started()
        key = (model.model_dump_json(context={"reveal_secrets": True}), local_url)
        with self._lock:
            if key not in self._models:
                openai_key = self._settings.openai_api_key
                self._models[key] = OpenAIChatModel.from_settings(
                    model, keys={"openai": openai_key} if openai_key else {}, local_base_url=local_url
                )
            return self._models[key]

    def close(self) -> None:
        with self._lock:
            for model in self._models.values():
                model.close()
            self._models.clear()
        self.local_model.close()


@dataclass(frozen=True)
class Runtime:
    """Everything the server needs, built whole by `build()`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker
    vectors: VectorIndex
    embedders: EmbedderCache
    kb: KnowledgeBase
    jobs: JobRunner
    admin_token: str
    signer: SessionSigner
    limiter: Limiter
    models: ChatModels
    chat: Chat
    handoffs: Handoffs
    evaluator: Evaluator
    web: WebSyncRunner
    corrections: Matcher

    @classmethod
    def build(cls, settings: Settings, embedders: EmbedderCache | None = None, *, prepared: bool = False) -> Runtime:
        """`prepared`: `prepare(settings)` already ran for this start (several workers: their
        parent ran it once); otherwise it runs here, as for the one process of `serve`."""
        home = settings.home
        if not prepared:
            prepare(settings)
        engine = make_engine(settings.resolved_database_url, database_pool(settings))
        check_reachable(engine)  # a database that refuses connections stops the start, saying so
        sessions = session_factory(engine)
        vectors = VectorIndex.open(path=settings.chroma_dir, url=settings.chroma_url)
        embedders = embedders or EmbedderCache()
        loader = lambda path, name: load(path, name, max_pages=settings.max_pdf_pages)  # noqa: E731
        kb = KnowledgeBase(sessions, vectors, embedders, loader, settings.uploads_dir)
        models = ChatModels(settings, LocalModelServer(log_path=home / "local_model.log"))
        corrections = Matcher(sessions, embedders, kb.search)
        evaluator = Evaluator(
            sessions,
            kb.search,
            models,
            judge=server_judge(settings),
            workers=settings.eval_workers,
            corrections=corrections,
        )
        admin_token = settings.admin_token or ensure_admin_token(home)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            vectors=vectors,
            embedders=embedders,
            kb=kb,
            jobs=JobRunner(sessions, kb, workers=settings.ingest_workers, lease_s=settings.job_lease_s),
            admin_token=admin_token,
            signer=SessionSigner(settings.session_secret or ensure_session_secret(home), ttl_s=settings.session_ttl_s),
            limiter=SharedRateLimiter(sessions) if settings.shared_rate_limits else RateLimiter(),
            models=models,
            chat=Chat(
                sessions,
                kb.search,
                models,
                Limits(settings.max_message_chars, settings.max_conversation_messages),
                corrections,
            ),
            handoffs=Handoffs(sessions, settings),
            evaluator=evaluator,
            web=WebSyncRunner(sessions, kb, loader, settings.uploads_dir, web_config(settings)),
            corrections=corrections,
        )

    def start(self) -> None:
        self.jobs.start()
        self.web.start()

    def stop(self) -> None:
        self.evaluator.stop()  # before the models close: a case being answered finishes first
        self.web.stop()
        self.jobs.stop()
        self.handoffs.stop()
        self.models.close()
        self.engine.dispose()

    def chat_model(self, model: ModelSettings) -> ChatModel:
        """The bot model's client (the benchmarks ask the pipeline directly with it)."""
        return self.models(model)

    def allowed_origins(self, bot_id: str) -> list[str] | None:
        """The published version's allowed origins ([] before the first publish), or None
        when there is no such bot. The widget's CSP and the public API's CORS use it."""
        with self.sessions() as s:
            bot = s.get(t.Bot, bot_id)
            if bot is None:
                return None
            try:
                return list(resolve(s, bot, "published").spec.allowed_origins)
            except VersionError:
                return []


def prepare(settings: Settings) -> None:
    """What runs once per start, before any process serves: folders, migrations, the admin
    token and session secret files, the first owner, and failing the evaluation runs a
    stopped server left behind. `serve --workers N` runs it in the parent, so N workers do not
    race to create the same files and rows, and a worker that uvicorn restarts after a crash
    does not fail the runs its siblings are doing."""
    home = settings.home
    warn_if_exposed(home)
    private_dir(home)
    private_dir(settings.uploads_dir)
    if not settings.chroma_url:  # a Chroma server keeps its own files
        private_dir(settings.chroma_dir)
    engine = make_engine(settings.resolved_database_url, Pool(size=1, max_overflow=0))
    try:
        check_reachable(engine)  # a database that refuses connections stops the start, saying so
        migrate(engine)
        sessions = session_factory(engine)
        recover_runs(sessions)  # runs a previous server process left unfinished: none of ours exists yet
        admin_token = settings.admin_token or ensure_admin_token(home)
        try:
            with sessions() as session:
                accounts.ensure_first_owner(session, admin_token)  # the admin token is the first owner's
        except IntegrityError:
            # A replica starting at the same moment made the first owner: now it is found.
            with sessions() as session:
                accounts.ensure_first_owner(session, admin_token)
        if not settings.session_secret:
            ensure_session_secret(home)
    finally:
        engine.dispose()


def database_pool(settings: Settings) -> Pool:
    return Pool(
        size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        timeout_s=settings.database_pool_timeout_s,
        connect_timeout_s=settings.database_connect_timeout_s,
    )


def server_judge(settings: Settings) -> ModelSettings | None:
    """The server-wide judge model of evaluation runs, or None when none is configured."""
    if not settings.judge_base_url:
        return None
    return ModelSettings(
        provider="openai_compatible",
        base_url=settings.judge_base_url,
        model=settings.judge_model,
        api_key=settings.judge_api_key,
        timeout_s=settings.judge_timeout_s,
        max_retries=0,  # a judge that fails is reported per case, not retried at length
        temperature=0.0,
    )


def web_config(settings: Settings) -> WebConfig:
    return WebConfig(
        policy=FetchPolicy.from_entries(settings.fetch_allow_entries),
        limits=FetchLimits(
            max_bytes=int(settings.fetch_max_mb * 1024 * 1024), timeout_s=settings.fetch_timeout_s, max_redirects=5
        ),
        delay_s=settings.crawl_delay_s,
        user_agent=settings.crawl_user_agent or DEFAULT_USER_AGENT,
        schedule_check_s=settings.web_schedule_check_s,
        max_pdf_pages=settings.max_pdf_pages,
        lease_s=settings.job_lease_s,
    )


def ensure_admin_token(home: Path) -> str:
    """Created once, readable by the owner only; the CLI reads it from the same place."""
    return create_once(home / "admin_token", "adm_" + secrets.token_urlsafe(32))


def write_server_info(home: Path, url: str) -> None:
    write_private(home / "server.json", json.dumps({"url": url, "pid": os.getpid()}))
