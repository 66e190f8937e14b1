"""`prompteur eval experiment` and `prompteur eval promote`: measure variants of a bot's draft
on a test set, then make one of them the draft."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from bots.cli.client import AdminClient, ClientError

POLL_S = 0.5


def experiment_parsers(ev, client: Callable[[], AdminClient]) -> None:
    """Add both subcommands to `prompteur eval`; `client` makes the admin client when one runs."""
    exp = ev.add_parser("experiment", help="measure variants of the draft on a test set, side by side")
    exp.add_argument("bot")
    exp.add_argument("--set", required=True, help="the test set")
    exp.add_argument(
        "--variants",
        required=True,
        type=Path,
        help="YAML (or JSON): a list of {name: ..., <spec section>: {...}}, or {variants: [...]}",
    )
    exp.add_argument("--wait", action="store_true", help="wait for every variant's results")
    exp.add_argument("--json", action="store_true")
    exp.set_defaults(run=lambda args: _experiment(args, client()))
    promote = ev.add_parser("promote", help="make an experiment's variant the draft")
    promote.add_argument("bot")
    promote.add_argument("experiment_id")
    promote.add_argument("variant")
    promote.add_argument("--json", action="store_true")
    promote.set_defaults(run=lambda args: _promote(args, client()))


def read_variants(path: Path) -> list[dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ClientError(f"{path}: {err}") from None
    if isinstance(data, dict):
        data = data.get("variants")
    if not isinstance(data, list):
        raise ClientError(f"{path}: expected a list of variants (or a mapping with `variants:`)")
    return data


def _experiment(args, client: AdminClient) -> int:
    variants = read_variants(args.variants)
    bot = client.resolve_bot(args.bot)
    made = client.start_experiment(bot.id, args.set, variants)
    try:
        while args.wait and made.status == "running":
            if not args.json:
                done, total = sum(v.done for v in made.variants), sum(v.cases for v in made.variants)
                sys.stderr.write(f"\r{done}/{total} cases over {len(made.variants)} variants")
                sys.stderr.flush()
            time.sleep(POLL_S)
            made = client.experiment(bot.id, made.experiment_id)
    except KeyboardInterrupt:
        for v in made.variants:
            client.cancel_eval_run(bot.id, v.run_id)
        print(f"\ncancelled experiment {made.experiment_id}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(made.model_dump(mode="json", by_alias=True), ensure_ascii=False))
        return 0
    print(f"\nexperiment {made.experiment_id} on {made.set} ({made.status})", file=sys.stderr)
    for v in made.variants:
        rate = "n/a" if v.pass_rate is None else f"{v.pass_rate:.0%}"
        print(f"  {v.variant:<24} pass {rate:>5}  recall@5 {_num(v.recall_at_5)}  p50 {v.latency_p50_ms} ms")
    return 0


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _promote(args, client: AdminClient) -> int:
    bot = client.resolve_bot(args.bot)
    promoted = client.promote_variant(bot.id, args.experiment_id, args.variant)
    if args.json:
        print(json.dumps(promoted.model_dump(mode="json"), ensure_ascii=False))
    else:
        print(f"the draft of {bot.name} is now variant {promoted.variant}", file=sys.stderr)
    return 0
