"""Held in the review: keys and widget sessions are scoped. A key or session of bot A cannot
chat with bot B, read its conversations or rate its answers; a session cannot read, write
into or rate another session's conversation; a key cannot read another key's."""

from __future__ import annotations

from tests.security.published_bots import bearer, new_key, published_bot, widget_session


def _ask(api, bot: str, token: str, message: str = "hello", **body):
    return api.post(f"/v1/bots/{bot}/chat", json={"message": message, **body}, headers=bearer(token))


def _reads(api, bot: str, conversation: str, token: str) -> int:
    return api.get(f"/v1/bots/{bot}/conversations/{conversation}", headers=bearer(token)).status_code


def _rates(api, bot: str, message: str, token: str) -> int:
    return api.post(
        f"/v1/bots/{bot}/messages/{message}/feedback", json={"rating": "down"}, headers=bearer(token)
    ).status_code


def _hands_off(api, bot: str, conversation: str, token: str) -> int:
    return api.post(
        f"/v1/bots/{bot}/conversations/{conversation}/handoff",
        json={"name": "Eve", "email": "eve@example.com", "message": "call me"},
        headers=bearer(token),
    ).status_code


def test_a_bots_keys_and_sessions_reach_nothing_of_another_bot(api):
    a, b = published_bot(api, "A"), published_bot(api, "B")
    key_a, key_b = new_key(api, a), new_key(api, b)
    session_a = widget_session(api, a, new_key(api, a, "publishable"))["token"]
    theirs = _ask(api, b, key_b, "my address is 1 Main Street").json()
    conversation_b, message_b = theirs["conversation_id"], theirs["message_id"]

    for token in (key_a, session_a):
        # Named as bot B: refused outright.
        assert _ask(api, b, token).status_code == 403
        assert _reads(api, b, conversation_b, token) == 403
        assert _rates(api, b, message_b, token) == 403
        assert _hands_off(api, b, conversation_b, token) == 403
        # Named as its own bot A, with B's ids: nothing there.
        assert _reads(api, a, conversation_b, token) in (403, 404)
        assert _rates(api, a, message_b, token) in (403, 404)
        assert _hands_off(api, a, conversation_b, token) in (403, 404)
        assert _ask(api, a, token, conversation_id=conversation_b).status_code in (403, 404)
    # The OpenAI-compatible endpoint: `model` must be the key's own bot; sessions never.
    for token, status in ((key_a, 403), (session_a, 401)):
        completion = api.post(
            "/v1/chat/completions",
            json={"model": b, "messages": [{"role": "user", "content": "hello"}]},
            headers=bearer(token),
        )
        assert completion.status_code == status, completion.text

    detail = api.get(f"/admin/bots/{b}/conversations/{conversation_b}").json()
    assert len(detail["messages"]) == 2 and detail["handoffs"] == []
    assert all(m["feedback"] is None for m in detail["messages"])


def test_sessions_and_keys_of_one_bot_reach_only_their_own_conversations(api):
    bot = published_bot(api)
    publishable = new_key(api, bot, "publishable")
    one, two = widget_session(api, bot, publishable), widget_session(api, bot, publishable)
    mine = _ask(api, bot, one["token"], "my order is 1234").json()
    key, other_key = new_key(api, bot), new_key(api, bot)
    keyed = _ask(api, bot, key, "my card ends in 4242").json()

    # Another session: cannot read, continue, rate or hand off the first one's conversation.
    assert _reads(api, bot, one["conversation_id"], two["token"]) in (403, 404)
    assert _ask(api, bot, two["token"], conversation_id=one["conversation_id"]).status_code in (403, 404)
    assert _rates(api, bot, mine["message_id"], two["token"]) in (403, 404)
    assert _hands_off(api, bot, one["conversation_id"], two["token"]) in (403, 404)
    # Secret keys of the same bot: neither a session's conversation nor another key's.
    for token, conversation, message in (
        (key, one["conversation_id"], mine["message_id"]),
        (other_key, keyed["conversation_id"], keyed["message_id"]),
    ):
        assert _reads(api, bot, conversation, token) == 404
        assert _rates(api, bot, message, token) == 404
        assert _ask(api, bot, token, conversation_id=conversation).status_code == 404
    # A session cannot borrow a key's conversation either.
    assert _reads(api, bot, keyed["conversation_id"], one["token"]) in (403, 404)

    # Their owners still can.
    assert _reads(api, bot, one["conversation_id"], one["token"]) == 200
    assert _reads(api, bot, keyed["conversation_id"], key) == 200
    listed = api.get(f"/admin/bots/{bot}/conversations").json()["conversations"]
    assert sorted(c["messages"] for c in listed) == [2, 2]
