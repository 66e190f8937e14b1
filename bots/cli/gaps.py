"""`prompteur gaps BOT`: the knowledge gaps of a bot, as topics (text, JSON, CSV or Markdown)."""

from __future__ import annotations

import json
from datetime import date


def add_parser(sub, client) -> None:
    """`client` is main's factory of the admin client (tests swap it through main)."""
    p = sub.add_parser("gaps", help="questions the bot answered badly, grouped into topics (largest first)")
    p.add_argument("bot")
    p.add_argument("--since", type=_day, help="start of the period, YYYY-MM-DD (default: 30 days ago)")
    p.add_argument("--until", type=_day, help="end of the period, excluded, YYYY-MM-DD (default: now)")
    p.add_argument("--include-playground", action="store_true", help="count the builder's playground too")
    p.add_argument("--json", action="store_true", help='print {"topics": [{"label", "count", "questions"}...]}')
    p.add_argument("--format", choices=["csv", "markdown"], help="print the gaps as a to-do list instead")
    p.set_defaults(run=lambda args: _gaps(args, client()))


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date such as 2026-01-31") from None


_day.__name__ = "date"  # argparse names the type in its error: "invalid date value"


def _gaps(args, client) -> int:
    bot = client.resolve_bot(args.bot)
    filters = {"since": args.since, "until": args.until, "include_playground": args.include_playground or None}
    if args.format:
        print(client.gaps_todo(bot.id, format=args.format, **filters), end="")
        return 0
    report = client.gaps(bot.id, **filters)
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
        return 0
    print(f"{report.questions} questions answered badly from {report.since[:10]} to {report.until[:10]}")
    for topic in report.topics:
        print(f"{topic.count:>5}  {topic.label}  ({topic.trend}, {topic.previous_count} before)")
        for q in topic.questions[:3]:
            print(f"         - {q}")
    return 0
