"""OpenAIChatModel against a scripted OpenAI-compatible server over real HTTP."""

from __future__ import annotations

import pytest

from bots.core.spec import ModelSettings
from bots.llm.errors import (
    ModelAuthError,
    ModelConfigError,
    ModelRateLimited,
    ModelRequestError,
    ModelTimeout,
    ModelUnavailable,
    StreamInterrupted,
)
from bots.llm.protocol import Completion, TextDelta, Usage
from bots.llm.providers import PLACEHOLDER_KEY, OpenAIChatModel, RetryPolicy
from tests.scripted_openai import Reply, ScriptedOpenAI

MESSAGES = [{"role": "user", "content": "Hello?"}]


@pytest.fixture
def server():
    scripted = ScriptedOpenAI().start()
    yield scripted
    scripted.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def model(server, sleeps):
    chat = OpenAIChatModel(
        model="scripted",
        api_key="sk-test",
        base_url=server.base_url,
        timeout_s=1.0,
        retry=RetryPolicy(max_retries=2),
        sleep=sleeps.append,  # retries are asserted by what was waited for, not by clocks
    )
    yield chat
    chat.close()


def collect(events) -> tuple[str, Completion | None]:
    text, end = [], None
    for event in events:
        if isinstance(event, TextDelta):
            text.append(event.text)
        else:
            end = event
    return "".join(text), end


def test_complete_returns_text_and_usage(server, model):
    server.queue(Reply.answer("Our shop opens at nine."))
    result = model.complete(MESSAGES, max_tokens=50, temperature=0.2)
    assert result.text == "Our shop opens at nine."
    assert result.usage.prompt_tokens == 11 and result.usage.completion_tokens == 7
    sent = server.requests[0]
    assert sent["model"] == "scripted" and sent["max_tokens"] == 50 and sent["messages"] == MESSAGES


def test_429_with_retry_after_is_honoured_then_succeeds(server, model, sleeps):
    server.queue(Reply.error(429, "slow down", headers={"Retry-After": "2"}), Reply.answer("ok"))
    assert model.complete(MESSAGES, max_tokens=5, temperature=0).text == "ok"
    assert len(server.requests) == 2
    assert sleeps == [2.0]


def test_retry_after_too_long_is_not_waited_for(server, model, sleeps):
    server.queue(Reply.error(429, headers={"Retry-After": "3600"}), Reply.answer("never"))
    with pytest.raises(ModelRateLimited) as err:
        model.complete(MESSAGES, max_tokens=5, temperature=0)
    assert err.value.retry_after == 3600
    assert len(server.requests) == 1 and sleeps == []


def test_500s_are_retried_a_bounded_number_of_times(server, model, sleeps):
    server.queue(*[Reply.error(500, "boom")] * 5)
    with pytest.raises(ModelUnavailable) as err:
        model.complete(MESSAGES, max_tokens=5, temperature=0)
    assert len(server.requests) == 3  # one try + max_retries=2
    assert len(sleeps) == 2 and all(0 < s <= 8 for s in sleeps)
    error = err.value
    assert error.attempts == 3 and error.status == 500
    # Who sees what: the customer gets no internals, the operator gets the cause and a next step.
    assert "boom" not in error.customer_message and "500" not in error.customer_message
    assert "boom" in error.operator_message and "HTTP 500" in error.operator_message


def test_500_then_success(server, model):
    server.queue(Reply.error(503), Reply.answer("back"))
    assert model.complete(MESSAGES, max_tokens=5, temperature=0).text == "back"


@pytest.mark.parametrize(
    "status, error_type", [(400, ModelRequestError), (401, ModelAuthError), (404, ModelRequestError)]
)
def test_client_errors_are_not_retried(server, model, sleeps, status, error_type):
    server.queue(Reply.error(status, "nope"), Reply.answer("unreached"))
    with pytest.raises(error_type):
        model.complete(MESSAGES, max_tokens=5, temperature=0)
    assert len(server.requests) == 1 and sleeps == []


def test_hang_becomes_a_timeout_error(server, model, sleeps):
    server.queue(Reply.hang(30))
    with pytest.raises(ModelTimeout) as err:
        model.complete(MESSAGES, max_tokens=5, temperature=0)
    assert len(server.requests) == 1 and sleeps == []
    assert "timeout" in err.value.operator_message.lower()


def test_connection_refused_is_retried_then_reported(sleeps):
    chat = OpenAIChatModel(
        model="m",
        api_key="k",
        base_url="http://127.0.0.1:9/v1",
        timeout_s=1,
        retry=RetryPolicy(max_retries=1),
        sleep=sleeps.append,
    )
    with pytest.raises(ModelUnavailable):
        chat.complete(MESSAGES, max_tokens=5, temperature=0)
    assert len(sleeps) == 1


def test_stream_yields_deltas_then_the_completion(server, model):
    server.queue(Reply.stream(["Open ", "at ", "nine."]))
    text, end = collect(model.stream(MESSAGES, max_tokens=20, temperature=0))
    assert text == "Open at nine." == end.text
    assert end.usage == Usage(prompt_tokens=11, completion_tokens=3)
    assert end.finish_reason == "stop"
    assert server.requests[0]["stream"] is True


def test_stream_cut_after_three_chunks_keeps_the_partial_and_is_not_retried(server, model, sleeps):
    server.queue(Reply.stream(["We ", "open ", "at "], cut=True), Reply.answer("unreached"))
    received = []
    with pytest.raises(StreamInterrupted) as err:
        for event in model.stream(MESSAGES, max_tokens=20, temperature=0):
            received.append(event.text)
    assert received == ["We ", "open ", "at "]
    assert err.value.partial_text == "We open at "
    assert len(server.requests) == 1 and sleeps == []


def test_stream_errors_before_the_first_token_are_retried(server, model, sleeps):
    server.queue(Reply.error(429, headers={"Retry-After": "1"}), Reply.stream(["fine"]))
    text, _ = collect(model.stream(MESSAGES, max_tokens=20, temperature=0))
    assert text == "fine" and sleeps == [1.0] and len(server.requests) == 2


def test_stream_hang_is_a_timeout(server, model):
    server.queue(Reply.hang(30))
    with pytest.raises(ModelTimeout):
        collect(model.stream(MESSAGES, max_tokens=20, temperature=0))


def test_from_settings_resolves_keys_and_endpoints(server):
    local = OpenAIChatModel.from_settings(ModelSettings(), local_base_url=server.base_url)
    assert local.base_url == server.base_url and local._client.api_key == PLACEHOLDER_KEY

    with pytest.raises(ModelConfigError):
        OpenAIChatModel.from_settings(ModelSettings())  # the local model is not running

    with pytest.raises(ModelConfigError, match="API key"):
        OpenAIChatModel.from_settings(ModelSettings(provider="openai"))

    from_store = OpenAIChatModel.from_settings(ModelSettings(provider="openai"), keys={"openai": "sk-store"})
    assert from_store._client.api_key == "sk-store" and from_store.model == "gpt-4o-mini"

    own = ModelSettings(provider="openai_compatible", base_url=server.base_url, model="llama3", api_key="sk-own")
    chat = OpenAIChatModel.from_settings(own, keys={"openai_compatible": "sk-store"})
    assert chat._client.api_key == "sk-own" and chat.model == "llama3"
    server.queue(Reply.answer("hi"))
    assert chat.complete(MESSAGES, max_tokens=5, temperature=0).text == "hi"
