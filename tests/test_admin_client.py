"""The admin client parses answers into the API's response models, and says so in a sentence
when an answer has another shape (e.g. a server of another version)."""

from __future__ import annotations

import httpx
import pytest

from bots.cli.client import AdminClient, ClientError

BOT = {
    "id": "bot_1",
    "name": "Shop",
    "language": "en",
    "embedding_model": "all-MiniLM-L6-v2",
    "spec": {"name": "Shop"},
    "published_version": None,
    "created_at": "2025-01-01T00:00:00+00:00",
    "updated_at": "2025-01-01T00:00:00+00:00",
    "documents": 0,
    "chunks": 0,
}


def client_answering(body) -> AdminClient:
    client = AdminClient("http://prompteur.test", "token")
    client._http = httpx.Client(
        base_url=client.base_url, transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    )
    return client


def test_answers_become_models():
    [bot] = client_answering({"bots": [BOT]}).bots()
    assert bot.id == "bot_1" and bot.published_version is None
    assert bot.model_dump(mode="json") == BOT, "--json prints what the server sent, in its order"
    assert list(bot.model_dump(mode="json")) == list(BOT)


def test_an_answer_of_another_shape_is_a_client_error():
    broken = {"bots": [{k: v for k, v in BOT.items() if k != "chunks"}]}
    with pytest.raises(ClientError) as caught:
        client_answering(broken).bots()
    assert "unexpected shape" in str(caught.value) and "bots.0.chunks" in str(caught.value)
