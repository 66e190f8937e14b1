"""Database engine and schema migrations. SQLite (WAL) by default, Postgres by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import sessionmaker

from bots.file_modes import create_private

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # 0600 from the start: SQLite gives its -wal and -shm files the database's mode.
            create_private(Path(database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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
    return create_engine(url, pool_pre_ping=True)


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
