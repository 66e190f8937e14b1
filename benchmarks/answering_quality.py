"""Answer quality with the bundled model (SmolLM2-135M), through the real answering pipeline
(hybrid retrieval → relevance gate → prompt → model → citations):

- grounded-answer rate on the Contoso questions: the answer is not the fallback and its
  citations include a page the question's reference answer cites;
- the share of off-topic questions (CLINC150, banking77, French Wikipedia) answered with the
  fallback, asked to the same Contoso bot and to the COVID FAQ bot.

    python -m benchmarks.answering_quality [--data PATH] [--quick]
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.answering_setup import answering_bot
from benchmarks.eval_sets import BUILDERS, data_dir
from benchmarks.gate_calibration import (
    TARGET_IN_SCOPE_FALLBACK,
    TARGET_OOS_FALLBACK,
    cached_embedders,
    out_of_scope_sets,
)
from benchmarks.report import RESULTS, arguments, table, write_json
from benchmarks.server import running_server
from bots.core.answering import answer
from bots.core.errors import DomainError

OFF_TOPIC_BOTS = ("contoso_northwind_en", "covid_faq_en")


def ask(bot, question: str) -> dict:
    started = time.perf_counter()
    try:
        result = answer(bot.spec, question, retrieve=bot.retrieve, model=bot.model, embedding_model=bot.embedding_model)
    except DomainError as err:  # the answer failed (provider, retrieval): recorded, not fatal
        return {"question": question, "error": err.code, "seconds": time.perf_counter() - started}
    return {
        "question": question,
        "answer": result.text,
        "fallback": result.fallback,
        "reason": result.debug.reason,
        "citations": result.citations,
        "passages": [(h.source, h.page, h.text) for h in result.debug.passages],
        "completion_tokens": result.usage.completion_tokens,
        "seconds": time.perf_counter() - started,
    }


def grounded(eval_set, question, record: dict) -> dict:
    gold = question.answer_ids
    cited = {eval_set.doc_of(c["source"], c["page"], c["snippet"]) for c in record.get("citations", [])}
    shown = {eval_set.doc_of(*p) for p in record.get("passages", [])}
    return {
        **record,
        "gold": sorted(gold),
        "grounded": not record.get("fallback", True) and bool(cited & gold),
        "gold_in_prompt": bool(shown & gold),
    }


def run(data: Path, quick: bool = False) -> dict:
    # Off-topic questions mostly stop at the gate in milliseconds: they can be many.
    n_in, n_off = (12, 25) if quick else (66, 50)  # n_off: per off-topic set and bot
    result: dict = {"in_scope": {}, "off_topic": {}}
    with (
        tempfile.TemporaryDirectory(prefix="prompteur-quality-") as work,
        running_server(cached_embedders(RESULTS / "embedding_cache")) as server,
    ):
        bots = {}
        for name in OFF_TOPIC_BOTS:
            eval_set = BUILDERS[name](data, Path(work))
            bots[name] = (eval_set, answering_bot(server, eval_set))

        eval_set, bot = bots["contoso_northwind_en"]
        questions = eval_set.questions[:n_in] if quick else eval_set.questions
        records = []
        for i, q in enumerate(questions, 1):
            records.append(grounded(eval_set, q, ask(bot, q.text)))
            print(f"[quality] contoso {i}/{len(questions)} {records[-1]['seconds']:.0f}s", flush=True)
        result["in_scope"]["contoso_northwind_en"] = summarize(records) | {"answers": records}

        off_topic = out_of_scope_sets(data, quick)
        for name, (_, bot) in bots.items():
            for set_name, qs in off_topic.items():
                sample = random.Random(1).sample(qs, min(n_off, len(qs)))
                records = [ask(bot, q) for q in sample]
                result["off_topic"][f"{set_name} → {name}"] = summarize(records) | {"answers": records}
                print(f"[quality] off-topic {set_name} → {name} done", flush=True)
    answered = [r for s in result["off_topic"].values() for r in s["answers"]]
    result["off_topic_fallback"] = sum(1 for r in answered if r.get("fallback")) / max(1, len(answered))
    contoso = result["in_scope"]["contoso_northwind_en"]
    result["targets"] = {
        "in_scope_fallback_at_most": TARGET_IN_SCOPE_FALLBACK,
        "off_topic_fallback_at_least": TARGET_OOS_FALLBACK,
        "met": contoso["fallback_rate"] <= TARGET_IN_SCOPE_FALLBACK
        and result["off_topic_fallback"] >= TARGET_OOS_FALLBACK,
    }
    return result


def summarize(records: list[dict]) -> dict:
    n = max(1, len(records))
    modelled = [r for r in records if r.get("reason") not in (None, "no_relevant_passage")]
    return {
        "questions": len(records),
        "grounded_rate": sum(1 for r in records if r.get("grounded")) / n
        if "grounded" in (records or [{}])[0]
        else None,
        "gold_in_prompt_rate": (
            sum(1 for r in records if r.get("gold_in_prompt")) / n if "gold_in_prompt" in (records or [{}])[0] else None
        ),
        "fallback_rate": sum(1 for r in records if r.get("fallback")) / n,
        "gate_fallback_rate": sum(1 for r in records if r.get("reason") == "no_relevant_passage") / n,
        "errors": sum(1 for r in records if "error" in r),
        "model_calls": len(modelled),
        "seconds_p50": statistics.median([r["seconds"] for r in records]) if records else None,
    }


def render(r: dict) -> str:
    c = r["in_scope"]["contoso_northwind_en"]
    rows = [
        [
            "contoso_northwind_en (in scope)",
            c["questions"],
            c["grounded_rate"],
            c["gold_in_prompt_rate"],
            c["fallback_rate"],
            c["gate_fallback_rate"],
            c["model_calls"],
            c["errors"],
            c["seconds_p50"],
        ]
    ]
    rows += [
        [
            name,
            s["questions"],
            "",
            "",
            s["fallback_rate"],
            s["gate_fallback_rate"],
            s["model_calls"],
            s["errors"],
            s["seconds_p50"],
        ]
        for name, s in r["off_topic"].items()
    ]
    return table(
        [
            "questions → bot",
            "n",
            "grounded",
            "gold page in prompt",
            "fallback",
            "by the gate",
            "model calls",
            "errors",
            "s/answer p50",
        ],
        rows,
    ) + (
        f"\n\noff-topic answered with the fallback: {r['off_topic_fallback']:.1%} (target ≥ "
        f"{TARGET_OOS_FALLBACK:.0%}); Contoso fallback {c['fallback_rate']:.1%} (target ≤ "
        f"{TARGET_IN_SCOPE_FALLBACK:.0%}): {'met' if r['targets']['met'] else 'MISSED'}"
    )


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    started = time.perf_counter()
    result = run(data_dir(args.data), args.quick)
    print(render(result))
    path = write_json(
        "answering_quality", {"quick": args.quick, "minutes": (time.perf_counter() - started) / 60, **result}
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
