"""The app of one uvicorn worker when the load benchmark starts N workers itself, which it
does only while `prompteur serve` has no `--workers` (see `scale_load.launch`). A module of
its own so that each worker imports the app, not the benchmark."""

from __future__ import annotations

from fastapi import FastAPI

from bots.http.app import create_app
from bots.settings import Settings


def app() -> FastAPI:
    # Settings from the environment the benchmark gave the workers; their parent already ran
    # the once-only start steps (scale_load.prepare_once), so workers do not race on them.
    return create_app(Settings())
