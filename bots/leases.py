"""Background work claimed from SQL with leases, so that several server processes (uvicorn
workers, or replicas sharing one Postgres) can share ingestion jobs and web syncs.

Why SQL and not a queue engine (Redis with RQ/Celery, BullMQ...): the jobs already are rows in
the database every process shares, written in the same transactions as the documents they
change. A second store would add a service to run and back up, and two sources of truth to
reconcile after a crash; a few jobs a minute are far below what a table can serve. Postgres
was built for this (`SELECT ... FOR UPDATE SKIP LOCKED`); SQLite serialises writers (WAL, a
30 s busy timeout: bots/store/db.py), so there a claim is one conditional UPDATE whose WHERE
only one writer can satisfy.

A lease is (owner, until). The owner is "host:pid:random": a process can tell that a lease
is held by a process of its own machine that no longer exists, and take it over at once (a
restarted single server resumes its jobs without waiting); any other lease is taken over
only once it has expired, i.e. its holder stopped renewing it (died, hung or lost the
database). Every write a holder makes is fenced: it first renews the lease *if it is still
its own*, in the same transaction, so a process whose lease was taken over writes nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bots.core.status import JobStatus
from bots.store import tables as t

log = logging.getLogger("prompteur.leases")

PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)


def _machine() -> str:
    """The host name, plus the PID namespace when there is one to read: two containers may
    share a host name, and a pid means nothing outside its namespace."""
    name = socket.gethostname().replace(":", "-")
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return name
    return f"{name}/{''.join(ch for ch in namespace if ch.isdigit())}"


MACHINE = _machine()
# Owners of this process whose runner is running; an owner of this pid that is not here
# belonged to a runner stopped (or crashed) earlier in this process.
_running: set[str] = set()
_running_lock = threading.Lock()


class LeaseLost(Exception):
    """Another process took this work over (our lease expired): stop and write nothing."""


def new_owner() -> str:
    return f"{MACHINE}:{os.getpid()}:{secrets.token_hex(4)}"


def is_dead(owner: str) -> bool:
    """True only when the owner is known to be gone: a process of this machine that no longer
    exists, or a stopped runner of this process. Elsewhere nobody can tell: the lease expires."""
    try:
        machine, pid_text, _token = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if machine != MACHINE:
        return False
    if pid == os.getpid():
        with _running_lock:
            return owner not in _running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class Leases:
    """Claiming, renewing and fencing rows of one table (jobs or web syncs) for one runner.

    The table needs `id`, `status`, `created_at`, `lease_owner` and `lease_until`. A row is free
    when it is pending without an owner; a pending row whose owner is dead or whose lease has
    expired is abandoned: `take` moves it to us so we can clean up after the holder."""

    def __init__(self, sessions: sessionmaker, table: Any, lease_s: float):
        self._sessions = sessions
        self._table = table
        self.lease_s = lease_s
        self.owner = new_owner()
        self._lock = threading.Lock()
        self._held: dict[str, dict] = {}  # row id -> values to write with its next renewal
        self._lost: set[str] = set()

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        with _running_lock:
            _running.add(self.owner)

    def stop(self) -> None:
        with _running_lock:
            _running.discard(self.owner)

    def _until(self):
        return t.now() + timedelta(seconds=self.lease_s)

    def _ours(self, row_id: str):
        table = self._table
        return update(table).where(table.id == row_id, table.lease_owner == self.owner)

    # --- claiming ---------------------------------------------------------------------
    def claim(self) -> str | None:
        """Take the oldest free row, or None. One transaction: on Postgres the candidate is
        locked (SKIP LOCKED: other claimers pass it by instead of queueing behind us); on
        SQLite the conditional UPDATE is what only one process can win."""
        table = self._table
        with self._sessions.begin() as s:
            candidates = s.scalars(
                select(table.id)
                .where(table.status.in_(PENDING), table.lease_owner.is_(None))
                .order_by(table.created_at)
                .limit(5)
                .with_for_update(skip_locked=True)  # not rendered on SQLite
            ).all()
            for row_id in candidates:
                won = s.execute(
                    update(table)
                    .where(table.id == row_id, table.lease_owner.is_(None), table.status.in_(PENDING))
                    .values(lease_owner=self.owner, lease_until=self._until(), status=JobStatus.RUNNING)
                ).rowcount
                if won:
                    self._hold(row_id)
                    return row_id
        return None

    def abandoned(self) -> list[tuple[str, str]]:
        """(row id, owner) of pending rows whose holder is gone: lease expired, or owner dead."""
        table = self._table
        with self._sessions() as s:
            rows = s.execute(
                select(table.id, table.lease_owner, table.lease_until).where(
                    table.status.in_(PENDING), table.lease_owner.is_not(None)
                )
            ).all()
        now = t.now().replace(tzinfo=None)
        return [
            (row_id, owner)
            for row_id, owner, until in rows
            if owner != self.owner and (until is None or _naive(until) < now or is_dead(owner))
        ]

    def take(self, row_id: str, previous_owner: str) -> bool:
        """Move an abandoned row to us, if nobody else did first (compare-and-set on its owner)."""
        table = self._table
        with self._sessions.begin() as s:
            won = s.execute(
                update(table)
                .where(table.id == row_id, table.lease_owner == previous_owner, table.status.in_(PENDING))
                .values(lease_owner=self.owner, lease_until=self._until())
            ).rowcount
        if won:
            log.warning(
                "took over %s %s from %s (its lease expired or its process is gone)",
                table.__tablename__,
                row_id,
                previous_owner,
            )
            self._hold(row_id)
        return bool(won)

    # --- holding ----------------------------------------------------------------------
    def take_over_abandoned(self, requeue: Callable[[str], None], what: str) -> None:
        """Take over every abandoned row and `requeue` it while holding its lease. A row
        another process takes first is skipped; one whose requeue fails is let go, so its
        lease expires and someone tries again."""
        for row_id, owner in self.abandoned():
            if not self.take(row_id, owner):
                continue  # another process took it first
            try:
                requeue(row_id)
            except LeaseLost:
                pass
            except Exception:  # noqa: BLE001 - left to expire: someone tries again
                log.exception("could not resume %s %s", what, row_id)
                self.forget(row_id)

    def _hold(self, row_id: str) -> None:
        with self._lock:
            self._held[row_id] = {}
            self._lost.discard(row_id)

    def forget(self, row_id: str) -> None:
        with self._lock:
            self._held.pop(row_id, None)
            self._lost.discard(row_id)

    def lost(self, row_id: str) -> bool:
        with self._lock:
            return row_id in self._lost

    def check(self, row_id: str) -> None:
        """Raise LeaseLost when a renewal found the row taken over: a cheap check for loops."""
        if self.lost(row_id):
            raise LeaseLost(row_id)

    def write_with_renewal(self, row_id: str, **values) -> None:
        """Values (progress) to store with the next renewal: progress reaches SQL at the
        heartbeat's pace, not at every embedded batch."""
        with self._lock:
            if row_id in self._held:
                self._held[row_id].update(values)

    def drop_pending(self, row_id: str) -> None:
        """Forget values not yet written (they describe something that just ended)."""
        with self._lock:
            if row_id in self._held:
                self._held[row_id].clear()

    def expire_all(self) -> None:
        """On a graceful stop: end our leases now, so other processes take the work over at
        once instead of after the lease time (they clean up and resume it)."""
        with self._lock:
            held = list(self._held)
            self._held.clear()
        for row_id in held:
            with self._sessions.begin() as s:
                s.execute(self._ours(row_id).values(lease_until=t.now()))

    def renew_all(self) -> None:
        """The heartbeat: renew every lease we hold, writing pending progress with it."""
        with self._lock:
            held = {row_id: dict(values) for row_id, values in self._held.items() if row_id not in self._lost}
            for values in self._held.values():
                values.clear()
        for row_id, values in held.items():
            with self._sessions.begin() as s:
                kept = s.execute(self._ours(row_id).values(lease_until=self._until(), **values)).rowcount
            if not kept:
                with self._lock:
                    if row_id not in self._held:  # released meanwhile: finished, not lost
                        continue
                    self._lost.add(row_id)
                log.warning("lost the lease on %s %s: another process took it over", self._table.__tablename__, row_id)

    def fence(self, session: Session, row_id: str, **values) -> None:
        """In `session`'s transaction, before its other writes: renew our lease (with `values`)
        or raise LeaseLost. On Postgres the UPDATE also locks the row until the commit, so no
        one can take it over between this check and the writes that follow."""
        renewed = session.execute(self._ours(row_id).values(**{"lease_until": self._until(), **values}))
        if not renewed.rowcount:  # type: ignore[attr-defined]  # an UPDATE's Result is a CursorResult; the stubs say Result
            with self._lock:
                self._lost.add(row_id)
            raise LeaseLost(row_id)

    @contextmanager
    def holding(self, row_id: str) -> Iterator[Session]:
        """A transaction that commits only if the row is still ours (see `fence`)."""
        with self._sessions.begin() as s:
            self.fence(s, row_id)
            yield s

    def release(self, session: Session, row_id: str, **values) -> None:
        """Give the row up in `session`'s transaction (fenced), e.g. finished or requeued."""
        self.fence(session, row_id, lease_owner=None, lease_until=None, **values)
        self.forget(row_id)


def _naive(value: datetime) -> datetime:
    """Postgres and SQLite both give naive UTC back (bots/store/db.py); be sure of it."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
