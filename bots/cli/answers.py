"""`prompteur answers …`: a bot's corrected answers from the command line (add, list, edit,
disable, remove, CSV import/export). The bot reuses them word for word for close questions."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from bots.cli.client import AdminClient, ClientError


def add_parser(sub, client: Callable[[], AdminClient]) -> None:
    ans = sub.add_parser("answers", help="corrected answers the bot reuses").add_subparsers()
    add = ans.add_parser("add", help="add a corrected answer")
    add.add_argument("bot")
    add.add_argument("--question", required=True)
    add.add_argument("--answer", required=True)
    add.add_argument("--paraphrase", action="append", default=[], help="another wording (repeat the option)")
    add.add_argument("--source", action="append", default=[], help="a file name or page address it comes from")
    add.add_argument("--json", action="store_true")
    add.set_defaults(run=lambda args: _add(client(), args))
    lst = ans.add_parser("list", help="list (or search) a bot's corrected answers")
    lst.add_argument("bot")
    lst.add_argument("--search", default="", help="words in the question or the answer")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(run=lambda args: _list(client(), args))
    edit = ans.add_parser("edit", help="change a corrected answer; --disable stops its reuse")
    edit.add_argument("bot")
    edit.add_argument("id")
    edit.add_argument("--question")
    edit.add_argument("--answer")
    edit.add_argument("--paraphrase", action="append", help="replaces the paraphrases (repeat the option)")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--disable", action="store_true")
    state.add_argument("--enable", action="store_true")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(run=lambda args: _edit(client(), args))
    rm = ans.add_parser("rm", help="delete a corrected answer")
    rm.add_argument("bot")
    rm.add_argument("id")
    rm.set_defaults(run=lambda args: _rm(client(), args))
    imp = ans.add_parser("import", help="create (and update, by id) corrected answers from a CSV file")
    imp.add_argument("bot")
    imp.add_argument("file", type=Path)
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(run=lambda args: _import(client(), args))
    exp = ans.add_parser("export", help="print a bot's corrected answers as CSV (the import's format)")
    exp.add_argument("bot")
    exp.set_defaults(run=lambda args: _export(client(), args))


def _add(client: AdminClient, args) -> int:
    bot = client.resolve_bot(args.bot)
    row = client.add_corrected_answer(bot.id, args.question, args.answer, args.paraphrase, args.source)
    print(json.dumps({"id": row.id}) if args.json else f"added corrected answer {row.id} to {bot.name}")
    return 0


def _list(client: AdminClient, args) -> int:
    bot = client.resolve_bot(args.bot)
    rows = client.corrected_answers(bot.id, args.search, limit=1000)
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in rows]))
        return 0
    for r in rows:
        state = "" if r.enabled else "  (disabled)"
        print(f"{r.id}  hits={r.hit_count}  {r.question!r} -> {r.answer[:60]!r}{state}")
    return 0


def _edit(client: AdminClient, args) -> int:
    bot = client.resolve_bot(args.bot)
    fields: dict = {k: v for k in ("question", "answer") if (v := getattr(args, k)) is not None}
    if args.paraphrase is not None:
        fields["paraphrases"] = args.paraphrase
    if args.disable or args.enable:
        fields["enabled"] = bool(args.enable)
    if not fields:
        raise ClientError("nothing to change: give --question, --answer, --paraphrase, --disable or --enable")
    row = client.edit_corrected_answer(bot.id, args.id, **fields)
    print(json.dumps(row.model_dump(mode="json")) if args.json else f"updated {row.id}")
    return 0


def _rm(client: AdminClient, args) -> int:
    bot = client.resolve_bot(args.bot)
    client.delete_corrected_answer(bot.id, args.id)
    print(f"deleted corrected answer {args.id}", file=sys.stderr)
    return 0


def _import(client: AdminClient, args) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ClientError(f"{args.file}: {err}") from None
    bot = client.resolve_bot(args.bot)
    result = client.import_corrected_answers_csv(bot.id, text)
    if args.json:
        print(json.dumps(result.model_dump()))
    else:
        print(f"created {result.created}, updated {result.updated} corrected answers", file=sys.stderr)
    return 0


def _export(client: AdminClient, args) -> int:
    bot = client.resolve_bot(args.bot)
    sys.stdout.write(client.export_corrected_answers_csv(bot.id))
    return 0
