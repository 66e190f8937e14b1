"""Resolution analytics of a bot: the store's counts per day and version, with each
version's estimated model cost, and the CSV the builder downloads."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.core import prices
from bots.core.errors import BotNotFound
from bots.store import analytics
from bots.store import tables as t
from bots.store.versions import InvalidStoredSpec, spec_model


def resolution_analytics(
    s: Session,
    bot_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    version: int | None = None,
    include_playground: bool = False,
) -> dict:
    bot = s.get(t.Bot, bot_id)
    if bot is None:
        raise BotNotFound(bot_id)
    channels = None if include_playground else analytics.CUSTOMER_CHANNELS
    out = analytics.resolution(s, bot_id, since, until, channels, version)
    price = _prices(s, bot)
    for row in [*out["days"], *out["versions"]]:
        row["cost_usd"] = prices.cost_usd(price(row["version"]), row["prompt_tokens"], row["completion_tokens"])
    costs = [r["cost_usd"] for r in out["versions"]]
    # Overall: a sum only when every version's price is known (a partial sum would mislead).
    out["overall"]["cost_usd"] = round(sum(c for c in costs if c is not None), 6) if None not in costs else None
    out["cost_note"] = prices.NOTE
    return out


def _prices(s: Session, bot: t.Bot):
    """version number (None: the draft) -> that spec's model price, read once per version."""
    specs = {
        number: spec
        for number, spec in s.execute(
            select(t.BotVersion.number, t.BotVersion.spec).where(t.BotVersion.bot_id == bot.id)
        )
    }
    specs[None] = bot.spec or {}
    cache: dict = {}

    def price(version: int | None):
        if version not in cache:
            spec = specs.get(version)
            if spec is None:
                cache[version] = None
            else:
                try:
                    model = spec_model(bot, spec).model
                except InvalidStoredSpec:  # the counts still stand; only the price is unknown
                    cache[version] = None
                else:
                    cache[version] = prices.price_of(model.provider, model.default_model())
        return cache[version]

    return price


CSV_FIELDS = [
    "day",
    "version",
    "conversations",
    "resolved",
    "resolution_rate",
    "handoff_conversations",
    "handoff_rate",
    "questions",
    "answers",
    "by_model",
    "by_corrected",
    "by_fallback",
    "share_model",
    "share_corrected",
    "share_fallback",
    "errors",
    "thumbs_up",
    "thumbs_down",
    "latency_ms_p50",
    "latency_ms_p95",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
]


def to_csv(report: dict) -> str:
    """One row per day and version, then one total per version (day "total"); only numbers
    and dates, so no cell needs guarding against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in report["days"]:
        writer.writerow({**row, "version": _version(row["version"])})
    for row in report["versions"]:
        writer.writerow({**row, "day": "total", "version": _version(row["version"])})
    return out.getvalue()


def _version(v: int | None) -> str:
    return "draft" if v is None else str(v)
