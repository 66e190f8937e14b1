"""Shared fixtures: every test gets its own data folder; servers are real (TestClient over the
real app, or uvicorn in a subprocess on a free port)."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from bots.http.app import create_app
from bots.runtime import Runtime, write_server_info
from bots.settings import Settings
from bots.store.db import make_engine, migrate
from knowledge.embedding import EmbedderCache
from tests.backing_services import (  # noqa: F401  (fixtures)
    chroma_process,
    chroma_server,
    postgres_cluster,
    postgres_template,
)
from tests.scripted_openai import ScriptedOpenAI

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# The builder's sanctioned automation sign-in (builder/sign_in.py): builder and browser tests
# start signed in as the first owner; tests/builder/test_sign_in.py turns it off to sign in.
os.environ.setdefault("PROMPTEUR_BUILDER_AUTO_SIGN_IN", "1")


BACKENDS = ("sqlite", "postgres")

# The slowest test files, in seconds (from `pytest --durations=0`, summed per file; a loaded
# machine's run divided by its slowdown: only the order matters). `make test` hands whole files
# to two workers (`--dist loadfile`); xdist's default order (most tests first) would start the
# one-test files that run for minutes last, leaving one worker idle for the run's final
# minutes. Longest first (`--no-loadscope-reorder` keeps this order) is the classic greedy
# schedule. Approximate is enough: a file missing here is weighed at a tenth of a second a test.
SLOW_FILES = {
    "tests/browser/test_journey.py": 130,
    "tests/browser/test_loop_pages.py": 85,
    "tests/test_several_processes.py": 70,
    "tests/test_leases.py": 60,
    "tests/security/test_secrets_never_shown.py": 63,
    "tests/test_crash_recovery.py": 54,
    "tests/test_local_model.py": 51,
    "tests/test_cli_end_to_end.py": 46,
    "tests/builder/test_tests_page.py": 46,
    "tests/security/test_roles.py": 41,
    "tests/test_evaluation_cli.py": 39,
    "tests/test_team_cli.py": 37,
    "tests/browser/test_widget.py": 55,
    "tests/security/test_file_modes.py": 32,
    "tests/test_review_loop_live.py": 31,
    "tests/builder/test_pages.py": 29,
    "tests/test_team.py": 24,
    "tests/test_web_sources.py": 23,
    "tests/builder/test_first_hour.py": 22,
    "tests/test_public_api_live.py": 22,
    "tests/security/test_api_fuzz.py": 22,
    "tests/test_bad_uploads.py": 20,
    "tests/test_retrieval.py": 18,
    "tests/test_web_cli.py": 18,
    "tests/test_ingestion.py": 17,
    "tests/test_public_chat.py": 15,
    "tests/test_corrected_answers.py": 14,
    "tests/test_corrected_look_alikes.py": 10,
    "tests/test_concurrent_questions.py": 10,
    "tests/test_shared_rate_limits.py": 10,
    "tests/test_provider_storm.py": 8,
    "tests/test_chroma_unavailable.py": 25,
    "tests/test_pool_under_load.py": 13,
    "tests/builder/test_sign_in.py": 13,
    "tests/test_answer_channels.py": 11,
    "tests/test_admin_api.py": 10,
    "tests/test_gaps.py": 10,
    "tests/test_evaluation.py": 9,
    "tests/test_experiments.py": 9,
    "tests/test_backup.py": 8,
    "tests/test_review_inbox.py": 8,
    "tests/security/test_widget_xss.py": 8,
    "tests/test_public_api_edges.py": 7,
    "tests/test_conversation_queries.py": 7,
    "tests/test_evaluation_runs.py": 7,
    "tests/builder/test_analytics_page.py": 7,
    "tests/test_playground_stream.py": 6,
    "tests/security/test_unstorable_input.py": 6,
    "tests/test_loader_fuzz.py": 6,
    "tests/test_answering.py": 6,
}


def pytest_collection_modifyitems(config, items):
    def weight(path: str) -> float:
        return SLOW_FILES.get(path) or 0.1 * counts[path]

    paths = {item: Path(str(item.path)).relative_to(config.rootpath).as_posix() for item in items}
    counts: dict[str, int] = {}
    for path in paths.values():
        counts[path] = counts.get(path, 0) + 1
    # Stable: a file's tests keep their order, and stay together.
    items.sort(key=lambda item: (-weight(paths[item]), paths[item]))


def pytest_generate_tests(metafunc):
    """A test marked `both_backends` runs twice, the same body each time: on SQLite with
    embedded Chroma, and on a real Postgres with a Chroma server (tests/backing_services.py)."""
    if metafunc.definition.get_closest_marker("both_backends"):
        if "backend" not in metafunc.fixturenames:
            metafunc.fixturenames.append("backend")
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def model() -> Iterator[ScriptedOpenAI]:
    """A scripted OpenAI-compatible model on a free port: the test queues its replies (what a
    test asserts on is never the bundled model's wording, which changes with the llama.cpp
    build)."""
    server = ScriptedOpenAI().start()
    yield server
    server.close()


@pytest.fixture
def backend(request) -> str:
    """The stores a test runs on: "sqlite" (SQLite + embedded Chroma, every test's default)
    or "postgres" (Postgres + a Chroma server) for tests marked `both_backends`."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def empty_database_url(backend, tmp_path, request) -> str:
    """A database with no tables yet, on the test's backend: for tests that migrate it."""
    if backend == "postgres":
        return request.getfixturevalue("postgres_cluster").create_database()
    return f"sqlite:///{tmp_path / 'prompteur.db'}"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch, request) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PROMPTEUR_HOME", str(home))
    for var in (
        "PROMPTEUR_SERVER_URL",
        "PROMPTEUR_ADMIN_TOKEN",
        "PROMPTEUR_TOKEN",  # a person's API token would win over the admin token (bots/cli/client.py)
        "PROMPTEUR_BUILDER_TOKEN",
        "PROMPTEUR_DATABASE_URL",
        "PROMPTEUR_CHROMA_URL",
        "PROMPTEUR_PORT",
        "PROMPTEUR_HOST",
    ):
        monkeypatch.delenv(var, raising=False)
    if "backend" in request.fixturenames and request.getfixturevalue("backend") == "postgres":
        # Through the environment, as an operator sets them: Settings(), LiveServer and the
        # CLI's `prompteur serve` all read them from there. Each test gets its own database.
        request.getfixturevalue("chroma_process")  # starts while the cluster does
        cluster = request.getfixturevalue("postgres_cluster")
        monkeypatch.setenv(
            "PROMPTEUR_DATABASE_URL", cluster.create_database(template=request.getfixturevalue("postgres_template"))
        )
        monkeypatch.setenv("PROMPTEUR_CHROMA_URL", request.getfixturevalue("chroma_server"))
    return home


