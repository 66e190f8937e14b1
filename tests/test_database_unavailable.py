"""A database that refuses connections, stops, or has no free connection: the server says so
in seconds (at start: which setting to check; on requests: 503 with Retry-After), never hangs
and never answers 500. Real Postgres clusters and a real SQLite pool."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from bots.core.errors import DatabaseUnavailable
from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from bots.store.db import make_engine, migrate
from tests.backing_services import new_cluster
from tests.conftest import create_bot, free_port


def test_a_database_that_refuses_connections_stops_the_start_in_seconds_naming_the_setting(isolated_home, embedders):
    url = f"postgresql+psycopg://prompteur:s3cret-pw@127.0.0.1:{free_port()}/prompteur"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as refused:
        Runtime.build(Settings(database_url=url), embedders=embedders)
    assert time.monotonic() - started < 10
    sentence = str(refused.value)
    assert "PROMPTEUR_DATABASE_URL" in sentence and f"127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}" in sentence
    assert "s3cret-pw" not in sentence  # the password never reaches the log


@pytest.fixture
def own_cluster():
    """A cluster of this test's own, since the test stops it."""
    cluster = new_cluster()
    yield cluster
    try:
        cluster.stop()
    except RuntimeError:
        pass  # already stopped
    cluster.remove()


def test_a_stopped_cluster_gets_503_with_retry_after_and_the_server_recovers_when_it_is_back(
    own_cluster, isolated_home, embedders
):
    url = own_cluster.create_database()
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    settings = Settings(database_url=url, database_connect_timeout_s=2)
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime), raise_server_exceptions=False) as api:
        api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        bot = create_bot(api)

        own_cluster.stop()
        for path in ("/admin/bots", f"/admin/bots/{bot['id']}/conversations"):
            started = time.monotonic()
            response = api.get(path)
            assert time.monotonic() - started < 10, path
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json()["error"]["code"] == "database_unavailable"
        public = api.post(
            f"/v1/bots/{bot['id']}/chat", json={"message": "hi"}, headers={"Authorization": "Bearer sk_x"}
        )
        assert public.status_code == 503 and "Retry-After" in public.headers
        started = time.monotonic()  # and a server started meanwhile stops at once, saying why
        with pytest.raises(DatabaseUnavailable, match="PROMPTEUR_DATABASE_URL"):
            Runtime.build(settings, embedders=embedders)
        assert time.monotonic() - started < 10

        own_cluster.start()  # back: the pool throws away the dead connections (pre-ping)
        # Within seconds, as a client honouring Retry-After sees it (a busy machine may still
        # be finishing the cluster's crash recovery on the first try).
        answers = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (not answers or answers[-1].status_code != 200):
            answers.append(api.get("/admin/bots"))
            if answers[-1].status_code != 200:
                time.sleep(0.5)
        assert answers[-1].status_code == 200, [a.text for a in answers]
        assert {a.status_code for a in answers} <= {200, 503}
        assert [b["id"] for b in answers[-1].json()["bots"]] == [bot["id"]]


def test_a_request_that_finds_no_free_connection_gets_503_after_the_pool_timeout(settings, embedders):
    tight = settings.model_copy(
        update={"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout_s": 0.5}
    )
    runtime = Runtime.build(tight, embedders=embedders)
    with TestClient(create_app(tight, runtime=runtime), raise_server_exceptions=False) as api:
        api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        assert api.get("/admin/bots").status_code == 200
        with runtime.engine.connect():  # the pool's one connection, held
            started = time.monotonic()
            response = api.get("/admin/bots")
            assert time.monotonic() - started < 5
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert response.json()["error"]["code"] == "database_unavailable"
        assert api.get("/admin/bots").status_code == 200  # released: served again
