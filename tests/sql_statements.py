"""What a piece of code asks of the database, seen from the engine: the statements it sends
(counted with a cursor event on a real SQLite file) and how SQLite plans to run them. Tests
check with these that a query's cost does not grow with the data (a fixed number of
statements, each along an index) instead of timing it, which flakes on a loaded machine."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The server's own background threads (bots/ingestion.py, bots/web_sync.py): they poll for
# jobs and syncs other processes queued, on their own clock, whatever the request measured.
BACKGROUND = ("ingest-", "web-")


@contextmanager
def counted_statements(engine: Engine):
    """Every statement sent to the database while the block runs, with its parameters, but
    those of the server's background threads."""
    statements: list[tuple[str, Sequence[Any] | Mapping[str, Any] | None]] = []

    def count(_conn, _cursor, statement, params, _context, _executemany):
        if not threading.current_thread().name.startswith(BACKGROUND):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def query_plans(
    engine: Engine, statements: list[tuple[str, Sequence[Any] | Mapping[str, Any] | None]], table: str
) -> list[tuple[str, list[str]]]:
    """SQLite's EXPLAIN QUERY PLAN of each statement that reads `table`: (sql, plan lines)."""
    mentions = re.compile(rf"\b(FROM|JOIN)\s+{table}\b", re.IGNORECASE)
    raw = engine.raw_connection()
    try:
        return [
            (sql, [row[-1] for row in raw.cursor().execute(f"EXPLAIN QUERY PLAN {sql}", params or ()).fetchall()])
            for sql, params in statements
            if sql.lstrip().upper().startswith("SELECT") and mentions.search(sql)
        ]
    finally:
        raw.close()


def full_scans(plans: list[tuple[str, list[str]]], table: str) -> list[str]:
    """Plan lines that walk the whole of `table` (or a whole index of it) rather than SEARCH
    it by a key: "SCAN messages", "SCAN messages_1 USING INDEX ..." (aliases included)."""
    found = []
    for sql, lines in plans:
        names = {table, *re.findall(rf"\b{table}\s+AS\s+(\w+)", sql, re.IGNORECASE)}
        for line in lines:
            scanned = re.match(r"SCAN (?:TABLE )?(\w+)", line)
            if scanned and scanned.group(1) in names:
                found.append(f"{line}  <-  {' '.join(sql.split())[:300]}")
    return found
