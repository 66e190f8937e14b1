"""Admin API: the review inbox (answers worth a look) and the reviewer's actions on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field

from bots import corrected_answers as ca
from bots import review
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute
from bots.http.request_values import DbInt, RequestBody
from bots.schemas.corrected_answers import Source
from bots.schemas.review import AddedToTestSet, CorrectedFromReview, ReviewDetail, ReviewInbox

router = APIRouter(
    route_class=ReleasingRoute,
    prefix="/admin/bots/{bot_id}/review",
    dependencies=[AdminAuth],
    tags=["admin: review inbox"],
)

Reason = Annotated[str, Field(pattern="^(" + "|".join(review.REASONS) + ")$")]


def filters(
    reason: Annotated[list[Reason] | None, Query(description="repeat for several; none: every reason")] = None,
    version: Annotated[DbInt | None, Query()] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
) -> review.Filters:
    return review.Filters(reason or None, version, since, until, channel, language)


FiltersDep = Annotated[review.Filters, Depends(filters)]


class CorrectRequest(RequestBody):
    answer: str = Field(max_length=ca.MAX_ANSWER_CHARS)
    question: str | None = Field(default=None, max_length=ca.MAX_QUESTION_CHARS, description="default: the customer's")
    paraphrases: list[str] = Field(default_factory=list, max_length=ca.MAX_PARAPHRASES)
    sources: list[Source] = Field(default_factory=list, max_length=ca.MAX_SOURCES)
    note: str = Field(default="", max_length=2000)


class TestCaseRequest(RequestBody):
    set: str = Field(min_length=1, max_length=200)
    reference_answer: str | None = Field(default=None, max_length=20_000, description="default: the corrected answer")
    expected_source: str | None = Field(default=None, max_length=500)


class ReviewedRequest(RequestBody):
    note: str = Field(default="", max_length=2000)


@router.get("", response_model=ReviewInbox, summary="The queue: most-asked first, then newest")
def inbox(
    bot: BotDep,
    session: DbSession,
    f: FiltersDep,
    limit: int = Query(50, ge=1, le=500),
    offset: Annotated[DbInt, Query(ge=0)] = 0,
):
    return review.inbox(session, bot, f, limit, offset)


@router.get("/{message_id}", response_model=ReviewDetail, summary="One answer with its conversation and actions")
def item(message_id: str, bot: BotDep, session: DbSession):
    return review.detail(session, bot, message_id)


@router.post(
    "/{message_id}/correct",
    status_code=201,
    response_model=CorrectedFromReview,
    summary="Write the correct answer: a corrected answer from the question; the item leaves the queue",
)
def correct(message_id: str, body: CorrectRequest, bot: BotDep, session: DbSession):
    row = review.correct(session, bot.id, message_id, body.model_dump())
    session.commit()
    return {"corrected_answer_id": row.id}


@router.post(
    "/{message_id}/test-case",
    status_code=201,
    response_model=AddedToTestSet,
    summary="Add the question to a test set (the corrected answer as reference)",
)
def add_test_case(message_id: str, body: TestCaseRequest, bot: BotDep, session: DbSession):
    added = review.add_to_test_set(
        session,
        bot.id,
        message_id,
        body.set,
        reference=body.reference_answer,
        expected_source=body.expected_source,
    )
    session.commit()
    return added


@router.post("/{message_id}/reviewed", status_code=204, summary="Mark reviewed (with a note): it leaves the queue")
def reviewed(message_id: str, body: ReviewedRequest, bot: BotDep, session: DbSession):
    review.mark_reviewed(session, bot.id, message_id, body.note)
    session.commit()
    return Response(status_code=204)
