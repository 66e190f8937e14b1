"""Admin API: a bot's corrected answers (list/search, create, edit, disable, delete, CSV).

Edits change the draft's list at once; a published version keeps the list it was published
with until the next publish (bots/store/corrected_answers.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy.orm import Session

from bots import corrected_answers as ca
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute
from bots.http.request_values import DbInt, RequestBody
from bots.schemas.corrected_answers import CorrectedAnswer, CorrectedAnswerList, CsvImported, Source
from bots.store import tables as t

router = APIRouter(
    route_class=ReleasingRoute,
    prefix="/admin/bots/{bot_id}/corrected-answers",
    dependencies=[AdminAuth],
    tags=["admin: corrected answers"],
)

MAX_CSV_BYTES = 5 * 1024 * 1024


class CorrectedAnswerIn(RequestBody):
    question: str = Field(max_length=ca.MAX_QUESTION_CHARS)
    answer: str = Field(max_length=ca.MAX_ANSWER_CHARS)
    paraphrases: list[str] = Field(default_factory=list, max_length=ca.MAX_PARAPHRASES)
    sources: list[Source] = Field(default_factory=list, max_length=ca.MAX_SOURCES)
    enabled: bool = True


class CorrectedAnswerPatch(RequestBody):
    question: str | None = Field(default=None, max_length=ca.MAX_QUESTION_CHARS)
    answer: str | None = Field(default=None, max_length=ca.MAX_ANSWER_CHARS)
    paraphrases: list[str] | None = Field(default=None, max_length=ca.MAX_PARAPHRASES)
    sources: list[Source] | None = Field(default=None, max_length=ca.MAX_SOURCES)
    enabled: bool | None = None


@router.get("", response_model=CorrectedAnswerList, summary="List or search (q: in the question or answer)")
def list_answers(
    bot: BotDep,
    session: DbSession,
    q: str = Query("", max_length=500),
    limit: int = Query(200, ge=1, le=1000),
    offset: Annotated[DbInt, Query(ge=0)] = 0,
):
    return {"answers": [ca.row_out(r) for r in ca.listed(session, bot.id, q, limit, offset)]}


@router.post("", status_code=201, response_model=CorrectedAnswer)
def create_answer(body: CorrectedAnswerIn, bot: BotDep, session: DbSession):
    row = ca.create(session, bot.id, body.model_dump())
    session.commit()
    return ca.row_out(row)


class CorrectedAnswerItems(RequestBody):
    answers: list[CorrectedAnswerIn] = Field(max_length=ca.MAX_EXPORT)


@router.put(
    "",
    response_model=CsvImported,
    summary="Replace all the bot's corrected answers (a bot import): all or nothing",
)
def replace_answers(body: CorrectedAnswerItems, bot: BotDep, session: DbSession):
    count = ca.replace_all(session, bot.id, [a.model_dump() for a in body.answers])
    session.commit()
    return {"created": count, "updated": 0}


@router.get(
    "/export",
    response_model=CorrectedAnswerList,
    summary="Every corrected answer of the bot, as JSON or CSV",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "format=json: the answers as JSON; format=csv: a CSV file download (the import's format).",
        }
    },
)
def export(bot: BotDep, session: DbSession, format: Literal["csv", "json"] = "json"):
    rows = ca.listed(session, bot.id, limit=ca.MAX_EXPORT)
    if format == "json":
        return {"answers": [ca.row_out(r) for r in rows]}
    return Response(
        ca.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{bot.id}-corrected-answers.csv"'},
    )


@router.post(
    "/import",
    response_model=CsvImported,
    summary="Create (and update, by id) corrected answers from a CSV body: all rows or none",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}},
)
async def import_csv(request: Request, bot: BotDep, session: DbSession):
    # Async only to await the body; the parsing and the SQL run in the threadpool, or they
    # would stall every other request meanwhile.
    raw = await request.body()
    return await run_in_threadpool(_import_csv, raw, bot, session)


def _import_csv(raw: bytes, bot: t.Bot, session: Session) -> dict:
    if len(raw) > MAX_CSV_BYTES:
        raise ca.InvalidCorrectedAnswer(problem=f"the CSV is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ca.InvalidCorrectedAnswer(problem="the CSV is not UTF-8 text") from err
    counts = ca.import_csv(session, bot.id, text)
    session.commit()
    return counts


@router.get("/{answer_id}", response_model=CorrectedAnswer)
def get_answer(answer_id: str, bot: BotDep, session: DbSession):
    return ca.row_out(ca.get(session, bot.id, answer_id))


@router.patch("/{answer_id}", response_model=CorrectedAnswer, summary='Edit; {"enabled": false} disables it')
def edit_answer(answer_id: str, body: CorrectedAnswerPatch, bot: BotDep, session: DbSession):
    row = ca.edit(session, bot.id, answer_id, body.model_dump(exclude_none=True))
    session.commit()
    return ca.row_out(row)


@router.delete("/{answer_id}", status_code=204)
def delete_answer(answer_id: str, bot: BotDep, session: DbSession):
    session.delete(ca.get(session, bot.id, answer_id))
    session.commit()
    return Response(status_code=204)
