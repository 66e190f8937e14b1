"""Finding 9 (low): the conversation length limit could be exceeded under concurrency.

The messages were counted, then the question inserted: parallel requests all passed the
count (ten at 98 of 100 messages left 102). The question and its answer are now reserved in
one conditional UPDATE of a per-conversation counter (migration 0004 adds and fills it)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from bots.store.db import downgrade, make_engine, migrate
from tests.security.published_bots import bearer, new_key, published_bot

LIMIT = 10
PARALLEL = 10


class AllAtOnce:
    """Wraps the runtime's model factory, which a question calls after the limit check and
    before it is stored: each request waits there until all have arrived, so every one of
    them has passed the check before any is stored (the race, every time)."""

    def __init__(self, model_for, parties: int):
        self.model_for = model_for
        self.barrier = threading.Barrier(parties, timeout=30)
        self.together = 0
        self._lock = threading.Lock()

    def __call__(self, settings):
        try:
            self.barrier.wait()
            with self._lock:
                self.together += 1
        except threading.BrokenBarrierError:
            pass
        return self.model_for(settings)


@pytest.fixture
def client(isolated_home, embedders):
    settings = Settings(
        home=isolated_home,
        max_conversation_messages=LIMIT,
        rate_per_ip=10_000,
        rate_per_session=10_000,
        rate_per_bot=10_000,
    )
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as c:
        c.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        c.runtime = runtime
        yield c


def test_parallel_questions_never_take_a_conversation_past_its_limit(client):
    bot = published_bot(client)
    key = new_key(client, bot)
    first = client.post(f"/v1/bots/{bot}/chat", json={"message": "question 0"}, headers=bearer(key)).json()
    conversation = first["conversation_id"]
    for i in range(1, LIMIT // 2 - 1):  # up to LIMIT - 2 messages: room for one more question
        asked = client.post(
            f"/v1/bots/{bot}/chat",
            json={"message": f"question {i}", "conversation_id": conversation},
            headers=bearer(key),
        )
        assert asked.status_code == 200, asked.text

    chat = client.runtime.chat
    gate = AllAtOnce(chat._model_for, PARALLEL)  # the one seam between the check and the insert
    chat._model_for = gate

    def ask(i: int):
        return client.post(
            f"/v1/bots/{bot}/chat",
            json={"message": f"parallel {i}", "conversation_id": conversation},
            headers=bearer(key),
        )

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(ask, range(PARALLEL)))

    assert gate.together == PARALLEL, "the requests did not run side by side: the test proves nothing"
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (PARALLEL - 1), [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()["error"]
    assert refused["code"] == "conversation_too_long" and str(LIMIT) in refused["message"]
    stored = client.get(f"/admin/bots/{bot}/conversations/{conversation}").json()
    assert len(stored["messages"]) == LIMIT


def _conversation(conn, conversation_id: str) -> None:
    conn.execute(
        text(
            "INSERT INTO conversations (id, bot_id, owner, channel, version, created_at, updated_at) "
            "VALUES (:id, 'bot_1', 'session', 'widget', 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
        ),
        {"id": conversation_id},
    )


def test_the_migration_counts_the_messages_already_stored_and_can_be_undone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'prompteur.db'}")
    try:
        migrate(engine, "0003")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO bots (id, name, language, embedding_model, vector_collection, spec, "
                    "knowledge_generation, created_at, updated_at) VALUES ('bot_1', 'Shop', 'en', 'm', 'c', "
                    "'{}', 0, '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
                )
            )
            _conversation(conn, "conv_full")
            _conversation(conn, "conv_empty")
            for i in range(3):
                conn.execute(
                    text(
                        "INSERT INTO messages (id, conversation_id, bot_id, role, content, citations, fallback, "
                        "handoff, partial, created_at) VALUES (:id, 'conv_full', 'bot_1', 'user', 'hi', '[]', "
                        "0, 0, 0, '2024-01-01 00:00:00')"
                    ),
                    {"id": f"msg_{i}"},
                )

        migrate(engine)
        with engine.connect() as conn:
            counts = dict(conn.execute(text("SELECT id, message_count FROM conversations")).all())
        assert counts == {"conv_full": 3, "conv_empty": 0}

        downgrade(engine, "0003")
        assert "message_count" not in {c["name"] for c in inspect(engine).get_columns("conversations")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 3
    finally:
        engine.dispose()
