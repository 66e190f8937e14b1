"""`prompteur serve`: the server process, the only one that opens the stores; with
`--workers N`, a parent that prepares the stores once and N uvicorn worker processes."""

from __future__ import annotations

import os
import sys
from typing import Any

import uvicorn

from bots.file_modes import private_dir, restrict_new_files
from bots.http.app import create_app
from bots.runtime import prepare, write_server_info
from bots.settings import Settings

EMBEDDED_CHROMA_REFUSED = (
    "--workers {workers} needs a Chroma server: embedded Chroma keeps its index in {path}, which one "
    "process only may write. Start one (`chroma run --path /var/lib/prompteur-chroma --port 8001`) and "
    "set PROMPTEUR_CHROMA_URL=http://127.0.0.1:8001 (`prompteur kb reindex BOT` rebuilds each bot's "
    "vectors there from the database), or serve with one worker."
)

# uvicorn kills and replaces a worker that does not answer its parent's ping in time. A new
# worker imports the whole stack (Chroma, the embedding libraries) before its reply thread
# runs, which takes more than uvicorn's 5 s on a busy 2-core machine: it was replaced over and
# over, never serving. A minute still replaces a worker that is truly stuck.
WORKER_HEALTHCHECK_S = 60


def serve(host: str | None = None, port: int | None = None, workers: int | None = None) -> int:
    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None
    }
    settings = Settings(**overrides)
    if settings.workers > 1 and not settings.chroma_url:
        print(EMBEDDED_CHROMA_REFUSED.format(workers=settings.workers, path=settings.chroma_dir), file=sys.stderr)
        return 2
    restrict_new_files()
    private_dir(settings.home)
    write_server_info(settings.home, f"http://{settings.host}:{settings.port}")
    print(
        f"Prompteur server on http://{settings.host}:{settings.port}  (data in {settings.home}"
        + (f", {settings.workers} worker processes)" if settings.workers > 1 else ")"),
        flush=True,
    )
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 and
    # rewrite the client address, overriding PROMPTEUR_TRUSTED_PROXIES (bots.http.public_auth).
    if settings.workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", proxy_headers=False)
        return 0
    # Once, here, before any worker exists: migrations, token files, the first owner.
    prepare(settings)
    # The workers are new interpreters that read their settings from the environment: the
    # command line's values must reach them the same way (a worker's own count matters: it
    # chooses the shared rate limiter).
    os.environ.update({f"PROMPTEUR_{k.upper()}": str(v) for k, v in overrides.items()})
    uvicorn.run(
        "bots.http.app:worker_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        log_level="info",
        proxy_headers=False,
    )
    return 0
