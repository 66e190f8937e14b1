"""Admin API: bots as records."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field, ValidationError
from sqlalchemy import func, select

from bots.core.errors import InvalidSpec, validation_problems
from bots.core.spec import SECRET_MASK, BotSpec
from bots.core.status import ItemStatus
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import RequestBody
from bots.knowledge_base import collection_name
from bots.schemas.bots import Bot, BotList, UpdatedBot
from bots.store import tables as t
from bots.store.versions import VersionError, spec_model
from knowledge.embedding import default_model_for

router = APIRouter(route_class=ReleasingRoute, prefix="/admin", dependencies=[AdminAuth], tags=["admin: bots"])


class BotCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    language: str = Field(default="en", min_length=2, max_length=16)
    embedding_model: str | None = None
    spec: dict = Field(default_factory=dict)


class BotUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    language: str | None = Field(default=None, min_length=2, max_length=16)
    embedding_model: str | None = None
    spec: dict | None = None


def bot_out(session, bot: t.Bot) -> Bot:
    documents = session.scalar(select(func.count()).select_from(t.Document).where(t.Document.bot_id == bot.id))
    chunks = session.scalar(
        select(func.coalesce(func.sum(t.Document.chunk_count), 0)).where(
            t.Document.bot_id == bot.id, t.Document.active_version > 0
        )
    )
    return Bot(
        id=bot.id,
        name=bot.name,
        language=bot.language,
        embedding_model=bot.embedding_model,
        spec=_redacted(bot),
        published_version=bot.published_version,
        created_at=bot.created_at.isoformat(),
        updated_at=bot.updated_at.isoformat(),
        documents=documents or 0,
        chunks=int(chunks or 0),
    )


def _redacted(bot: t.Bot) -> dict:
    """The spec as admins see it: provider keys never leave the server, only a mask does."""
    try:
        return spec_model(bot, bot.spec).redacted()
    except VersionError:
        spec = dict(bot.spec or {})
        if isinstance(spec.get("model"), dict) and spec["model"].get("api_key"):
            spec["model"] = {**spec["model"], "api_key": SECRET_MASK}
        return spec


def _validated(name: str, spec: dict, previous: dict | None = None) -> dict:
    try:
        new = BotSpec.model_validate({**spec, "name": name})
    except ValidationError as err:
        raise InvalidSpec(problems=validation_problems(err.errors())) from None
    try:
        # An admin sends back the masked spec they were shown: keep the stored key then.
        new = new.keeping_secrets_of(BotSpec.model_validate({**(previous or {}), "name": name}))
    except ValidationError:
        pass
    return new.stored_json()


def _check_model(runtime, name: str) -> None:
    if name not in runtime.embedders.known():
        raise ApiError(
            "unknown_embedding_model",
            f"Unknown embedding model {name!r}. Choose one of: {', '.join(runtime.embedders.known())}.",
        )


@router.get("/bots", response_model=BotList)
def list_bots(session: DbSession) -> BotList:
    bots = session.scalars(select(t.Bot).order_by(t.Bot.created_at)).all()
    return BotList(bots=[bot_out(session, b) for b in bots])


@router.post("/bots", status_code=201, response_model=Bot)
def create_bot(body: BotCreate, session: DbSession, runtime: RuntimeDep) -> Bot:
    model = body.embedding_model or default_model_for(body.language)
    _check_model(runtime, model)
    bot = t.Bot(name=body.name, language=body.language, embedding_model=model, spec=_validated(body.name, body.spec))
    bot.id = t.new_id("bot")
    bot.vector_collection = collection_name(bot.id, model)
    session.add(bot)
    session.commit()
    return bot_out(session, bot)


@router.get("/bots/{bot_id}", response_model=Bot)
def get_bot(bot: BotDep, session: DbSession) -> Bot:
    return bot_out(session, bot)


# exclude_unset: `reindex_job_id` appears only when a re-index started, as it always has.
@router.patch("/bots/{bot_id}", response_model=UpdatedBot, response_model_exclude_unset=True)
def update_bot(body: BotUpdate, bot: BotDep, session: DbSession, runtime: RuntimeDep) -> UpdatedBot:
    # The bot's name and its spec's name are one thing: the record and the draft stay in step.
    name = body.name or (body.spec or {}).get("name") or bot.name
    if body.spec is not None or name != bot.name:
        bot.spec = _validated(name, body.spec if body.spec is not None else bot.spec, previous=bot.spec)
    bot.name = name
    if body.language is not None:
        bot.language = body.language
    job = None
    if body.embedding_model and body.embedding_model != bot.embedding_model:
        _check_model(runtime, body.embedding_model)
        # The switch happens when the new index is complete; until then searches use the old one.
        job = t.Job(
            bot_id=bot.id,
            kind="reindex",
            items=[
                {
                    "document_id": None,
                    "source": "(all documents)",
                    "status": ItemStatus.QUEUED,
                    "error": None,
                    "model": body.embedding_model,
                }
            ],
        )
        session.add(job)
    session.commit()
    if job:
        runtime.jobs.submit(job.id)
    out = bot_out(session, bot).model_dump()
    return UpdatedBot(**out, reindex_job_id=job.id) if job else UpdatedBot(**out)


@router.delete("/bots/{bot_id}", status_code=204)
def delete_bot(bot: BotDep, session: DbSession, runtime: RuntimeDep) -> None:
    collection = bot.vector_collection
    session.delete(bot)
    session.commit()
    runtime.kb.delete_bot(bot.id, collection)
