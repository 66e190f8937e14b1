"""`prompteur serve`: the server process, the only one that opens the stores."""

from __future__ import annotations

from typing import Any

import uvicorn

from bots.file_modes import private_dir, restrict_new_files
from bots.http.app import create_app
from bots.runtime import write_server_info
from bots.settings import Settings


def serve(host: str | None = None, port: int | None = None) -> int:
    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    restrict_new_files()
    private_dir(settings.home)
    write_server_info(settings.home, f"http://{settings.host}:{settings.port}")
    print(f"Prompteur server on http://{settings.host}:{settings.port}  (data in {settings.home})", flush=True)
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 and
    # rewrite the client address, overriding PROMPTEUR_TRUSTED_PROXIES (bots.http.public_auth).
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", proxy_headers=False)
    return 0
