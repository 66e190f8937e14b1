"""`POST /v1/chat/completions` in OpenAI's shape, with Prompteur's `prompteur` extension."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bots.schemas.answers import AnsweredBy, Citation


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    finish_reason: str
    logprobs: None
    message: AssistantMessage


class CompletionUsage(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class PrompteurExtension(BaseModel):
    citations: list[Citation]
    fallback: bool
    handoff: bool
    answered_by: AnsweredBy
    conversation_id: str
    message_id: str
    # The request's roles that had no effect (system, developer): the bot's persona rules.
    ignored_roles: list[str] = []


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    prompteur: PrompteurExtension


class Model(BaseModel):
    """`GET /v1/models` in OpenAI's shape: a model is a bot."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[Model]
