"""The public chat API through the real app (TestClient), real SQLite/Chroma/retrieval, and a
scripted OpenAI-compatible server as the bot's model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bots.store import tables, versions
from tests.public_api_support import ORIGIN, bearer, make_bot, parse_sse, publishable_key, secret_key
from tests.scripted_openai import Reply


@pytest.fixture
def bot(api, model):
    return make_bot(api, model.base_url)


def ask(api, bot_id, key, message, **body):
    return api.post(f"/v1/bots/{bot_id}/chat", json={"message": message, **body}, headers=bearer(key))


@pytest.mark.both_backends
def test_answer_is_cited_stored_and_records_its_version(api, bot, model):
    key = secret_key(api, bot)
    model.queue(Reply.answer("Unused items can be returned within 30 days for a full refund [1]."))
    r = ask(api, bot, key, "Can I return an item for a refund?")
    assert r.status_code == 200, r.text
    body = r.json()
    assert "30 days" in body["answer"] and "[1]" not in body["answer"]
    assert body["fallback"] is False and body["conversation_id"].startswith("conv_")
    assert body["citations"][0]["source"] == "shop_help.md" and body["citations"][0]["chunk_id"]
    # The usage the provider reported: answers are always streamed from it, and the scripted
    # server counts one token per streamed word.
    assert body["usage"] == {"prompt_tokens": 11, "completion_tokens": 13}
    # The bot's model got the bot's prompt and max_tokens, never anything from the client.
    sent = model.requests[0]
    assert sent["max_tokens"] == 256 and "SECRET-PROMPT-TEXT" in sent["messages"][0]["content"]

    detail = api.get(f"/admin/bots/{bot}/conversations/{body['conversation_id']}").json()
    answer = detail["messages"][1]
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert answer["version"] == 1 and answer["latency_ms"] is not None and answer["prompt_tokens"] == 11
    assert answer["citations"] == body["citations"]

    # A follow-up continues the conversation, with the earlier turn as history.
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    again = ask(api, bot, key, "How long does the refund take?", conversation_id=body["conversation_id"])
    assert again.json()["conversation_id"] == body["conversation_id"]
    assert [m["role"] for m in model.requests[1]["messages"]] == ["system", "user", "assistant", "user"]


def test_streamed_answer_has_typed_events_and_is_stored(api, bot, model):
    key = secret_key(api, bot)
    model.queue(Reply.answer("Standard delivery takes 3 to 5 business days and is free over 50 euros [1]."))
    r = ask(api, bot, key, "How long does delivery take?", stream=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    names = [n for n, _ in events]
    assert names[0] == "start" and names[-2:] == ["citations", "done"] and "delta" in names
    text = "".join(d["text"] for n, d in events if n == "delta")
    assert "3 to 5 business days" in text
    done = events[-1][1]
    assert done["message_id"] == events[0][1]["message_id"] and done["fallback"] is False
    assert events[-2][1]["citations"][0]["source"] == "shop_help.md"
    history = api.get(f"/v1/bots/{bot}/conversations/{done['conversation_id']}", headers=bearer(key)).json()
    assert history["messages"][1]["content"] == text and history["messages"][1]["id"] == done["message_id"]
    assert done["text"] == text


def test_done_carries_the_clean_answer_when_cleaning_changed_streamed_text(api, bot, model):
    key = secret_key(api, bot)
    model.queue(
        Reply.stream(list("( [1][2, 3]) Standard delivery takes 3 to 5 business days, and it is free over 50 euros."))
    )
    events = parse_sse(ask(api, bot, key, "How long does delivery take?", stream=True).text)
    done = events[-1][1]
    assert events[-1][0] == "done"
    assert done["text"] == "Standard delivery takes 3 to 5 business days, and it is free over 50 euros."
    stored = api.get(f"/admin/bots/{bot}/conversations/{done['conversation_id']}").json()["messages"][1]
    assert stored["content"] == done["text"]


def test_model_failure_mid_stream_is_an_error_event_and_a_partial_answer(api, bot, model):
    key = secret_key(api, bot)
    model.queue(Reply.stream(["Standard delivery takes ", "3 to 5 business days " * 8], cut=True))
    events = parse_sse(ask(api, bot, key, "How long does delivery take?", stream=True).text)
    assert events[-1][0] == "error" and events[-1][1]["code"]
    conversation = events[0][1]["conversation_id"]
    stored = api.get(f"/admin/bots/{bot}/conversations/{conversation}").json()["messages"][1]
    assert stored["error"] and stored["partial"] is True
    # The owner's history says so too, so a reloaded widget can mark the answer as cut.
    history = api.get(f"/v1/bots/{bot}/conversations/{conversation}", headers=bearer(key)).json()["messages"]
    assert [m["partial"] for m in history] == [False, True]


def test_off_topic_question_gets_the_fallback_without_calling_the_model(api, bot, model):
    key = secret_key(api, bot)
    body = ask(api, bot, key, "Who won the football world cup in 1998?").json()
    assert body["fallback"] is True and body["handoff"] is True and body["citations"] == []
    assert model.requests == []


def test_oversize_message_is_refused_before_the_model(api, bot, model):
    key = secret_key(api, bot)
    r = ask(api, bot, key, "refund " * 400)
    assert r.status_code == 413 and r.json()["error"]["code"] == "message_too_long"
    assert "2000" in r.json()["error"]["message"]
    assert model.requests == []
    assert api.get(f"/admin/bots/{bot}/conversations").json()["total"] == 0


@pytest.mark.parametrize("field", ["system_prompt", "base_url", "model", "temperature"])
def test_extra_fields_are_rejected(api, bot, model, field):
    key = secret_key(api, bot)
    r = ask(api, bot, key, "refund?", **{field: "http://evil.example"})
    assert r.status_code == 422 and field in r.json()["error"]["message"]
    assert model.requests == []


def test_keys_are_scoped_to_their_bot_and_revocable(api, model):
    a, b = make_bot(api, model.base_url, "A"), make_bot(api, model.base_url, "B")
    key_a = api.post(f"/admin/bots/{a}/keys", json={"kind": "secret", "label": "ci"}).json()
    r = ask(api, b, key_a["key"], "refund?")
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_bot"
    listed = api.get(f"/admin/bots/{a}/keys").json()["keys"]
    assert listed[0]["masked"].endswith("…") and key_a["key"] not in str(listed)
    assert api.delete(f"/admin/bots/{a}/keys/{key_a['id']}").status_code == 204
    assert ask(api, a, key_a["key"], "refund?").status_code == 401
    assert ask(api, a, "sk_made_up", "refund?").status_code == 401
    assert model.requests == []


def test_provider_key_is_stored_but_never_returned(api, bot, model, runtime):
    for body in (
        api.get(f"/admin/bots/{bot}").json(),
        api.get("/admin/bots").json(),
        api.get(f"/admin/bots/{bot}/spec").json(),
        api.get(f"/admin/bots/{bot}/versions/1").json(),
    ):
        assert "sk-provider-secret-123" not in str(body)
    # Sending the masked spec back keeps the stored key working.
    spec = api.get(f"/admin/bots/{bot}").json()["spec"]
    assert spec["model"]["api_key"] == "********"
    assert api.patch(f"/admin/bots/{bot}", json={"spec": spec}).status_code == 200
    assert api.post(f"/admin/bots/{bot}/versions", json={"note": "same"}).json()["number"] == 2
    with runtime.sessions() as s:
        assert s.get(tables.Bot, bot).spec["model"]["api_key"] == "sk-provider-secret-123"
        assert versions.version(s, bot, 2).spec["model"]["api_key"] == "sk-provider-secret-123"


def test_public_config_shows_display_fields_only(api, bot):
    r = api.get(f"/v1/bots/{bot}/config")
    assert r.status_code == 200
    config = r.json()
    assert set(config) == {
        "bot_id",
        "title",
        "avatar_url",
        "welcome",
        "starters",
        "theme",
        "language",
        "handoff",
        "image_origins",
    }
    text = str(config)
    for secret in ("SECRET-PROMPT-TEXT", "scripted", "sk-provider", "shop_help", "127.0.0.1", "openai"):
        assert secret not in text


def test_widget_sessions_are_origin_bound_and_never_share_history(api, bot, model):
    pk = publishable_key(api, bot)
    assert api.post(f"/v1/bots/{bot}/sessions", json={}, headers=bearer(pk)).status_code == 403
    assert (
        api.post(
            f"/v1/bots/{bot}/sessions", json={}, headers={**bearer(pk), "Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    open_ = lambda body={}: api.post(
        f"/v1/bots/{bot}/sessions",
        json=body,  # noqa: E731
        headers={**bearer(pk), "Origin": ORIGIN},
    ).json()
    one, two = open_(), open_()
    assert one["conversation_id"] != two["conversation_id"]
    # A publishable key cannot chat by itself.
    assert ask(api, bot, pk, "refund?").status_code == 403

    model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    r = ask(api, bot, one["token"], "Can I return an item?")
    assert r.status_code == 200 and r.json()["conversation_id"] == one["conversation_id"]
    mine = api.get(f"/v1/bots/{bot}/conversations/{one['conversation_id']}", headers=bearer(one["token"]))
    assert len(mine.json()["messages"]) == 2
    # The other session can neither read nor write into it.
    assert api.get(
        f"/v1/bots/{bot}/conversations/{one['conversation_id']}", headers=bearer(two["token"])
    ).status_code in (403, 404)
    assert ask(api, bot, two["token"], "hi", conversation_id=one["conversation_id"]).status_code in (403, 404)
    assert (
        api.get(f"/v1/bots/{bot}/conversations/{two['conversation_id']}", headers=bearer(two["token"])).status_code
        == 404
    )
    # Nor can a secret key of the same bot read a widget conversation.
    assert (
        api.get(
            f"/v1/bots/{bot}/conversations/{one['conversation_id']}", headers=bearer(secret_key(api, bot))
        ).status_code
        == 404
    )
    # Resuming needs the old token; without it the server starts fresh.
    assert open_({"conversation_id": one["conversation_id"]})["conversation_id"] != one["conversation_id"]
    resumed = open_({"conversation_id": one["conversation_id"], "previous_token": one["token"]})
    assert resumed["conversation_id"] == one["conversation_id"]
    assert (
        open_({"conversation_id": one["conversation_id"], "previous_token": two["token"]})["conversation_id"]
        != one["conversation_id"]
    )


def test_cors_allows_only_the_bots_origins(api, bot):
    pre = api.options(
        f"/v1/bots/{bot}/chat",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == ORIGIN
    assert "Authorization" in pre.headers["access-control-allow-headers"]
    bad = api.options(
        f"/v1/bots/{bot}/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in bad.headers
    config = api.get(f"/v1/bots/{bot}/config", headers={"Origin": "https://anywhere.example"})
    assert config.headers["access-control-allow-origin"] == "https://anywhere.example"
    admin = api.get("/admin/bots", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in admin.headers


@pytest.mark.both_backends
def test_feedback_and_handoff_are_stored_once(api, bot, model):
    key = secret_key(api, bot)
    model.queue(Reply.answer("Express delivery arrives the next business day [1]."))
    body = ask(api, bot, key, "How fast is express delivery?").json()
    url = f"/v1/bots/{bot}/messages/{body['message_id']}/feedback"
    assert api.post(url, json={"rating": "down", "comment": "too short"}, headers=bearer(key)).status_code == 204
    assert api.post(url, json={"rating": "up"}, headers=bearer(key)).status_code == 204
    assert api.post(url, json={"rating": "meh"}, headers=bearer(key)).status_code == 422
    other = secret_key(api, bot)
    assert api.post(url, json={"rating": "down"}, headers=bearer(other)).status_code == 404
    hand = {"name": "Ada", "email": "ada@example.com", "message": "Please call me"}
    h_url = f"/v1/bots/{bot}/conversations/{body['conversation_id']}/handoff"
    first = api.post(h_url, json=hand, headers=bearer(key))
    assert first.status_code == 201
    assert api.post(h_url, json=hand, headers=bearer(key)).json()["id"] == first.json()["id"]
    assert api.post(h_url, json={"name": "Ada", "message": "x"}, headers=bearer(key)).status_code == 422

    detail = api.get(f"/admin/bots/{bot}/conversations/{body['conversation_id']}").json()
    assert detail["messages"][1]["feedback"] == {"rating": "up", "comment": ""}
    assert len(detail["handoffs"]) == 1 and len(api.get(f"/admin/bots/{bot}/handoffs").json()["handoffs"]) == 1
    listed = api.get(f"/admin/bots/{bot}/conversations", params={"feedback": "up", "handoff": True}).json()
    assert listed["total"] == 1
    assert api.get(f"/admin/bots/{bot}/conversations", params={"feedback": "down"}).json()["total"] == 0
    stats = api.get(f"/admin/bots/{bot}/stats").json()["days"][0]
    assert stats["questions"] == 1 and stats["thumbs_up_rate"] == 1.0 and stats["fallback_rate"] == 0.0
    csv_text = api.get(f"/admin/bots/{bot}/export", params={"format": "csv"}).text
    assert csv_text.startswith("conversation_id,") and "Express delivery" in csv_text


def test_retried_request_with_the_same_idempotency_key_is_answered_once(api, bot, model):
    key = secret_key(api, bot)
    model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    headers = {**bearer(key), "Idempotency-Key": "retry-123"}
    first = api.post(f"/v1/bots/{bot}/chat", json={"message": "Can I return an item?"}, headers=headers).json()
    second = api.post(f"/v1/bots/{bot}/chat", json={"message": "Can I return an item?"}, headers=headers).json()
    assert first["message_id"] == second["message_id"] and len(model.requests) == 1
    detail = api.get(f"/admin/bots/{bot}/conversations/{first['conversation_id']}").json()
    assert len(detail["messages"]) == 2


@pytest.mark.both_backends
def test_concurrent_conversations_are_all_stored_whole(live_server, model):
    """Six customers at once, each asking twice, through a real server: every question and
    answer is stored once, in its own conversation, and counted in the stats."""
    with httpx.Client(base_url=live_server.url, headers=bearer(live_server.admin_token), timeout=120) as admin:
        bot = make_bot(admin, model.base_url)
        key = secret_key(admin, bot)
        model.queue(*[Reply.answer("Unused items can be returned within 30 days [1].") for _ in range(12)])

        def customer(i: int) -> tuple[str, list[int]]:
            with httpx.Client(base_url=live_server.url, headers=bearer(key), timeout=120) as client:
                url = f"/v1/bots/{bot}/chat"
                first = client.post(url, json={"message": f"Can I return the item of order {i}?"})
                again = client.post(
                    url, json={"message": "How long do I have?", "conversation_id": first.json()["conversation_id"]}
                )
                return first.json()["conversation_id"], [first.status_code, again.status_code]

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(customer, range(6)))
        assert [codes for _, codes in results] == [[200, 200]] * 6
        listed = admin.get(f"/admin/bots/{bot}/conversations").json()
        assert listed["total"] == 6
        assert {c["id"]: c["messages"] for c in listed["conversations"]} == {cid: 4 for cid, _ in results}
        days = admin.get(f"/admin/bots/{bot}/stats").json()["days"]
        assert sum(d["questions"] for d in days) == 12 and sum(d["conversations"] for d in days) == 6


def test_provider_retries_store_one_answer(api, model):
    bot = make_bot(
        api,
        model.base_url,
        model={"provider": "openai_compatible", "base_url": model.base_url, "model": "scripted", "max_retries": 2},
    )
    key = secret_key(api, bot)
    model.queue(Reply.error(500), Reply.answer("Refunds take 5 business days [1]."))
    body = ask(api, bot, key, "How long does the refund take?").json()
    assert len(model.requests) == 2 and "5 business days" in body["answer"]
    assert len(api.get(f"/admin/bots/{bot}/conversations/{body['conversation_id']}").json()["messages"]) == 2


def test_unpublished_bot_is_not_served(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    key = secret_key(api, bot)
    assert ask(api, bot, key, "refund?").status_code == 409
    assert api.get(f"/v1/bots/{bot}/config").status_code == 404
