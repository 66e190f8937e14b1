"""No route blocks the event loop: handlers that run SQL (or other blocking work) are plain
`def`, which FastAPI runs in its threadpool. One `async def` handler on the loop doing SQL
would stall every other request of the server — health checks included — while it waits."""

from __future__ import annotations

import inspect
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi.routing import APIRoute
from sqlalchemy import event

from bots.http.app import create_app
from tests.conftest import create_bot, free_port

# Handlers that truly await something (the multipart or CSV body) and hand their blocking work to
# the threadpool themselves. Any other `async def` handler is a mistake waiting to happen.
ASYNC_HANDLERS = {"upload_documents", "import_csv"}
SLOW_QUERY_S = 2.0  # long enough that a loaded machine cannot blur the difference


def api_routes(routes) -> list[APIRoute]:
    """Every APIRoute, also those of included routers (FastAPI keeps those as a branch that
    points to the router it was given)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def test_only_listed_handlers_are_async(settings, runtime):
    app = create_app(settings, runtime=runtime)
    routes = api_routes(app.routes)
    assert len(routes) > 30, "the walk over the app's routes missed routers"
    asynchronous = {r.endpoint.__name__ for r in routes if inspect.iscoroutinefunction(r.endpoint)}
    assert asynchronous == ASYNC_HANDLERS, "a new async handler must not touch SQL: make it `def`"


@pytest.fixture
def server_in_thread(settings, runtime):
    """The real app on a real uvicorn in this process, so the test can slow its database."""
    app = create_app(settings, runtime=runtime)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_a_slow_query_does_not_stall_other_requests(server_in_thread, runtime):
    url = server_in_thread
    admin = {"Authorization": f"Bearer {runtime.admin_token}"}
    with httpx.Client(base_url=url, headers=admin, timeout=30) as api:
        bot = create_bot(api)

    armed = threading.Event()

    # A real blocking database call: every query on documents takes SLOW_QUERY_S while armed.
    @event.listens_for(runtime.engine, "before_cursor_execute")
    def slow(conn, cursor, statement, parameters, context, executemany):
        if armed.is_set() and "FROM documents" in statement:
            time.sleep(SLOW_QUERY_S)

    upload_took: list[float] = []

    def upload():
        started = time.monotonic()
        response = httpx.post(
            f"{url}/admin/bots/{bot['id']}/documents",
            headers=admin,
            files=[("files", ("faq.md", b"# Returns\n\nReturn items within 30 days.\n"))],
            timeout=60,
        )
        upload_took.append(time.monotonic() - started)
        assert response.status_code == 202, response.text

    try:
        armed.set()
        uploading = threading.Thread(target=upload)
        uploading.start()
        time.sleep(0.3)  # the upload is now inside its slow query
        started = time.monotonic()
        health = httpx.get(f"{url}/healthz", timeout=30)
        health_took = time.monotonic() - started
        uploading.join(timeout=60)
    finally:
        # Disarmed, not removed: the ingestion worker may be running queries (and so iterating
        # the engine's listeners) right now, and the engine is this test's own anyway.
        armed.clear()

    assert health.status_code == 200
    assert upload_took and upload_took[0] >= SLOW_QUERY_S, "the upload never ran its slow query"
    assert health_took < SLOW_QUERY_S / 2, f"/healthz waited {health_took:.2f}s behind the upload's query"
