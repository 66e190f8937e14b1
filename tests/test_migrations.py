"""The migrations, run for real on SQLite files (and, for the tests marked both_backends, on a
real Postgres): they build exactly the schema the code declares, can be undone and redone, and
carry an old database's rows to the newest schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import String, inspect, text

from bots.core.status import DocumentStatus, ItemStatus, JobStatus
from bots.store.db import downgrade, make_engine, migrate, schema_change
from bots.store.tables import Base


@pytest.fixture
def engine(empty_database_url):
    engine = make_engine(empty_database_url)
    yield engine
    engine.dispose()


def _drift(engine) -> list:
    """What alembic's autogenerate would still write: tables, columns, types, nullability,
    indexes, unique and foreign keys that differ between the database and tables.py."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


@pytest.mark.both_backends
def test_upgrading_an_empty_database_builds_exactly_the_declared_schema(engine):
    migrate(engine)
    assert _drift(engine) == []
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}


@pytest.mark.both_backends
def test_every_migration_can_be_undone_and_done_again(engine):
    migrate(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate(engine)
    assert _drift(engine) == []


# Rows as the oldest schema (revision 0001) stored them, written with raw SQL as that code
# did: JSON as text, datetimes as SQLAlchemy's SQLite strings, NULLs, non-ASCII text.
OLDEST_ROWS: dict[str, list[dict[str, object]]] = {
    "bots": [
        {
            "id": "bot_1",
            "name": "Café Support — été",
            "language": "fr",
            "embedding_model": "all-MiniLM-L6-v2",
            "vector_collection": "bot_1_v3",
            "spec": '{"persona": {"name": "Zoé"}, "retrieval": {"top_k": 5}}',
            "knowledge_generation": 7,
            "created_at": "2024-01-02 03:04:05.000006",
            "updated_at": "2024-02-03 04:05:06.000007",
        },
        {
            "id": "bot_2",
            "name": "Empty",
            "language": "en",
            "embedding_model": "m",
            "vector_collection": "bot_2",
            "spec": "{}",
            "knowledge_generation": 0,
            "created_at": "2024-01-01 00:00:00.000000",
            "updated_at": "2024-01-01 00:00:00.000000",
        },
    ],
    "documents": [
        {
            "id": "doc_1",
            "bot_id": "bot_1",
            "source": "tarifs 2024.pdf",
            "stored_name": "a1b2.pdf",
            "content_hash": "f" * 64,
            "size": 123456,
            "status": "ready",
            "error": None,
            "error_code": None,
            "pages": 12,
            "chunk_count": 2,
            "active_version": 3,
            "created_at": "2024-01-02 03:04:05.000000",
            "updated_at": "2024-01-02 03:04:06.000000",
        },
        {
            "id": "doc_2",
            "bot_id": "bot_1",
            "source": "broken.pdf",
            "stored_name": "c3d4.pdf",
            "content_hash": "0" * 64,
            "size": 10,
            "status": "failed",
            "error": "broken.pdf: the file is damaged",
            "error_code": "corrupt",
            "pages": None,
            "chunk_count": 0,
            "active_version": 0,
            "created_at": "2024-01-02 03:04:05.000000",
            "updated_at": "2024-01-02 03:04:05.000000",
        },
    ],
    "chunks": [
        {
            "id": f"doc_1:3:{i}",
            "document_id": "doc_1",
            "bot_id": "bot_1",
            "version": 3,
            "ordinal": i,
            "text": f"Le tarif n°{i} est de 10 €.",
            "search_text": f"tarif {i} 10 eur",
            "page": i + 1 if i else None,
            "headings": '["Tarifs", "Été"]',
        }
        for i in range(2)
    ],
    "jobs": [
        {
            "id": "job_1",
            "bot_id": "bot_1",
            "kind": "ingest",
            "status": "done",
            "items": '[{"document_id": "doc_1", "source": "tarifs 2024.pdf", "status": "ready", "error": null}]',
            "error": None,
            "created_at": "2024-01-02 03:04:05.000000",
            "updated_at": "2024-01-02 03:04:07.000000",
        },
        {
            "id": "job_2",
            "bot_id": "bot_1",
            "kind": "reindex",
            "status": "queued",
            "items": "[]",
            "error": "interrupted",
            "created_at": "2024-01-03 00:00:00.000000",
            "updated_at": "2024-01-03 00:00:00.000000",
        },
    ],
}


def _oldest_database(engine) -> None:
    migrate(engine, "0001")
    with engine.begin() as conn:
        for table, rows in OLDEST_ROWS.items():
            columns = list(rows[0])
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"  # noqa: S608
            conn.execute(text(sql), rows)


def _rows(engine, table: str, columns) -> list[dict]:
    with engine.connect() as conn:
        result = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id"))  # noqa: S608 - fixed names
        return [dict(r._mapping) for r in result]


def test_a_database_at_the_oldest_revision_keeps_every_row_and_value_up_to_the_newest(engine):
    _oldest_database(engine)

    migrate(engine)

    assert _drift(engine) == []
    for table, rows in OLDEST_ROWS.items():
        assert _rows(engine, table, list(rows[0])) == sorted(rows, key=lambda r: r["id"]), table
    # What the later revisions added starts empty, not with made-up values.
    assert [r["published_version"] for r in _rows(engine, "bots", ["published_version"])] == [None, None]
    assert [r["question"] for r in _rows(engine, "chunks", ["question"])] == [None, None]


def test_a_migration_that_rebuilds_a_parent_table_on_sqlite_deletes_no_child_row(engine):
    """Batch mode copies the table and drops the old one; with foreign keys on, that drop
    would cascade to every document, chunk and job of every bot."""
    _oldest_database(engine)

    with (
        schema_change(engine) as conn,
        Operations(MigrationContext.configure(conn)).batch_alter_table("bots", recreate="always") as batch,
    ):
        batch.alter_column("name", existing_type=String(200), type_=String(300))

    assert len(_rows(engine, "documents", ["id"])) == 2
    assert len(_rows(engine, "chunks", ["id"])) == 2 and len(_rows(engine, "jobs", ["id"])) == 2
    with engine.connect() as conn:  # and the pooled connection enforces foreign keys again
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_migration_that_leaves_a_dangling_reference_is_refused_and_undone(engine):
    migrate(engine)
    with pytest.raises(RuntimeError, match="pointing at nothing in: documents"), schema_change(engine) as conn:
        row = {**OLDEST_ROWS["documents"][0], "bot_id": "bot_gone"}
        columns = list(row)
        sql = f"INSERT INTO documents ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"  # noqa: S608
        conn.execute(text(sql), row)
    assert _rows(engine, "documents", ["id"]) == []


def test_the_status_words_are_those_existing_databases_hold():
    """Statuses are stored (and sent) as these words: renaming one needs a migration of the
    rows (documents.status, jobs.status and the jobs.items JSON), not just a new enum value."""
    assert [s.value for s in JobStatus] == ["queued", "running", "done", "failed"]
    assert [s.value for s in DocumentStatus] == ["queued", "processing", "ready", "failed"]
    assert [s.value for s in ItemStatus] == ["queued", "processing", "ready", "failed", "unchanged", "removed"]
