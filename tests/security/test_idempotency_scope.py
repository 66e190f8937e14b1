"""Finding 7 (low): a repeated Idempotency-Key returned another widget visitor's answer.

Every widget conversation has the owner "session", and the replay matched bot, key and owner:
a visitor sending a key someone else had used got that person's question answered back, with
their conversation id. A session's replay now matches its own conversation (the one its signed
token names); an API key's stays scoped to the key."""

from __future__ import annotations

from tests.security.published_bots import bearer, new_key, published_bot, widget_session


def _ask(api, bot_id: str, token: str, message: str, key: str, **body):
    return api.post(
        f"/v1/bots/{bot_id}/chat",
        json={"message": message, **body},
        headers={**bearer(token), "Idempotency-Key": key},
    )


def test_a_widget_session_never_gets_another_sessions_answer_for_the_same_key(api):
    bot = published_bot(api)
    publishable = new_key(api, bot, "publishable")
    alice, bob = widget_session(api, bot, publishable), widget_session(api, bot, publishable)

    first = _ask(api, bot, alice["token"], "My order 1234 for Alice Martin never came", "key-1")
    assert first.status_code == 200, first.text
    theirs = _ask(api, bot, bob["token"], "Where is my parcel?", "key-1")
    assert theirs.status_code == 200, theirs.text

    assert theirs.json()["conversation_id"] == bob["conversation_id"]
    assert theirs.json()["message_id"] != first.json()["message_id"]
    bobs = api.get(f"/v1/bots/{bot}/conversations/{bob['conversation_id']}", headers=bearer(bob["token"])).json()
    assert [m["content"] for m in bobs["messages"] if m["role"] == "user"] == ["Where is my parcel?"]

    # A retry within one session is still answered from storage, streamed or not.
    again = _ask(api, bot, alice["token"], "My order 1234 for Alice Martin never came", "key-1")
    assert again.json()["message_id"] == first.json()["message_id"]
    streamed = _ask(api, bot, alice["token"], "My order 1234 for Alice Martin never came", "key-1", stream=True)
    assert first.json()["message_id"] in streamed.text
    alices = api.get(f"/v1/bots/{bot}/conversations/{alice['conversation_id']}", headers=bearer(alice["token"]))
    assert len(alices.json()["messages"]) == 2


def test_api_keys_replay_only_their_own_requests(api):
    bot = published_bot(api)
    one, two = new_key(api, bot), new_key(api, bot)
    first = _ask(api, bot, one, "Refund for order 1234?", "same")
    other = _ask(api, bot, two, "Opening hours?", "same")
    assert other.status_code == 200, other.text
    assert other.json()["conversation_id"] != first.json()["conversation_id"]
    assert _ask(api, bot, one, "Refund for order 1234?", "same").json()["message_id"] == first.json()["message_id"]


def test_an_empty_idempotency_key_is_no_key(api):
    """Found by the long API fuzz run (50 examples, issue #17): a second question in one widget
    session with `Idempotency-Key:` sent empty answered 500. The replay lookup read "" as no
    key, but the question was stored with "" as its key, so the second one broke the unique
    (conversation, key) of the first. An empty header is now no key, for sessions and API keys."""
    bot = published_bot(api)
    session = widget_session(api, bot, new_key(api, bot, "publishable"))
    first = _ask(api, bot, session["token"], "Where is my parcel?", "")
    second = _ask(api, bot, session["token"], "And my refund?", "", stream=True)
    assert first.status_code == 200, first.text
    assert second.status_code == 200 and "event: done" in second.text, second.text
    stored = api.get(f"/v1/bots/{bot}/conversations/{session['conversation_id']}", headers=bearer(session["token"]))
    assert [m["content"] for m in stored.json()["messages"] if m["role"] == "user"] == [
        "Where is my parcel?",
        "And my refund?",
    ]

    secret = new_key(api, bot)
    one = _ask(api, bot, secret, "Opening hours?", "")
    two = _ask(api, bot, secret, "And on Sunday?", "", conversation_id=one.json()["conversation_id"])
    assert two.status_code == 200, two.text
    assert two.json()["message_id"] != one.json()["message_id"]
