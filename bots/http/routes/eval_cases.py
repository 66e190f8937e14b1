"""Admin API: add one test case to a set, typed in or taken from a conversation message (the
question asked, with the bot's answer offered as the reference)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field, ValidationError

from bots import test_sets
from bots.core.errors import MessageNotFound
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute
from bots.http.errors import ApiError
from bots.http.request_values import RequestBody
from bots.schemas.evaluation import AddedCase
from bots.store import conversations
from bots.store import evaluation as store
from bots.store import tables as t

HISTORY_TURNS = 10  # earlier turns kept with a case taken from a conversation: enough for a follow-up

router = APIRouter(
    route_class=ReleasingRoute, prefix="/admin/bots/{bot_id}", dependencies=[AdminAuth], tags=["admin: evaluation"]
)


class AddCaseRequest(RequestBody):
    """A case (see `bots.test_sets.Case`, which validates it); with `message_id`, what it
    leaves out comes from that conversation message: the question (the user's message, or the
    one an answer replied to), the answer as `reference_answer`, the earlier turns as `history`."""

    message_id: str | None = Field(default=None, max_length=60)
    question: str | None = Field(default=None, max_length=4000)
    reference_answer: str | None = Field(default=None, max_length=20_000)
    expected_sources: list[str] | None = Field(default=None, max_length=50)
    expected_facts: list[str] | None = Field(default=None, max_length=50)
    must_refuse: bool | None = None
    forbidden: list[str] | None = Field(default=None, max_length=50)
    tags: list[str] | None = Field(default=None, max_length=50)
    must_pass: bool | None = None


@router.post(
    "/test-sets/{name}/cases",
    status_code=201,
    response_model=AddedCase,
    summary="Add one test case to a set (made if missing), e.g. from a conversation message",
)
def add_case(name: str, body: AddCaseRequest, bot: BotDep, session: DbSession):
    if not name.strip() or len(name) > 200:
        raise ApiError("invalid_request", "A test set's name is 1 to 200 characters.")
    given = body.model_dump(mode="json", exclude_none=True, exclude={"message_id"})
    if body.message_id:
        given = {**_from_message(session, bot.id, body.message_id), **given}
    try:
        case = test_sets.Case.model_validate(given).stored()
    except ValidationError as err:
        raise ApiError("invalid_test_cases", f"The case is not valid: {test_sets.explain(err)}") from None
    row, count = store.append_case(session, bot.id, name, case)
    session.commit()
    return AddedCase(set=row.name, cases=count, case=case)


def _from_message(session, bot_id: str, message_id: str) -> dict:
    message = session.get(t.Message, message_id)
    if message is None or message.bot_id != bot_id:
        raise MessageNotFound(message_id)
    turns = conversations.messages(session, message.conversation_id)
    at = next(i for i, m in enumerate(turns) if m.id == message.id)
    if message.role == "assistant":
        asked = next((i for i in range(at - 1, -1, -1) if turns[i].role == "user"), None)
        if asked is None:
            raise ApiError("invalid_request", "This answer has no question before it to make a case of.")
        out: dict = {"question": turns[asked].content}
        if message.content and not message.error:
            out["reference_answer"] = message.content
    else:
        asked, out = at, {"question": message.content}
        answer = next((m for m in turns[at + 1 :] if m.role == "assistant"), None)
        if answer is not None and answer.content and not answer.error:
            out["reference_answer"] = answer.content
    earlier = [{"role": m.role, "content": m.content} for m in turns[:asked] if m.content][-HISTORY_TURNS:]
    if earlier:
        out["history"] = earlier
    return out
