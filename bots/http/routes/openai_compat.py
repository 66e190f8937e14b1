"""`POST /v1/chat/completions`, OpenAI's shape, so the official SDKs (and tools built on them)
work against a bot: `model` is the bot id, auth is the bot's secret key. The bot's own system
prompt, model and limits apply; a client's `system` (and `developer`) messages are ignored —
the persona's rules are the bot owner's, not the caller's — and the response says so (header
`X-Prompteur-Ignored-Roles` and `prompteur.ignored_roles`); its sampling fields are accepted
but have no effect, except a `max_tokens` lower than the bot's. `GET /v1/models` lists the
key's bot, as OpenAI's clients expect."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import ConfigDict, Discriminator, Field, Tag, model_validator

from bots.chat import Question, Reply
from bots.core.errors import HistoryTooLong
from bots.http.deps import DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.public_auth import Caller, IpLimit, caller_for, limit_question
from bots.http.request_values import RequestBody
from bots.http.sse import data_only_sse
from bots.schemas.openai import ChatCompletion, Model, ModelList
from bots.store import tables as t

router = APIRouter(route_class=ReleasingRoute, tags=["OpenAI-compatible API"])


class ContentPart(RequestBody):
    """One part of a message's content. Only `text` parts are read; the others (image_url,
    input_audio, file, ...) are accepted as OpenAI's SDKs send them, and ignored."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None

    @model_validator(mode="after")
    def _text_part_has_text(self) -> ContentPart:
        # Checked here, not when the text is joined: a number there was a 500.
        if self.type == "text" and self.text is None:
            raise ValueError("a part of type `text` needs `text`, a string")
        return self


def _content_kind(value: object) -> str | None:
    return "string" if isinstance(value, str) else "parts" if isinstance(value, list) else None


# Tagged, so that a wrong part is reported once, at `content.parts.<i>`, and not also as
# "not a string" by the other member of the union.
Content = Annotated[
    Annotated[str, Tag("string")] | Annotated[list[ContentPart], Tag("parts")],
    Discriminator(
        _content_kind,
        custom_error_type="invalid_content",
        custom_error_message="content must be a string or a list of parts",
    ),
]


class ChatMessage(RequestBody):
    role: Literal["system", "developer", "user", "assistant"]
    content: Content | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(RequestBody):
    include_usage: bool = False
    include_obfuscation: bool | None = None


class CompletionRequest(RequestBody):
    # OpenAI's documented fields only: anything else (system_prompt, base_url, ...) is refused.
    model: str = Field(description="The bot's id.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1, le=1)
    temperature: float | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None


# Roles whose instructions would compete with the persona's: never passed to the model.
IGNORED_ROLES = ("system", "developer")
IGNORED_HEADER = "X-Prompteur-Ignored-Roles"


def _completion(reply: Reply, bot_id: str, ignored: list[str]) -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": f"chatcmpl-{reply.message_id}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": bot_id,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "logprobs": None,
                    "message": {"role": "assistant", "content": reply.answer},
                }
            ],
            "usage": _usage(reply.usage),
            "prompteur": {**_extension(reply), "ignored_roles": ignored},
        }
    )


def _usage(usage: dict) -> dict:
    return {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}


def _extension(reply: Reply) -> dict:
    return {
        "citations": reply.citations,
        "fallback": reply.fallback,
        "handoff": reply.handoff,
        "answered_by": reply.answered_by,
        "conversation_id": reply.conversation_id,
        "message_id": reply.message_id,
    }


def _chunks(events: Iterator[tuple[str, dict]], bot_id: str, include_usage: bool, ignored: list[str]) -> Iterator[dict]:
    created = int(time.time())
    base = {"id": "chatcmpl-", "object": "chat.completion.chunk", "created": created, "model": bot_id}

    def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}

    citations: list = []
    for name, data in events:
        if name == "start":
            base["id"] = f"chatcmpl-{data['message_id']}"
            yield chunk({"role": "assistant", "content": ""})
        elif name == "delta":
            yield chunk({"content": data["text"]})
        elif name == "citations":
            citations = data["citations"]
        elif name == "done":
            # `text` is the stored answer: cleaning (or a cut back to a whole sentence at the
            # token limit) may have changed text already streamed, and deltas cannot take it back.
            yield chunk(
                {},
                "stop",
                prompteur={
                    "text": data["text"],
                    "citations": citations,
                    "fallback": data["fallback"],
                    "handoff": data["handoff"],
                    "answered_by": data["answered_by"],
                    "conversation_id": data["conversation_id"],
                    "message_id": data["message_id"],
                    "ignored_roles": ignored,
                },
            )
            if include_usage:
                yield {**base, "choices": [], "usage": _usage(data["usage"])}
        elif name == "error":
            # OpenAI's SDKs raise an APIError when a stream carries an `error` object.
            yield {"error": {"message": data["message"], "type": "server_error", "code": data["code"]}}


