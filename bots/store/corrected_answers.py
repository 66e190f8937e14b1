"""The SQL of corrected answers that versions and the matcher share: what a version freezes
and what it answers with. The rest (editing, CSV) is in bots/corrected_answers.py."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bots.store import tables as t


def snapshot(s: Session, bot_id: str) -> list[dict]:
    """What a published version freezes: the enabled answers' matching fields."""
    rows = s.scalars(
        select(t.CorrectedAnswer)
        .where(t.CorrectedAnswer.bot_id == bot_id, t.CorrectedAnswer.enabled.is_(True))
        .order_by(t.CorrectedAnswer.created_at)
    )
    return [
        {
            "id": r.id,
            "question": r.question,
            "paraphrases": list(r.paraphrases or []),
            "answer": r.answer,
            "sources": list(r.sources or []),
        }
        for r in rows
    ]


def for_version(s: Session, bot_id: str, version: int | None) -> list[dict]:
    """The corrected answers a version answers with: the draft's are the live ones."""
    if version is None:
        return snapshot(s, bot_id)
    frozen = s.scalar(
        select(t.BotVersion.corrected_answers).where(t.BotVersion.bot_id == bot_id, t.BotVersion.number == version)
    )
    return list(frozen or [])


def record_hit(s: Session, bot_id: str, answer_id: str) -> None:
    """Counted on the live row (a frozen version's answer deleted since counts nowhere)."""
    s.execute(
        update(t.CorrectedAnswer)
        .where(t.CorrectedAnswer.id == answer_id, t.CorrectedAnswer.bot_id == bot_id)
        .values(hit_count=t.CorrectedAnswer.hit_count + 1, last_used_at=t.now())
        .execution_options(synchronize_session=False)
    )


def measured_spec(s: Session, bot_id: str, spec_json: dict, version: int | None) -> dict:
    """The spec with the version's corrected answers: what an evaluation run measures, so
    the publish gate does not reuse a run made before they changed."""
    return {**spec_json, "corrected_answers": for_version(s, bot_id, version)}
