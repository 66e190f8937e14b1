"""POST /admin/bots/{id}/playground with stream=true: the playground's answer arrives piece by piece
while the model writes it, and ends with the whole playground reply (debug included) or the
error with the operator's sentence. Against a real server process and a scripted model."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bots.cli.client import AdminClient, ClientError
from tests.scripted_openai import Reply

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def client(live_server):
    c = AdminClient(live_server.url, live_server.admin_token)
    yield c
    c.close()


def shop_bot(client, model, **model_settings):
    spec = {
        "name": "Shop",
        "model": {"provider": "openai_compatible", "model": "scripted", "base_url": model.base_url, **model_settings},
    }
    bot = client.create_bot("Shop", "en", spec)
    client.upload_files(bot.id, [("shop_help.md", (FIXTURES / "shop_help.md").read_bytes())])
    deadline = time.monotonic() + 120
    while not all(d.status == "ready" for d in client.documents(bot.id)):
        assert time.monotonic() < deadline, "not ingested in time"
        time.sleep(0.3)
    return bot


def test_the_answer_arrives_while_the_model_is_still_writing(client, model):
    bot = shop_bot(client, model)
    first_seen = threading.Event()

    def paced():
        # Long enough to pass the server's checks (they hold back the last ~100 characters and
        # release whole sentences whose facts are in the passages).
        yield (
            "Unused items can be returned within 30 days of delivery for a full refund [1]. "
            "Refunds are paid back to the original payment method within 5 business days after we "
            "receive the parcel [1]. Please keep the parcel's label until then. "
            "Our team is glad to help you with the return. "
        )
        # The model writes the rest only once the first piece reached the builder's client.
        assert first_seen.wait(30), "the first piece never arrived before the answer was done"
        yield "Thank you for shopping with us."

    model.queue(Reply.stream(paced()))
    events = []
    for event, data in client.playground_stream(bot.id, "Can I return an item for a refund?"):
        events.append((event, data))
        if event == "delta":
            first_seen.set()
    names = [e for e, _ in events]
    assert names[0] == "start" and names[-1] == "done" and names.count("delta") >= 2
    done = events[-1][1]
    assert done["answer"].startswith("Unused items can be returned within 30 days of delivery for a full refund.")
    assert done["answer"].endswith("Thank you for shopping with us.")
    assert done["debug"]["hits"] and done["citations"], "the done event is the whole playground reply"
    assert done["conversation_id"] == events[0][1]["conversation_id"]


def test_a_model_error_ends_the_stream_with_the_operator_sentence(client, model):
    bot = shop_bot(client, model, max_retries=0)
    model.queue(Reply.error(401, "Incorrect API key provided"))
    events = list(client.playground_stream(bot.id, "Can I return an item for a refund?"))
    assert events[-1][0] == "error"
    error = events[-1][1]
    assert error["code"] == "model_auth_failed" and "Incorrect API key provided" in error["detail"]


def test_a_refusal_before_the_stream_is_a_client_error(client, model):
    bot = shop_bot(client, model)
    with pytest.raises(ClientError) as refused:
        list(client.playground_stream(bot.id, "x" * 5000))
    assert refused.value.status == 422 or refused.value.code == "message_too_long"