def secret_key_caller(request: Request, runtime: RuntimeDep) -> Caller:
    """Runs before the body is read, so requests without a valid key learn nothing else."""
    caller = caller_for(request, runtime, None)
    if caller.owner == "session" or not caller.owner.startswith("key:"):
        raise ApiError(
            "unauthorized",
            "This endpoint needs a secret key: `Authorization: Bearer sk_...`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return caller


@router.post(
    "/v1/chat/completions",
    dependencies=[IpLimit],
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat completions",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "A chat.completion; with stream=true, SSE `data:` chat.completion.chunk lines "
            "ending with `data: [DONE]`.",
        }
    },
)
def chat_completions(
    body: CompletionRequest,
    caller: Annotated[Caller, Depends(secret_key_caller)],
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=100),
):
    if caller.bot_id != body.model:
        raise ApiError("wrong_bot", "This key belongs to another bot: `model` must be the id of the key's bot.")
    if body.messages[-1].role != "user" or not body.messages[-1].text().strip():
        raise ApiError("invalid_request", "The last message must be the user's question (role `user`).")
    limit_question(runtime, caller)
    history = [{"role": m.role, "content": m.text()} for m in body.messages[:-1] if m.role in ("user", "assistant")]
    if sum(len(m["content"]) for m in history) > runtime.settings.max_message_chars * 20:
        raise HistoryTooLong()
    question = Question(
        bot_id=body.model,
        text=body.messages[-1].text(),
        owner=caller.owner,
        channel="openai",
        history=history,
        request_key=idempotency_key,
        max_tokens=body.max_completion_tokens or body.max_tokens,
    )
    # Said, not silently dropped: a client that sent instructions learns they had no effect.
    ignored: list[str] = sorted({m.role for m in body.messages if m.role in IGNORED_ROLES})
    notice = {IGNORED_HEADER: ", ".join(ignored)} if ignored else {}
    if body.stream:
        # accept() raises before the response starts: refusals keep their HTTP status.
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = runtime.chat.stream(runtime.chat.accept(question))
        streamed = data_only_sse(_chunks(events, body.model, include_usage, ignored))
        streamed.headers.update(notice)
        return streamed
    response.headers.update(notice)
    return _completion(runtime.chat.ask(question), body.model, ignored)


def _model(bot: t.Bot) -> Model:
    return Model(id=bot.id, object="model", created=int(bot.created_at.timestamp()), owned_by="prompteur")


@router.get(
    "/v1/models",
    dependencies=[IpLimit],
    response_model=ModelList,
    summary="OpenAI-compatible model list: the key's bot, once published",
)
def list_models(caller: Annotated[Caller, Depends(secret_key_caller)], session: DbSession) -> ModelList:
    # A secret key belongs to one bot; before its first publish it answers nothing, so the
    # list holds only a model that /v1/chat/completions would accept.
    bot = session.get(t.Bot, caller.bot_id)
    usable = bot is not None and bot.published_version is not None
    return ModelList(object="list", data=[_model(bot)] if bot is not None and usable else [])


@router.get("/v1/models/{model}", dependencies=[IpLimit], response_model=Model, summary="One model: the key's bot")
def get_model(model: str, caller: Annotated[Caller, Depends(secret_key_caller)], session: DbSession) -> Model:
    bot = session.get(t.Bot, caller.bot_id)
    if model != caller.bot_id or bot is None or bot.published_version is None:
        raise ApiError("not_found", f"No model {model!r} for this key: the model is the id of the key's published bot.")
    return _model(bot)
