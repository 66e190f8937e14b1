"""Admin API: knowledge gaps (what customers asked that the bot answered badly, as topics) and
resolution analytics (per day and version: how conversations ended, latency, tokens, cost).
Both exclude playground conversations unless asked, and come as JSON or a download."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from bots import gaps as gap_report
from bots import resolution
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import DbInt
from bots.schemas.analytics import Analytics, Gaps

router = APIRouter(
    route_class=ReleasingRoute, prefix="/admin/bots/{bot_id}", dependencies=[AdminAuth], tags=["admin: analytics"]
)


def _check_period(since: datetime | None, until: datetime | None) -> None:
    # Dates at the ends of the calendar overflowed when the default 30-day period was taken
    # from them (a 500: found by the API fuzzer).
    if any(value is not None and not 2 <= value.year <= 9998 for value in (since, until)):
        raise ApiError("invalid_request", "`since` and `until` must be dates between the years 2 and 9998.")
    if since and until and _utc(since) >= _utc(until):
        raise ApiError("invalid_request", "`since` must be before `until`.")


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _download(body: str, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get(
    "/gaps",
    response_model=Gaps,
    summary="Knowledge gaps: badly answered questions grouped into topics, with trend and closest passage",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}, "text/markdown": {"schema": {"type": "string"}}},
            "description": "format=json: the topics; csv or markdown: the same as a to-do list to download.",
        }
    },
)
def gaps(
    bot: BotDep,
    runtime: RuntimeDep,
    since: Annotated[
        datetime | None, Query(description="Start of the period (default: 30 days before `until`).")
    ] = None,
    until: Annotated[datetime | None, Query(description="End of the period, excluded (default: now).")] = None,
    include_playground: bool = False,
    max_topics: Annotated[int, Query(ge=1, le=500)] = 50,
    format: Literal["json", "csv", "markdown"] = "json",
):
    _check_period(since, until)
    try:
        report = gap_report.knowledge_gaps(
            runtime.sessions,
            runtime.kb.search,
            runtime.embedders,
            bot.id,
            since,
            until,
            include_playground=include_playground,
            max_topics=max_topics,
        )
    except OverflowError:  # the trend's previous period, as long as this one, starts before year 1
        raise ApiError(
            "invalid_request",
            "The period is too long: its trend compares it with the one before it, which starts before year 1.",
        ) from None
    except ValueError as err:  # a `since` in the future: the period is empty or backwards
        raise ApiError("invalid_request", f"{err}.") from None
    if format == "csv":
        return _download(gap_report.to_csv(report), "text/csv; charset=utf-8", f"{bot.id}-gaps.csv")
    if format == "markdown":
        body = gap_report.to_markdown(report, bot.name)
        return _download(body, "text/markdown; charset=utf-8", f"{bot.id}-gaps.md")
    return report


@router.get(
    "/analytics",
    response_model=Analytics,
    summary="Resolution analytics per day and version: resolution and hand-off rates, who answered, latency, cost",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "format=json: the numbers; csv: one row per day and version, then totals per version.",
        }
    },
)
def analytics(
    bot: BotDep,
    session: DbSession,
    since: datetime | None = None,
    until: datetime | None = None,
    version: DbInt | None = None,
    include_playground: bool = False,
    format: Literal["json", "csv"] = "json",
):
    _check_period(since, until)
    report = resolution.resolution_analytics(
        session, bot.id, since, until, version=version, include_playground=include_playground
    )
    if format == "csv":
        return _download(resolution.to_csv(report), "text/csv; charset=utf-8", f"{bot.id}-analytics.csv")
    return report
