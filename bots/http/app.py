"""The FastAPI application: the HTTP shell around the runtime."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bots import log_redaction
from bots.file_modes import restrict_new_files
from bots.http import errors
from bots.http.middleware.audit import AuditLog
from bots.http.middleware.body_limit import BodyLimit, Limits
from bots.http.middleware.public_cors import PublicCors
from bots.http.routes import (
    admin_analytics,
    admin_bots,
    admin_conversations,
    admin_embed,
    admin_handoffs,
    admin_knowledge,
    admin_providers,
    admin_server,
    admin_versions,
    corrected_answers,
    eval_cases,
    evaluation,
    experiments,
    openai_compat,
    public_chat,
    review,
    team,
    web_sources,
    widget,
)
from bots.runtime import Runtime
from bots.schemas.server import Health
from bots.settings import Settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, *, prepared: bool = False) -> FastAPI:
    """`prepared`: the stores were prepared by a parent process (bots.serve, several workers)."""
    settings = settings or Settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log_redaction.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log_redaction.install()  # again: uvicorn sets up its own handlers after create_app
        app.state.runtime = runtime or Runtime.build(settings, prepared=prepared)
        app.state.runtime.start()
        try:
            yield
        finally:
            app.state.runtime.stop()

    app = FastAPI(
        title="Prompteur",
        version="0.1.0",
        lifespan=lifespan,
        description="Admin API (builder, CLI) and public API (widget, integrations) of Prompteur.",
    )
    errors.install(app)
    app.include_router(admin_bots.router)
    app.include_router(admin_knowledge.router)
    app.include_router(admin_versions.router)
    app.include_router(admin_conversations.router)
    app.include_router(admin_server.router)
    app.include_router(admin_providers.router)
    app.include_router(public_chat.router)
    app.include_router(openai_compat.router)
    app.include_router(widget.router)
    app.include_router(admin_embed.router)
    app.include_router(evaluation.router)
    app.include_router(admin_handoffs.router)
    app.include_router(eval_cases.router)
    app.include_router(experiments.router)
    app.include_router(admin_analytics.router)
    app.include_router(web_sources.router)
    app.include_router(corrected_answers.router)
    app.include_router(review.router)
    app.include_router(team.router)  # team use: sign-in, people, tokens, audit
    app.include_router(team.signed_in)

    @app.get("/healthz", tags=["health"], response_model=Health)
    def healthz() -> Health:
        return Health(status="ok")

    app.add_middleware(AuditLog)  # innermost: it sees the route and the caller after routing
    app.add_middleware(BodyLimit, limits=Limits.from_settings(settings))
    app.add_middleware(PublicCors, origins_of=lambda scope: scope["app"].state.runtime.allowed_origins)
    return app


def worker_app() -> FastAPI:
    """The app of one worker of `prompteur serve --workers N` (bots.serve), which uvicorn
    imports by name in each new worker process: its parent already ran `prepare`."""
    restrict_new_files()  # the umask is the process's own: each worker sets it again
    return create_app(Settings(), prepared=True)