@pytest.fixture(scope="session")
def embedders() -> EmbedderCache:
    return shared_embedders()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """An empty database at the newest revision. Running every migration costs about a second
    on a busy 2-core machine and a hundred tests build a server: they start from a copy.
    Migrations themselves are tested from empty in tests/test_migrations.py."""
    path = tmp_path_factory.mktemp("schema") / "prompteur.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection folds the WAL back in: one file to copy
    return path


def seed_database(home: Path, template: Path) -> None:
    """Give `home` a copy of the migrated database, unless it already has one (a restart)."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = home / "prompteur.db"
    if not target.exists():
        shutil.copyfile(template, target)
        target.chmod(0o600)


@pytest.fixture
def settings(isolated_home, migrated_database) -> Settings:
    seed_database(isolated_home, migrated_database)
    return Settings(home=isolated_home)


@pytest.fixture
def runtime(settings, embedders) -> Runtime:
    return Runtime.build(settings, embedders=embedders)


@pytest.fixture
def api(settings, runtime):
    """The real app through Starlette's test client, authenticated as admin."""
    with TestClient(create_app(settings, runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        yield client


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """The process environment replaced by `values` for the block (Settings reads it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@functools.cache
def shared_embedders() -> EmbedderCache:
    """Embedding models take seconds to load: one cache per test process, for the `api`
    fixtures and the in-process servers alike."""
    return EmbedderCache()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ingested(api, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/admin/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s: {job}")


class LiveServer:
    """A real Prompteur server on a free localhost port.

    By default uvicorn serves the app from a thread of the test process: the same HTTP server,
    app and stores as `prompteur serve`, without a new interpreter importing the whole stack and
    loading its own embedding model (seconds each, dozens of times a run). `process=True` runs
    `prompteur serve` itself, for the tests that need a process: killing it mid-work, reading
    its log, the file modes it sets."""

    def __init__(self, home: Path, extra_env: dict | None = None, *, process: bool = False):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PROMPTEUR_HOME": str(home), "PYTHONPATH": str(ROOT), **(extra_env or {})}
        self.process = process
        self.proc: subprocess.Popen | None = None
        self.log: BinaryIO | None = None  # the server's output, kept across restarts
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 90) -> LiveServer:
        if self.process:
            self._start_process()
        else:
            self._start_thread()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()  # the fixture that called start() never reaches its own stop(): no stray server
        raise RuntimeError("server did not start in time")

    def _start_process(self) -> None:
        if self.log:  # restarted after kill()
            self.log.close()
        self.log = open(self.home.parent / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bots.cli.main", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def _start_thread(self) -> None:
        self.proc = None  # a process killed before this restart is gone for good
        with environ(self.env):  # the settings `prompteur serve` would read in that environment
            settings = Settings(port=self.port)
        runtime = Runtime.build(settings, embedders=shared_embedders())
        config = uvicorn.Config(
            create_app(settings, runtime=runtime),
            host="127.0.0.1",
            port=self.port,
            log_config=None,  # the test process's logging stays as pytest set it
            proxy_headers=False,  # as `prompteur serve`: forwarded headers are the app's call
            ws="none",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"server-{self.port}", daemon=True)
        self._thread.start()
        write_server_info(settings.home, self.url)  # where the CLI finds the server, as serve does

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"server exited: {(self.home.parent / f'server-{self.port}.log').read_text()[-3000:]}")
        if self._thread is not None and not self._thread.is_alive():
            raise RuntimeError("the server thread ended while starting: see the captured log")

    def kill(self) -> None:
        if not self.process:
            raise RuntimeError("only a server started with process=True can be killed")
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True  # uvicorn's own shutdown: the runtime stops in the lifespan
            self._thread.join(timeout=30)
            self._server = self._thread = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log:
            self.log.close()

    def cli(self, *args: str, input: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bots.cli.main", *args],
            env=self.env,
            cwd=ROOT,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def cli_as(self, env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """The CLI with another environment (e.g. a person's PROMPTEUR_TOKEN)."""
        return subprocess.run(
            [sys.executable, "-m", "bots.cli.main", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    @property
    def admin_token(self) -> str:
        return (self.home / "admin_token").read_text().strip()


@pytest.fixture
def live_server(isolated_home, migrated_database):
    seed_database(isolated_home, migrated_database)
    server = LiveServer(isolated_home).start()
    yield server
    server.stop()


@pytest.fixture
def process_server(isolated_home, migrated_database):
    """`prompteur serve` in its own process: for tests that kill it or read what it logs."""
    seed_database(isolated_home, migrated_database)
    server = LiveServer(isolated_home, process=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, migrated_database):
    """One server for a module whose tests each work on their own bots: starting a server
    and loading its embedding model is the slow part of end-to-end tests."""
    home = tmp_path_factory.mktemp("shared") / "home"
    seed_database(home, migrated_database)
    server = LiveServer(home).start()
    yield server
    server.stop()


# --- building knowledge through the admin API -----------------------------------------


def create_bot(api, name: str = "Shop", **fields) -> dict:
    response = api.post("/admin/bots", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def upload(api, bot_id: str, files: dict[str, bytes]) -> dict:
    response = api.post(
        f"/admin/bots/{bot_id}/documents",
        files=[("files", (name, data, "application/octet-stream")) for name, data in files.items()],
    )
    assert response.status_code == 202, response.text
    return response.json()


def ingest(api, bot_id: str, files: dict[str, bytes]) -> dict:
    """Upload and wait for the job; returns the finished job."""
    job_id = upload(api, bot_id, files)["job_id"]
    return wait_ingested(api, job_id) if job_id else {}


def search(api, bot_id: str, query: str, k: int = 5) -> list[dict]:
    response = api.post(f"/admin/bots/{bot_id}/search", json={"query": query, "k": k})
    assert response.status_code == 200, response.text
    return response.json()["hits"]


def documents(api, bot_id: str) -> dict[str, dict]:
    """The bot's documents by source name."""
    return {d["source"]: d for d in api.get(f"/admin/bots/{bot_id}/documents").json()["documents"]}


def faq_csv(rows: list[tuple[str, str]]) -> bytes:
    """A question/answer sheet: the loader keeps each row whole, so every row is one short
    chunk, which keeps embedding (the slow part of tests) cheap."""
    lines = ["question,answer"] + [f'"{q}","{a}"' for q, a in rows]
    return ("\n".join(lines) + "\n").encode()


class RuntimeClient(TestClient):
    """A test client that also holds the app's Runtime, for tests that look inside it."""

    runtime: Runtime


@pytest.fixture
def build_api(settings):
    """Like `api`, with the embedders the test wants (e.g. a counting wrapper)."""
    clients = []

    def build(embedders: EmbedderCache) -> RuntimeClient:
        runtime = Runtime.build(settings, embedders=embedders)
        client = RuntimeClient(create_app(settings, runtime=runtime)).__enter__()
        client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        client.runtime = runtime
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run: Playwright's sync API allows one instance per thread,
    so tests/browser and tests/security must share this fixture, not define their own."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing at /usr/bin/chromium: run `make system-deps`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
