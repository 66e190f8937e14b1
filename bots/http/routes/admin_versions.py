"""Admin API: publishing (versions, rollback, draft vs published) and the bot's API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import select

from bots import publish_gate
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import DbInt, RequestBody
from bots.http.routes.evaluation import evaluator
from bots.schemas.keys import ApiKey, CreatedKey, KeyList
from bots.schemas.versions import Specs, Version, VersionList, VersionWithSpec
from bots.store import keys, versions
from bots.store import tables as t

router = APIRouter(
    route_class=ReleasingRoute, prefix="/admin/bots/{bot_id}", dependencies=[AdminAuth], tags=["admin: publishing"]
)


class PublishRequest(RequestBody):
    note: str = Field(default="", max_length=2000)
    # Publish although the publish gate refuses; the reason is stored with the version.
    override: str | None = Field(default=None, min_length=1, max_length=2000)


class KeyRequest(RequestBody):
    kind: str = Field(pattern="^(secret|publishable)$")
    label: str = Field(default="", max_length=200)


@router.get("/versions", response_model=VersionList)
def list_versions(bot: BotDep, session: DbSession):
    return {
        "published_version": bot.published_version,
        "versions": [versions.version_out(v, bot) for v in versions.versions(session, bot.id)],
    }


@router.post(
    "/versions",
    status_code=201,
    response_model=Version,
    summary="Publish the draft as a new version (the publish gate may refuse: 409 publish_gate_refused)",
)
def publish(body: PublishRequest, request: Request, runtime: RuntimeDep, bot: BotDep, session: DbSession):
    verdict = publish_gate.check(evaluator(request, runtime), session, bot)
    if verdict.refusals and not (body.override and body.override.strip()):
        raise publish_gate.PublishRefused(verdict, publish_gate.settings(session, bot.id).min_pass_rate)
    override = body.override.strip() if verdict.refusals and body.override else None
    gate = verdict.stored() if verdict.run_id else None
    return versions.version_out(versions.publish(session, bot, body.note, override_note=override, gate=gate), bot)


@router.get("/versions/{number}", response_model=VersionWithSpec)
def get_version(number: DbInt, bot: BotDep, session: DbSession):
    return versions.version_out(versions.version(session, bot.id, number), bot, with_spec=True)


@router.post("/versions/{number}/rollback", response_model=Version, summary="Serve an older version again")
def rollback(number: DbInt, bot: BotDep, session: DbSession):
    return versions.version_out(versions.rollback(session, bot, number), bot)


@router.get("/spec", response_model=Specs, summary="The draft and the published spec, side by side")
def specs(bot: BotDep, session: DbSession) -> Specs:
    draft = versions.resolve(session, bot, versions.DRAFT).spec.redacted()
    published = versions.resolve(session, bot, "published").spec.redacted() if bot.published_version else None
    return Specs(
        draft=draft,
        published=published,
        published_version=bot.published_version,
        draft_differs=published is not None and draft != published,
    )


def key_out(key: t.ApiKey) -> ApiKey:
    return ApiKey(
        id=key.id,
        kind=key.kind,
        label=key.label,
        masked=keys.masked(key),
        created_at=key.created_at.isoformat(),
        revoked_at=key.revoked_at.isoformat() if key.revoked_at else None,
    )


@router.post(
    "/keys",
    status_code=201,
    response_model=CreatedKey,
    summary="Create a key; the key itself is shown only in this response",
)
def create_key(body: KeyRequest, bot: BotDep, session: DbSession) -> CreatedKey:
    key, plaintext = keys.create_key(session, bot.id, body.kind, body.label)
    session.commit()
    return CreatedKey(**key_out(key).model_dump(), key=plaintext)


@router.get("/keys", response_model=KeyList)
def list_keys(bot: BotDep, session: DbSession) -> KeyList:
    rows = session.scalars(select(t.ApiKey).where(t.ApiKey.bot_id == bot.id).order_by(t.ApiKey.created_at))
    return KeyList(keys=[key_out(k) for k in rows])


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke a key (immediately refused everywhere)")
def revoke_key(key_id: str, bot: BotDep, session: DbSession) -> None:
    key = session.get(t.ApiKey, key_id)
    if key is None or key.bot_id != bot.id:
        raise ApiError("key_not_found", f"Bot {bot.id} has no key {key_id!r}.")
    if key.revoked_at is None:
        key.revoked_at = t.now()
        session.commit()
