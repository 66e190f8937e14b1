"""Database engine and schema migrations. SQLite (WAL) by default, Postgres by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import sessionmaker

from bots.core.errors import DatabaseUnavailable
from bots.file_modes import create_private

MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_LOCK = 0x50524F4D  # "PROM": the advisory lock key of schema changes on Postgres


@dataclass(frozen=True)
class Pool:
    """How many connections the server keeps and how long it waits: PROMPTEUR_DATABASE_*."""

    size: int = 5
    max_overflow: int = 10
    timeout_s: float = 10.0  # waiting for a free pooled connection
    connect_timeout_s: float = 5.0  # waiting for the database to accept a new one


def make_engine(url: str, pool: Pool | None = None) -> Engine:
    pool = pool or Pool()
    sizing: dict[str, Any] = {"pool_size": pool.size, "max_overflow": pool.max_overflow, "pool_timeout": pool.timeout_s}
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # 0600 from the start: SQLite gives its -wal and -shm files the database's mode.
            create_private(Path(database))
        in_memory = database in (None, "", ":memory:")  # one shared connection: no pool to size
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **({} if in_memory else sizing)
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # WAL lets readers (search, chat) proceed while ingestion writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if make_url(url).get_backend_name() == "postgresql":
        connect_args = {
            # A host that drops packets would otherwise hold a request (and the start) for minutes.
            "connect_timeout": max(1, round(pool.connect_timeout_s)),
            # Days (the stats) are UTC days, as on SQLite, whatever the server's own TimeZone.
            "options": "-c timezone=UTC",
        }
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **sizing)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _naive_utc_datetimes)
    return engine


def _naive_utc_datetimes(dbapi_conn, _record) -> None:
    """Postgres gives `timestamptz` values back with their offset; SQLite gives the stored UTC
    wall time, naive. The code (and the API's ISO strings) were written against the latter:
    the same values on both backends, rather than "+00:00" on one of them."""
    dbapi_conn.adapters.register_loader("timestamptz", _naive_utc_loader())


@cache
def _naive_utc_loader() -> type:
    """Built once, on the first Postgres connection: psycopg is only imported where it is used."""
    from psycopg.types.datetime import TimestamptzLoader

    class NaiveUtc(TimestamptzLoader):
        def load(self, data) -> datetime:
            return super().load(data).astimezone(UTC).replace(tzinfo=None)

    return NaiveUtc


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def unavailable(error: BaseException) -> DatabaseUnavailable | None:
    """The DatabaseUnavailable an error of the database layer stands for, or None when it is
    not about reaching the database (a bug: it stays a 500). Postgres' OperationalError is about
    the connection or the server's state; SQLite's also covers bad SQL, so only its words for a
    busy or missing file count."""
    if isinstance(error, exc.TimeoutError):  # every pooled connection stayed busy
        return DatabaseUnavailable(f"no free database connection: {error}")
    if not isinstance(error, exc.OperationalError):
        return None
    orig = error.orig
    if type(orig).__module__.startswith("psycopg") or error.connection_invalidated:
        return DatabaseUnavailable(f"the database connection failed: {str(orig).strip()}")
    transient = ("database is locked", "unable to open database file", "disk i/o error")
    if any(words in str(orig).lower() for words in transient):
        return DatabaseUnavailable(f"the database is unavailable: {orig}")
    return None


def check_reachable(engine: Engine) -> None:
    """Connects once, so that a server pointed at a database it cannot reach stops at once,
    saying which setting to check, instead of failing on its first request."""
    try:
        with engine.connect():
            pass
    except exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUnavailable(
            f"cannot connect to the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}. Check PROMPTEUR_DATABASE_URL and that the database server is running and accepts "
            "connections from this machine"
        ) from error


def migrate(engine: Engine, revision: str = "head") -> None:
    with schema_change(engine) as conn:
        command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Back to `revision` ("base": no tables). For operators rolling back, and for the tests
    that prove every migration can be undone and done again."""
    with schema_change(engine) as conn:
        command.downgrade(_alembic_config(conn), revision)


@contextmanager
def schema_change(engine: Engine) -> Iterator[Connection]:
    """A connection to change the schema on, in one transaction.

    On SQLite, foreign keys are off meanwhile: alembic's batch mode alters a table by copying
    it and dropping the old one, and with foreign keys on, dropping `bots` would delete (ON
    DELETE CASCADE) every document, chunk, job and conversation. They are checked before the
    commit instead: a migration that leaves a dangling reference is rolled back."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # ignored inside a transaction
            conn.commit()
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Replicas started together would each run the same migration: the first
                    # takes this lock, the others wait and then find the schema up to date.
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
                yield conn
                dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() if sqlite else []
                if dangling:
                    tables = sorted({row[0] for row in dangling})
                    raise RuntimeError(f"the migration left rows pointing at nothing in: {', '.join(tables)}")
        finally:
            if sqlite:  # the connection goes back to the pool: as strict as the others
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn  # env.py migrates on this connection
    return cfg


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
