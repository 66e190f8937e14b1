"""One answer whatever the channel: the same scripted model output, asked through the JSON chat,
the SSE chat, and the OpenAI-compatible endpoint (whole and streamed), gives the same final
text, citations, fallback and hand-off flags — or the same error code. Through the real app
(TestClient), real SQLite/Chroma/retrieval, and a scripted OpenAI-compatible server as the
bot's model. The behaviour per case is documented in bots/core/answering.py."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import pytest

from bots.settings import Settings
from tests.public_api_support import FIXTURES, bearer, make_bot, parse_sse, secret_key
from tests.scripted_openai import Reply

FALLBACK = (
    "I'm sorry, I don't have that information. "
    "If you like, leave your details and a person from our team will get back to you."
)
RETURNS = "Can I return an item for a refund?"


@dataclass
class Case:
    name: str
    question: str
    reply: Reply | None  # None: the model must not be called
    text: str | None = None  # the expected final text, when it is exact
    cited: bool = False
    fallback: bool = False
    handoff: bool = False
    error: str | None = None  # the expected error code
    status: int | None = None  # ... and HTTP status for the whole-answer channels
    streamed_whole: bool = True  # the deltas joined are the final text
    quoted: bool = False  # the final text is quoted from the document (the extractive answer)
    guard: dict | None = None  # the stored debug's guard record: {"action", "kinds"}
    never_streamed: str | None = None  # text no delta may carry (an unsupported claim)
    streamed_first: str | None = None  # what streams do show first (checked model text)


CASES = [
    Case(
        "grounded answer with citations",
        RETURNS,
        Reply.answer("Unused items can be returned within 30 days for a full refund [1]."),
        text="Unused items can be returned within 30 days for a full refund.",
        cited=True,
    ),
    Case(
        "cut by the token limit mid-sentence",
        "How long does delivery take?",
        Reply.cut_by_limit(
            "Standard delivery takes 3 to 5 business days and is free for orders over 50 euros. "
            "Express delivery arrives the next business day and costs"
        ),
        text="Standard delivery takes 3 to 5 business days and is free for orders over 50 euros.",
        cited=True,
    ),
    Case(
        "leak of the system prompt and its canary",
        RETURNS,
        Reply.echo_system(),
        text=FALLBACK,
        fallback=True,
        handoff=True,
        streamed_whole=False,  # a little of it may have been streamed before the leak showed
    ),
    Case(
        "fallback sentence alone",
        RETURNS,
        Reply.answer("I'm sorry, I don't have that information."),
        text=FALLBACK,
        fallback=True,
        handoff=True,
    ),
    Case(
        "fallback with chatter",
        RETURNS,
        Reply.answer("Hmm, good question! I'm sorry, I don't have that information. But bikes are fun."),
        text=FALLBACK,
        fallback=True,
        handoff=True,
    ),
    Case("empty output", RETURNS, Reply.answer(""), text=FALLBACK, fallback=True, handoff=True),
    Case(
        "nothing relevant retrieved: the gate's fallback",
        "Who won the football world cup in 1998?",
        None,
        text=FALLBACK,
        fallback=True,
        handoff=True,
    ),
    Case(
        "small talk",
        "Hello!",
        Reply.answer("Hello! How can I help you today?"),
        text="Hello! How can I help you today?",
    ),
    Case(
        "invented amount: replaced by the quoted answer",
        RETURNS,
        Reply.answer("Returns cost 15 euros and are accepted within 30 days [1]."),
        cited=True,
        quoted=True,
        guard={"action": "replaced", "kinds": ["amount"]},
        never_streamed="15 euros",
    ),
    Case(
        "invented phone number after a true sentence: replaced, the claim never shown",
        RETURNS,
        Reply.answer(
            "Unused items can be returned within 30 days. Call +33 1 23 45 67 89 to start a return, "
            "any day of the week, and a courier collects the parcel at your door."
        ),
        cited=True,
        quoted=True,
        guard={"action": "replaced", "kinds": ["phone"]},
        never_streamed="+33",
        streamed_first="Unused items can be returned within 30 days.\n\n",
        streamed_whole=False,  # the true sentence was shown, then the quote replaced it
    ),
    Case(
        "invented date: replaced by the quoted answer",
        RETURNS,
        Reply.answer("Returns are accepted until March 3, 2025."),
        cited=True,
        quoted=True,
        guard={"action": "replaced", "kinds": ["date"]},
        never_streamed="March 3",
    ),
    Case(
        "numbers written differently from the document: kept",
        RETURNS,
        Reply.answer("You have a 30-day window to return unused items. The refund arrives within 5 business-days."),
        text="You have a 30-day window to return unused items. The refund arrives within 5 business-days.",
        cited=True,
    ),
    Case("provider 429 before any text", RETURNS, Reply.error(429), error="model_rate_limited", status=503),
    Case("provider 500 before any text", RETURNS, Reply.error(500), error="model_unavailable", status=503),
]


@dataclass
class Outcome:
    text: str | None = None
    citations: list | None = None
    fallback: bool | None = None
    handoff: bool | None = None
    conversation_id: str | None = None
    streamed: str | None = None  # the deltas joined, for streams
    error: str | None = None
    status: int = 200
    answered_by: str | None = None


def json_chat(api, bot, key, question) -> Outcome:
    r = api.post(f"/v1/bots/{bot}/chat", json={"message": question}, headers=bearer(key))
    if r.status_code != 200:
        return Outcome(error=r.json()["error"]["code"], status=r.status_code)
    b = r.json()
    return Outcome(
        b["answer"], b["citations"], b["fallback"], b["handoff"], b["conversation_id"], answered_by=b["answered_by"]
    )


def sse_chat(api, bot, key, question) -> Outcome:
    r = api.post(f"/v1/bots/{bot}/chat", json={"message": question, "stream": True}, headers=bearer(key))
    assert r.status_code == 200, r.text
    events = parse_sse(r.text)
    streamed = "".join(d["text"] for n, d in events if n == "delta")
    name, last = events[-1]
    if name == "error":
        return Outcome(error=last["code"], streamed=streamed)
    assert name == "done"
    citations = next(d["citations"] for n, d in events if n == "citations")
    return Outcome(
        last["text"],
        citations,
        last["fallback"],
        last["handoff"],
        last["conversation_id"],
        streamed,
        answered_by=last["answered_by"],
    )


def completions(api, bot, key, question, **body) -> Outcome:
    request = {"model": bot, "messages": [{"role": "user", "content": question}], **body}
    r = api.post("/v1/chat/completions", json=request, headers=bearer(key))
    if r.status_code != 200:
        return Outcome(error=r.json()["error"]["code"], status=r.status_code)
    ext = r.json()["prompteur"]
    text = r.json()["choices"][0]["message"]["content"]
    return Outcome(
        text, ext["citations"], ext["fallback"], ext["handoff"], ext["conversation_id"], answered_by=ext["answered_by"]
    )


def completions_stream(api, bot, key, question, **body) -> Outcome:
    request = {"model": bot, "messages": [{"role": "user", "content": question}], "stream": True, **body}
    r = api.post("/v1/chat/completions", json=request, headers=bearer(key))
    assert r.status_code == 200, r.text
    frames = [line.removeprefix("data: ") for line in r.text.split("\n\n") if line.startswith("data: ")]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    if "error" in chunks[-1]:
        return Outcome(error=chunks[-1]["error"]["code"], streamed=streamed)
    ext = next(c["prompteur"] for c in chunks if "prompteur" in c)  # the last chunk with a choice
    return Outcome(
        ext["text"],
        ext["citations"],
        ext["fallback"],
        ext["handoff"],
        ext["conversation_id"],
        streamed,
        answered_by=ext["answered_by"],
    )


CHANNELS = {"json": json_chat, "sse": sse_chat, "openai": completions, "openai_stream": completions_stream}


@pytest.fixture
def settings(isolated_home) -> Settings:
    # Many questions from one key in a few seconds: these tests are not about rate limits.
    return Settings(home=isolated_home, rate_per_session=10_000, rate_per_bot=10_000, rate_per_ip=10_000)


@pytest.fixture
def bot(api, model):
    return make_bot(
        api, model.base_url, fallback={"handoff": {"enabled": True, "kind": "form"}, "allow_small_talk": True}
    )


def is_quoted(text: str) -> bool:
    """Every line of the answer, but for its Markdown list or heading marks, is in the document."""
    document = " ".join((FIXTURES / "shop_help.md").read_text().split())
    lines = [line.strip().removeprefix("- ").strip("*").strip() for line in text.splitlines()]
    return bool(text.strip()) and all(line in document for line in lines if line)


def stored_answer(api, bot, conversation_id) -> dict:
    return api.get(f"/admin/bots/{bot}/conversations/{conversation_id}").json()["messages"][-1]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_channel_gives_the_same_answer(api, bot, model, case):
    key = secret_key(api, bot)
    outcomes = {}
    for channel, ask in CHANNELS.items():
        if case.reply:
            model.queue(case.reply)
        outcomes[channel] = ask(api, bot, key, case.question)
    assert len(model.requests) == (len(CHANNELS) if case.reply else 0)

    for channel, got in outcomes.items():
        where = f"{case.name} via {channel}"
        if case.error:
            assert got.error == case.error, where
            if channel in ("json", "openai"):
                assert got.status == case.status, where
            else:
                assert got.streamed == "", where  # nothing was shown before the error
            continue
        assert got.error is None, (where, got)
        assert (got.fallback, got.handoff) == (case.fallback, case.handoff), where
        assert bool(got.citations) == case.cited, where
        if case.text is not None:
            assert got.text == case.text, where
        # What a client shows is what is stored.
        stored = stored_answer(api, bot, got.conversation_id)
        assert stored["content"] == got.text, where
        # No corrected answers here: the model (or the documents) answered, or the fallback did.
        assert got.answered_by == stored["answered_by"] == ("fallback" if case.fallback else "model"), where
        if case.quoted:
            assert is_quoted(got.text), where
        guard = (stored["debug"] or {}).get("guard")
        if case.guard:
            assert guard and guard["action"] == case.guard["action"], where
            assert [c["kind"] for c in guard["claims"]] == case.guard["kinds"], where
        else:
            assert guard is None, where
        if case.never_streamed:
            assert case.never_streamed not in (got.streamed or "") + got.text, where
        if case.streamed_first and got.streamed is not None:
            assert got.streamed == case.streamed_first + got.text, where
        if got.streamed is not None and case.streamed_whole:
            assert got.streamed == got.text, where
        if case.reply and case.reply.kind == "echo_system":
            assert "SECRET-PROMPT-TEXT" not in (got.streamed or "") + got.text, where
    # The same answer everywhere, sources included.
    first = outcomes["json"]
    for channel, got in outcomes.items():
        assert (got.text, got.citations, got.fallback, got.handoff) == (
            first.text,
            first.citations,
            first.fallback,
            first.handoff,
        ), f"{case.name}: json and {channel} differ"


def _answer_cut_by_the_limit(rng: random.Random) -> list[str]:
    """A model-like answer of sentences and list items, as the chunks (about a token each) a
    model streams until max_tokens stops it somewhere — often inside a sentence that began
    well before the last 80 characters, which a stream holds back anyway."""
    # No number words: "three days" is a claim the document does not support.
    words = ["delivery", "takes", "several", "business", "days", "refunds", "are", "paid", "to", "the", "parcel"]
    parts = ["Here is what applies."]
    for _ in range(rng.randint(2, 8)):
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
        parts.append(rng.choice([" ", " ", "\n1. ", "\n- ", "\n\n"]) + sentence.capitalize())
        # Numbers the document has: the guard would replace an answer with an invented one.
        parts.append(rng.choice([".", "!", "?", " (e.g. 5 business days).", " (e."]))
    text = "".join(parts)
    chunks, at = [], 0
    while at < len(text):
        size = rng.randint(1, 6)
        chunks.append(text[at : at + size])
        at += size
    return chunks[: rng.randint(3, len(chunks))]  # wherever the limit falls


def test_streamed_deltas_are_the_stored_answer_wherever_the_limit_cuts(api, bot, model):
    key = secret_key(api, bot)
    rng = random.Random(20240610)
    for _ in range(40):
        chunks = _answer_cut_by_the_limit(rng)
        model.queue(Reply("stream", chunks=chunks, finish="length"))
        # The client's max_tokens is the bot's limit for this answer; each chunk is a token.
        got = completions_stream(api, bot, key, RETURNS, max_tokens=len(chunks))
        assert got.error is None and not got.fallback, chunks
        assert got.streamed == got.text == stored_answer(api, bot, got.conversation_id)["content"], chunks


@pytest.mark.parametrize(
    "question, reason",
    [(RETURNS, "grounded"), ("Hello!", "small_talk"), ("Who won the football world cup in 1998?", None)],
)
def test_an_extractive_bot_answers_the_same_everywhere_without_its_model(api, model, question, reason):
    bot = make_bot(
        api,
        model.base_url,
        name="Quoting shop",
        answer={"style": "extractive"},
        fallback={"handoff": {"enabled": True, "kind": "form"}, "allow_small_talk": True},
    )
    key = secret_key(api, bot)
    outcomes = {channel: ask(api, bot, key, question) for channel, ask in CHANNELS.items()}
    assert model.requests == []  # no model wrote a word
    first = outcomes["json"]
    for channel, got in outcomes.items():
        assert got.error is None, (channel, got)
        assert (got.text, got.citations, got.fallback, got.handoff) == (
            first.text,
            first.citations,
            first.fallback,
            first.handoff,
        ), channel
        if got.streamed is not None:
            assert got.streamed == got.text, channel
        stored = stored_answer(api, bot, got.conversation_id)
        assert stored["content"] == got.text
        assert stored["debug"]["style"] == "extractive"
    if reason == "grounded":
        assert is_quoted(first.text) and "30 days" in first.text and first.citations
        assert not first.fallback
    elif reason == "small_talk":
        assert first.text == "Hello! How can I help you today?"  # the persona's greeting
        assert not first.fallback and not first.citations
    else:
        assert first.text == FALLBACK and first.fallback
