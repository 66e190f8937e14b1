"""Real backing services for the tests that run on both backends: a throw-away Postgres
cluster and a Chroma server, each started once per test process and stopped at its end.

Nothing system-wide is used: the cluster lives in a temporary folder, listens on a free
localhost port (and a unix socket in that folder), trusts local connections (it is reachable
from this machine only, for the length of the run) and is deleted afterwards."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

# Debian installs the server binaries here, outside PATH; `make system-deps` installs them.
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
MISSING_POSTGRES = "Postgres is not installed (Debian's `postgresql`): run `make system-deps`."


def _pg_tool(name: str) -> str | None:
    for folder in PG_BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresCluster:
    """One `initdb` cluster run by `pg_ctl`. Postgres refuses to run as root: as root, the
    cluster's files belong to the `postgres` user (Debian's package creates it) and its
    commands run as that user through `runuser`."""

    folder: Path
    port: int
    run_as: str | None
    _databases = itertools.count(1)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        result = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def init(self) -> PostgresCluster:
        initdb = _pg_tool("initdb")
        assert initdb
        # No fsync: the cluster is thrown away, and syncing costs seconds on a busy disk.
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> PostgresCluster:
        pg_ctl = _pg_tool("pg_ctl")
        assert pg_ctl
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")
        return self

    def stop(self) -> None:
        pg_ctl = _pg_tool("pg_ctl")
        assert pg_ctl
        # "fast", not "immediate": with synchronous_commit off, an immediate stop can lose the
        # last commits (the WAL writer flushes every 200 ms), and a test reads them back.
        self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`); returns its URL."""
        name = f"db_{os.getpid()}_{next(self._databases)}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        finally:
            engine.dispose()
        return self.url(name)


def new_cluster() -> PostgresCluster:
    """A started cluster in a new temporary folder, or a skip saying what is missing."""
    if _pg_tool("initdb") is None or _pg_tool("pg_ctl") is None:
        pytest.skip(MISSING_POSTGRES)
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("Postgres refuses to run as root and there is no `postgres` user: run `make system-deps`.")
        run_as = "postgres"
    # Not under pytest's tmp folder: that one is private to root, and the cluster runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="prompteur-pg-"))
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    cluster = PostgresCluster(folder=folder, port=free_port(), run_as=run_as)
    try:
        return cluster.init().start()
    except BaseException:
        cluster.remove()
        raise


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = new_cluster()
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            cluster.remove()


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster) -> str:
    """A database at the newest revision that each test's database is copied from
    (CREATE DATABASE ... TEMPLATE takes milliseconds; running the migrations, a second)."""
    from bots.store.db import make_engine, migrate

    url = postgres_cluster.create_database()
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()  # a template must have no open connection when it is copied
    return url.rsplit("/", 1)[1]


@dataclass
class ChromaProcess:
    url: str
    proc: subprocess.Popen
    log_path: Path


@pytest.fixture(scope="session")
def chroma_process(tmp_path_factory) -> Iterator[ChromaProcess]:
    """A Chroma server starting (the `chroma` command chromadb installs), on a free port; not
    waited for, so that its seconds of start overlap the Postgres cluster's (`chroma_server`
    waits). Bots' collections have their own names: one server serves every test of the process."""
    command = Path(sys.executable).with_name("chroma")
    if not command.exists():
        pytest.skip("the `chroma` command of the chromadb package is not installed")
    folder = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log_path = folder / "chroma.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(command), "run", "--path", str(folder / "data"), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    try:
        yield ChromaProcess(f"http://127.0.0.1:{port}", proc, log_path)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def chroma_server(chroma_process) -> str:
    """The URL of a Chroma server that answers."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{chroma_process.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return chroma_process.url
        except httpx.HTTPError:
            pass
        alive = chroma_process.proc.poll() is None
        assert alive and time.monotonic() < deadline, chroma_process.log_path.read_text()[-2000:]
        time.sleep(0.2)
