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
from tests.public_api_support import bearer, make_bot, parse_sse, secret_key
from tests.scripted_openai import Reply, ScriptedOpenAI

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


def json_chat(api, bot, key, question) -> Outcome:
    r = api.post(f"/v1/bots/{bot}/chat", json={"message": question}, headers=bearer(key))
    if r.status_code != 200:
        return Outcome(error=r.json()["error"]["code"], status=r.status_code)
    b = r.json()
    return Outcome(b["answer"], b["citations"], b["fallback"], b["handoff"], b["conversation_id"])


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
    return Outcome(last["text"], citations, last["fallback"], last["handoff"], last["conversation_id"], streamed)


def completions(api, bot, key, question, **body) -> Outcome:
    request = {"model": bot, "messages": [{"role": "user", "content": question}], **body}
    r = api.post("/v1/chat/completions", json=request, headers=bearer(key))
    if r.status_code != 200:
        return Outcome(error=r.json()["error"]["code"], status=r.status_code)
    ext = r.json()["prompteur"]
    text = r.json()["choices"][0]["message"]["content"]
    return Outcome(text, ext["citations"], ext["fallback"], ext["handoff"], ext["conversation_id"])


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
    return Outcome(ext["text"], ext["citations"], ext["fallback"], ext["handoff"], ext["conversation_id"], streamed)


CHANNELS = {"json": json_chat, "sse": sse_chat, "openai": completions, "openai_stream": completions_stream}


@pytest.fixture
def settings(isolated_home) -> Settings:
    # Many questions from one key in a few seconds: these tests are not about rate limits.
    return Settings(home=isolated_home, rate_per_session=10_000, rate_per_bot=10_000, rate_per_ip=10_000)


@pytest.fixture
def model():
    server = ScriptedOpenAI().start()
    yield server
    server.close()


@pytest.fixture
def bot(api, model):
    return make_bot(
        api, model.base_url, fallback={"handoff": {"enabled": True, "kind": "form"}, "allow_small_talk": True}
    )


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
        assert stored_answer(api, bot, got.conversation_id)["content"] == got.text, where
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
    words = ["delivery", "takes", "three", "business", "days", "refunds", "are", "paid", "to", "the", "parcel"]
    parts = ["Here is what applies."]
    for _ in range(rng.randint(2, 8)):
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(3, 40)))
        parts.append(rng.choice([" ", " ", "\n1. ", "\n- ", "\n\n"]) + sentence.capitalize())
        parts.append(rng.choice([".", "!", "?", " (e.g. 1.5 days).", " (e."]))
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
