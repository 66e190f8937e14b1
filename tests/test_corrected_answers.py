"""Corrected answers through the real app: the approved text word for word in every channel
(no model called), paraphrases matched with the bot's real embedding model, close ones given
as top passages, never another bot's, frozen with each published version, edited through the
admin API and CSV."""

from __future__ import annotations

import pytest

from bots.settings import Settings
from tests.public_api_support import make_bot, secret_key
from tests.test_answer_channels import CHANNELS, stored_answer

QUESTION = "Can I pay with a gift card?"
PARAPHRASE = "Is it possible to use a gift card to pay?"
APPROVED = "Yes: gift cards are accepted for every order, online and in our shops."
SOURCES = [{"source": "payments.pdf", "page": 2}]


@pytest.fixture
def settings(isolated_home) -> Settings:
    return Settings(home=isolated_home, rate_per_session=10_000, rate_per_bot=10_000, rate_per_ip=10_000)


def add(api, bot: str, **fields) -> dict:
    body = {"question": QUESTION, "answer": APPROVED, "sources": SOURCES, **fields}
    r = api.post(f"/admin/bots/{bot}/corrected-answers", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def publish(api, bot: str) -> None:
    assert api.post(f"/admin/bots/{bot}/versions", json={"note": "corrections"}).status_code == 201


def test_a_corrected_answer_is_the_same_through_every_channel_and_calls_no_model(api, model):
    bot = make_bot(api, model.base_url)
    created = add(api, bot, paraphrases=["Do you take gift cards?"])
    publish(api, bot)
    key = secret_key(api, bot)
    for channel, ask in CHANNELS.items():
        got = ask(api, bot, key, QUESTION)
        where = channel
        assert got.error is None, (where, got)
        assert got.text == APPROVED, where
        assert got.answered_by == "corrected", where
        assert (got.fallback, got.handoff) == (False, False), where
        assert [(c["source"], c["page"]) for c in got.citations] == [("payments.pdf", 2)], where
        if got.streamed is not None:
            assert got.streamed == got.text, where
        stored = stored_answer(api, bot, got.conversation_id)
        assert stored["content"] == APPROVED and stored["answered_by"] == "corrected", where
        assert stored["debug"]["corrected"]["id"] == created["id"], where
    assert model.requests == []  # no model wrote a word
    row = api.get(f"/admin/bots/{bot}/corrected-answers/{created['id']}").json()
    assert row["hit_count"] == len(CHANNELS) and row["last_used_at"]


def test_a_paraphrase_gets_it_and_a_different_question_does_not(api, model):
    bot = make_bot(api, model.base_url, answer={"style": "extractive"}, publish=False)
    add(api, bot)
    ask = lambda q: api.post(f"/admin/bots/{bot}/playground", json={"message": q, "version": "draft"}).json()  # noqa: E731
    got = ask(PARAPHRASE)
    assert (got["answer"], got["answered_by"]) == (APPROVED, "corrected")
    assert got["debug"]["style"] == "corrected" and got["debug"]["corrected"]["score"] >= 0.82
    other = ask("Can I return an item for a refund?")
    assert other["answered_by"] == "model" and "30 days" in other["answer"]


def test_a_close_but_not_close_enough_corrected_answer_is_the_top_passage(api, model):
    # Threshold above any similarity: never word for word, always the best passage.
    bot = make_bot(
        api,
        model.base_url,
        answer={"style": "extractive"},
        corrections={"threshold": 1.0, "floor": 0.5},
        publish=False,
    )
    created = add(api, bot)
    got = api.post(f"/admin/bots/{bot}/playground", json={"message": PARAPHRASE, "version": "draft"}).json()
    assert got["answered_by"] == "model"
    assert "gift cards are accepted" in got["answer"]  # quoted from the corrected answer
    assert got["citations"][0]["chunk_id"] == "corrected:" + created["id"]
    assert got["debug"]["hits"][0]["chunk_id"] == "corrected:" + created["id"]


def test_a_corrected_answer_in_another_language_is_not_given_word_for_word(api, model):
    bot = make_bot(api, model.base_url, answer={"style": "extractive"}, publish=False)
    add(api, bot, answer="Oui : les cartes cadeaux sont acceptées pour toutes les commandes.")
    got = api.post(f"/admin/bots/{bot}/playground", json={"message": QUESTION, "version": "draft"}).json()
    # The bot answers in the customer's language (auto): the French text is only a passage.
    assert got["answered_by"] != "corrected"


def test_a_corrected_answer_is_never_reached_from_another_bot(api, model):
    bot = make_bot(api, model.base_url, answer={"style": "extractive"})
    other = make_bot(api, model.base_url, name="Other shop", answer={"style": "extractive"})
    created = add(api, bot)
    publish(api, bot)
    publish(api, other)
    got = api.post(f"/admin/bots/{other}/playground", json={"message": QUESTION, "version": "published"}).json()
    assert got["answered_by"] != "corrected" and APPROVED not in got["answer"]
    assert "gift card" not in str(got["citations"])
    # Nor through the admin API under the other bot's id.
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"enabled": False}} if method == "patch" else {}
        r = getattr(api, method)(f"/admin/bots/{other}/corrected-answers/{created['id']}", **kwargs)
        assert r.status_code == 404 and r.json()["error"]["code"] == "corrected_answer_not_found", method
    assert api.get(f"/admin/bots/{other}/corrected-answers").json()["answers"] == []


