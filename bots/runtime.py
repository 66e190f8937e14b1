"""The composition root: builds the stores and workers from settings. Only the server
process creates a Runtime, so only it opens SQLite's writer and Chroma's embedded store."""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bots.db import make_engine, migrate, session_factory
from bots.ingestion import JobRunner
from bots.knowledge_base import KnowledgeBase
from bots.settings import Settings
from knowledge.embedding import EmbedderCache
from knowledge.loading import load
from knowledge.vector_index import VectorIndex


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    vectors: VectorIndex
    embedders: EmbedderCache
    kb: KnowledgeBase
    jobs: JobRunner
    admin_token: str

    @classmethod
    def build(cls, settings: Settings, embedders: EmbedderCache | None = None) -> "Runtime":
        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        sessions = session_factory(engine)
        vectors = VectorIndex.open(path=settings.chroma_dir, url=settings.chroma_url)
        embedders = embedders or EmbedderCache()
        loader = lambda path, name: load(path, name, max_pages=settings.max_pdf_pages)  # noqa: E731
        kb = KnowledgeBase(sessions, vectors, embedders, loader, settings.uploads_dir)
        jobs = JobRunner(sessions, kb, workers=settings.ingest_workers)
        return cls(settings, engine, sessions, vectors, embedders, kb, jobs,
                   admin_token=settings.admin_token or ensure_admin_token(home))

    def start(self) -> None:
        self.jobs.start()

    def stop(self) -> None:
        self.jobs.stop()
        self.engine.dispose()


def ensure_admin_token(home: Path) -> str:
    """Created once, readable by the owner only; the CLI reads it from the same place."""
    path = home / "admin_token"
    if path.exists():
        return path.read_text().strip()
    token = "adm_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def write_server_info(home: Path, url: str) -> None:
    (home / "server.json").write_text(json.dumps({"url": url, "pid": os.getpid()}))
