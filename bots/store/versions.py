"""Bot versions: the draft is `Bot.spec` (what the builder edits); publishing freezes a copy
as the next numbered version and makes the public API serve it; rollback points the public
API back at an older version, which stays as it was."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bots.core.errors import DomainError, validation_problems
from bots.core.spec import BotSpec
from bots.store import tables as t
from bots.store.corrected_answers import snapshot

DRAFT = "draft"


class VersionError(DomainError):
    """A bot's versions cannot give what was asked for."""


class InvalidStoredSpec(VersionError):
    code = "invalid_stored_spec"  # values: bot_id, count, problems


class NotPublished(VersionError):
    code = "not_published"  # values: bot_id


class VersionNotFound(VersionError):
    code = "version_not_found"  # values: bot_id, number


def spec_model(bot: t.Bot, data: dict | None) -> BotSpec:
    """The typed spec from stored JSON; a stored spec without a name takes the bot's."""
    data = dict(data or {})
    data.setdefault("name", bot.name)
    try:
        return BotSpec.model_validate(data)
    except ValidationError as err:
        raise InvalidStoredSpec(
            bot_id=bot.id, count=err.error_count(), problems=validation_problems(err.errors(), limit=1)
        ) from err


@dataclass
class Resolved:
    spec: BotSpec
    version: int | None  # None: the draft


def resolve(session: Session, bot: t.Bot, which: str | int) -> Resolved:
    """ "draft", "published" or a version number."""
    if which == DRAFT:
        return Resolved(spec_model(bot, bot.spec), None)
    number = bot.published_version if which == "published" else int(which)
    if number is None:
        raise NotPublished(bot_id=bot.id)
    row = version(session, bot.id, number)
    return Resolved(spec_model(bot, row.spec), number)


def version(session: Session, bot_id: str, number: int) -> t.BotVersion:
    # A number SQLite cannot hold names no version (a digit string of a body became a 500:
    # found by the long API fuzz run on POST eval-runs).
    if not -(2**63) <= number < 2**63:
        raise VersionNotFound(bot_id=bot_id, number=number)
    row = session.scalar(select(t.BotVersion).where(t.BotVersion.bot_id == bot_id, t.BotVersion.number == number))
    if row is None:
        raise VersionNotFound(bot_id=bot_id, number=number)
    return row


def versions(session: Session, bot_id: str) -> list[t.BotVersion]:
    return list(
        session.scalars(select(t.BotVersion).where(t.BotVersion.bot_id == bot_id).order_by(t.BotVersion.number.desc()))
    )


def publish(
    session: Session, bot: t.Bot, note: str = "", *, override_note: str | None = None, gate: dict | None = None
) -> t.BotVersion:
    spec = spec_model(bot, bot.spec)  # refuse to publish what could not be served
    number = (session.scalar(select(func.max(t.BotVersion.number)).where(t.BotVersion.bot_id == bot.id)) or 0) + 1
    # The corrected answers are frozen with the spec: editing one later changes the draft only.
    row = t.BotVersion(
        bot_id=bot.id,
        number=number,
        spec=spec.stored_json(),
        note=note,
        override_note=override_note,
        gate=gate,
        corrected_answers=snapshot(session, bot.id),
    )
    session.add(row)
    bot.published_version = number
    session.commit()
    return row


def rollback(session: Session, bot: t.Bot, number: int) -> t.BotVersion:
    row = version(session, bot.id, number)
    bot.published_version = number
    session.commit()
    return row


def version_out(row: t.BotVersion, bot: t.Bot, *, with_spec: bool = False) -> dict:
    out = {
        "number": row.number,
        "note": row.note,
        "created_at": row.created_at.isoformat(),
        "published": row.number == bot.published_version,
        "override_note": row.override_note,
        "gate": row.gate,
    }
    if with_spec:
        out["spec"] = spec_model(bot, row.spec).redacted()
    return out