def test_a_published_version_keeps_the_corrected_answers_it_was_published_with(api, model):
    bot = make_bot(api, model.base_url, answer={"style": "extractive"})  # published without any
    created = add(api, bot)

    def ask(version):
        body = {"message": QUESTION, "version": version}
        return api.post(f"/admin/bots/{bot}/playground", json=body).json()

    assert ask("published")["answered_by"] != "corrected"
    assert ask("draft")["answered_by"] == "corrected"
    publish(api, bot)
    assert ask("published")["answered_by"] == "corrected"
    # Disabled in the draft: version 2 still has it, the draft no longer.
    r = api.patch(f"/admin/bots/{bot}/corrected-answers/{created['id']}", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert ask("draft")["answered_by"] != "corrected"
    assert ask(2)["answered_by"] == "corrected"
    # An edited answer reaches the draft at once (its vectors are recomputed on edit).
    api.patch(
        f"/admin/bots/{bot}/corrected-answers/{created['id']}",
        json={"enabled": True, "question": "When does the shop open on Sundays?", "answer": "It does not."},
    )
    assert ask("draft")["answered_by"] != "corrected"
    sunday = api.post(
        f"/admin/bots/{bot}/playground", json={"message": "Is the shop open on Sunday?", "version": "draft"}
    ).json()
    assert (sunday["answer"], sunday["answered_by"]) == ("It does not.", "corrected")


def test_editing_searching_csv_and_bad_input(api, model):
    bot = make_bot(api, model.base_url, answer={"style": "extractive"}, publish=False)
    created = add(api, bot, paraphrases=["Gift card payment?", "Gift card payment?", " "])
    assert created["paraphrases"] == ["Gift card payment?"]  # duplicates and blanks dropped
    add(api, bot, question="Do you deliver to Belgium?", answer="Yes, in 2 to 4 business days.", sources=[])
    base = f"/admin/bots/{bot}/corrected-answers"
    assert [a["question"] for a in api.get(base, params={"q": "belgium"}).json()["answers"]] == [
        "Do you deliver to Belgium?"
    ]
    for bad in ({"question": " ", "answer": "x"}, {"question": "q", "answer": ""}, {"question": "q"}):
        r = api.post(base, json=bad)
        assert r.status_code == 422, bad
    assert len(api.get(base).json()["answers"]) == 2  # nothing stored by the refusals

    exported = api.get(f"{base}/export", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.text.replace(APPROVED, "Yes, gift cards are welcome.")
    # Columns: id, question, paraphrases, answer, sources, enabled, hit_count, last_used_at.
    text += ',"How much is express delivery?",,"9 euros.",,yes,,\r\n'
    r = api.post(f"{base}/import", content=text.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 1, "updated": 2}
    rows = {a["question"]: a for a in api.get(base).json()["answers"]}
    assert rows[QUESTION]["answer"] == "Yes, gift cards are welcome."
    assert rows[QUESTION]["id"] == created["id"] and rows[QUESTION]["sources"] == SOURCES
    assert rows["How much is express delivery?"]["answer"] == "9 euros."

    # A bad line refuses the whole file, naming the line; nothing is changed.
    bad = "question,answer\nGood question?,Good answer.\n,No question\n"
    r = api.post(f"{base}/import", content=bad.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 422 and "line 3" in r.json()["error"]["message"]
    assert len(api.get(base).json()["answers"]) == 3
    r = api.post(f"{base}/import", content=b"\xff\xfe", headers={"content-type": "text/csv"})
    assert r.status_code == 422

    assert api.delete(f"{base}/{created['id']}").status_code == 204
    assert api.get(f"{base}/{created['id']}").status_code == 404


def test_a_close_corrected_answer_naming_another_term_is_a_passage_not_the_answer(api, model):
    # Issue #14: a threshold any of these questions passes, so only the check tells them apart.
    bot = make_bot(
        api, model.base_url, answer={"style": "extractive"}, corrections={"threshold": 0.5, "floor": 0.3}, publish=False
    )
    created = add(
        api,
        bot,
        question="Can I return an item within 30 days?",
        answer="Yes: returns are accepted within 30 days of delivery.",
        # One approved answer for two payment services: the paraphrase names the second.
        paraphrases=["Can I return an item bought with PayPal?"],
    )
    ask = lambda q: api.post(f"/admin/bots/{bot}/playground", json={"message": q, "version": "draft"}).json()  # noqa: E731
    got = ask("Can I return an item within 60 days?")
    assert got["answered_by"] != "corrected"
    refused = got["debug"]["corrected_refused"]
    assert (refused["id"], refused["asked"], refused["approved"]) == (created["id"], ["60"], ["30"])
    assert "the question names 60, the approved one names 30" in refused["why"]
    # Nothing lost: the approved answer is still the top passage.
    assert got["debug"]["hits"][0]["chunk_id"] == "corrected:" + created["id"]
    # Compared with the text that matched: the paraphrase names PayPal, as the customer does.
    paypal = ask("Can I return an item bought with PayPal?")
    assert paypal["answered_by"] == "corrected" and paypal["debug"]["corrected_refused"] is None


def test_a_family_of_corrected_answers_does_not_answer_for_a_member_it_lacks(api, model):
    # Issue #14: templated questions differing by one lower-case word. The threshold is one
    # every question here passes, so only the family check tells them apart.
    bot = make_bot(
        api,
        model.base_url,
        answer={"style": "extractive"},
        corrections={"threshold": 0.5, "floor": 0.3, "family_margin": 0.3},
        publish=False,
    )
    family = {
        add(api, bot, question=f"Can I take ibuprofen while on {drug}?", answer=answer, sources=[])["id"]: drug
        for drug, answer in (
            ("lithium", "No: ibuprofen raises lithium levels; ask your doctor first."),
            ("antidepressants", "Yes, for a few days, unless your doctor said otherwise."),
        )
    }
    lone = add(api, bot)  # the gift-card answer, with no look-alike
    ask = lambda q: api.post(f"/admin/bots/{bot}/playground", json={"message": q, "version": "draft"}).json()  # noqa: E731
    got = ask("Can I take ibuprofen while on antipsychotics?")
    assert got["answered_by"] != "corrected"
    refused = got["debug"]["corrected_refused"]
    assert refused["id"] in family and refused["sibling"]["id"] in family
    assert refused["sibling"]["id"] != refused["id"]
    assert refused["asked"] == ["antipsychotics"] and refused["approved"] == [family[refused["id"]]]
    assert refused["sibling"]["question"] in refused["why"]
    # Nothing lost: the closest one is still the top passage.
    assert got["debug"]["hits"][0]["chunk_id"] == "corrected:" + refused["id"]
    # A family member asked its own question still gets its answer word for word...
    own = ask("Can I take ibuprofen while on lithium?")
    assert own["answered_by"] == "corrected" and own["answer"].startswith("No: ibuprofen raises lithium")
    # ... and the lone entry's paraphrase keeps its hit (its words differ: "possible", "use").
    paraphrase = ask(PARAPHRASE)
    assert (paraphrase["answer"], paraphrase["answered_by"]) == (APPROVED, "corrected")
    assert paraphrase["debug"]["corrected"]["id"] == lone["id"]
