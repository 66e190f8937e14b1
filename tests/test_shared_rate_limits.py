"""Rate limits shared through the database (issue #17): what one process takes, the others
see, so a client cannot multiply its limit by the number of server processes."""

from __future__ import annotations

import threading

import pytest

from bots.settings import Settings
from bots.store import tables as t
from bots.store.db import make_engine, migrate, session_factory
from bots.store.rate_buckets import PRUNE_EVERY, SharedRateLimiter


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(empty_database_url):
    engine = make_engine(empty_database_url)
    migrate(engine)
    engine.dispose()
    yield empty_database_url
    for other in ENGINES:
        other.dispose()
    ENGINES.clear()


ENGINES: list = []


def _limiter(url: str, clock) -> SharedRateLimiter:
    """A limiter on its own engine: what another server process would have."""
    engine = make_engine(url)
    ENGINES.append(engine)
    return SharedRateLimiter(session_factory(engine), clock=clock)


@pytest.mark.both_backends
def test_a_bucket_is_shared_by_every_process_and_refills_over_the_minute(database):
    clock = Clock()
    a, b = _limiter(database, clock), _limiter(database, clock)
    allowed = [limiter.hit("ip:1.2.3.4", 6) is None for _ in range(5) for limiter in (a, b)]
    assert allowed == [True] * 6 + [False] * 4, "6 a minute in all, whichever process counts"
    assert a.hit("ip:1.2.3.4", 6) == 10  # one token comes back every 10 s
    assert b.hit("ip:5.6.7.8", 6) is None, "another key has its own bucket"
    clock.now += 10
    assert b.hit("ip:1.2.3.4", 6) is None
    assert a.hit("ip:1.2.3.4", 6) is not None
    clock.now += 3600  # a full bucket holds `per_minute`, however long it waited
    assert [a.hit("ip:1.2.3.4", 6) is None for _ in range(7)] == [True] * 6 + [False]


@pytest.mark.both_backends
def test_a_clock_behind_another_process_never_takes_tokens_back(database):
    ahead, behind = Clock(1_000_060.0), Clock(1_000_000.0)
    a, b = _limiter(database, ahead), _limiter(database, behind)
    assert a.hit("k", 60) is None
    assert all(b.hit("k", 60) is None for _ in range(59)), "the 60 a minute hold with a skewed clock"
    assert b.hit("k", 60) is not None


@pytest.mark.both_backends
def test_concurrent_hits_from_two_processes_take_each_token_once(database):
    """Threads on two engines race for one bucket: exactly `per_minute` get through."""
    clock = Clock()
    limiters = [_limiter(database, clock), _limiter(database, clock)]
    results: list[bool] = []
    lock = threading.Lock()

    def hammer(limiter):
        for _ in range(15):
            ok = limiter.hit("bot:b1", 20) is None
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=hammer, args=(limiters[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 60 and results.count(True) == 20


@pytest.mark.both_backends
def test_idle_buckets_are_forgotten_and_long_keys_are_stored_as_digests(database):
    clock = Clock()
    limiter = _limiter(database, clock)
    limiter.hit("login-name:" + "x" * 400, 10)
    for i in range(PRUNE_EVERY - 2):
        limiter.hit(f"ip:{i}", 10)
    clock.now += 600
    limiter.hit("ip:fresh", 10)  # the PRUNE_EVERY-th hit sweeps the idle buckets
    with limiter._sessions() as s:
        keys = [k for (k,) in s.query(t.RateBucket.key)]
    assert keys == ["ip:fresh"]


def test_the_runtime_shares_limits_when_several_processes_may_serve(tmp_path):
    sqlite = {"home": tmp_path}
    assert not Settings(**sqlite).shared_rate_limits, "one process on SQLite: memory is enough"
    assert Settings(**sqlite, workers=2).shared_rate_limits
    assert Settings(**sqlite, database_url="postgresql+psycopg://h/db").shared_rate_limits, "replicas share Postgres"
    assert not Settings(**sqlite, workers=2, rate_limit_store="memory").shared_rate_limits
    assert Settings(**sqlite, rate_limit_store="database").shared_rate_limits


def test_processes_starting_together_agree_on_the_session_secret_and_admin_token(tmp_path, monkeypatch):
    """Replicas share one data folder and may all find no file at start. Here the file
    appears between the look and the write, as when another replica wrote it then: it
    failed with FileExistsError (the replica did not start); now its value is taken."""
    from pathlib import Path

    from bots.runtime import ensure_admin_token
    from bots.store.keys import ensure_session_secret

    for make, name in ((ensure_session_secret, "session_secret"), (ensure_admin_token, "admin_token")):
        home = tmp_path / name
        home.mkdir()
        (home / name).write_text("written-by-the-other-replica")
        with monkeypatch.context() as m:
            m.setattr(Path, "exists", lambda self: False)  # the look happened before it existed
            assert make(home) == "written-by-the-other-replica"
        assert sorted(p.name for p in home.iterdir()) == [name], "no staged file left behind"
        fresh = tmp_path / f"fresh-{name}"
        fresh.mkdir()
        assert make(fresh) == (fresh / name).read_text() and oct((fresh / name).stat().st_mode & 0o777) == "0o600"
