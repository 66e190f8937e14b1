"""Which quotes should an extractive answer pick? The retrieved passages of every question with
a reference answer are collected once (real ingestion and retrieval, through the admin API,
as answer_correctness does) and stored; the selection (`bots.core.extractive.compose`) is then
scored on them in milliseconds, so its parameters can be chosen leave-one-set-out: each set's
numbers come from the parameters chosen on the other sets.

    python -m benchmarks.extractive_selection collect [--quick]   # retrieval, minutes
    python -m benchmarks.extractive_selection score               # selection only, seconds
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.answer_correctness import FACT_KINDS, _fold, fact_recall, key_facts, references
from benchmarks.answering_setup import answering_bot
from benchmarks.eval_sets import BUILDERS, data_dir
from benchmarks.gate_calibration import cached_embedders
from benchmarks.report import RESULTS, table, write_json
from benchmarks.retrieval import CACHE as EMBEDDING_CACHE
from benchmarks.server import running_server
from bots.core import extractive
from bots.core.answering import answer_language, relevant_passages
from bots.core.grounding import unsupported_claims
from knowledge.documents import Hit

SETS = ("contoso_northwind_en", "covid_faq_en", "covid_faq_gouv_fr", "service_public_fr")
CASES = RESULTS / "extractive_cases.json"
# Questions per set (those with a reference answer): all of Contoso's, a seeded sample of the
# others (the French corpora are embedded by e5, a few chunks a second on this machine).
LIMIT = {"contoso_northwind_en": 66, "covid_faq_en": 80, "covid_faq_gouv_fr": 80, "service_public_fr": 61}


def collect(data: Path, quick: bool, k: int | None = None) -> list[dict]:
    cases: list[dict] = []
    with (
        tempfile.TemporaryDirectory(prefix="prompteur-extractive-") as work,
        running_server(cached_embedders(EMBEDDING_CACHE)) as server,
    ):
        for name in SETS:
            started = time.perf_counter()
            # The French builders' quick mode keeps the sampled questions' answers and as
            # many distractors; service-public's 2 referenced questions are kept whole.
            eval_set = BUILDERS[name](data, Path(work), name in ("covid_faq_gouv_fr",) or quick)
            refs = references(data, name)
            questions = [q for q in eval_set.questions if refs.get(q.id)]
            limit = LIMIT[name] // (3 if quick else 1)
            questions = random.Random(0).sample(questions, min(limit, len(questions)))
            if name == "service_public_fr":
                wanted = set().union(*(q.answer_ids for q in questions))
                others = sorted(f for f in eval_set.files if f.stem not in wanted)
                eval_set.files = [f for f in eval_set.files if f.stem in wanted] + random.Random(0).sample(
                    others, min(len(others), 20)
                )
            bot = answering_bot(server, eval_set)
            print(f"[extractive] {name}: ingested in {time.perf_counter() - started:.0f}s", flush=True)
            for q in questions:
                # `k`: more passages than the bot reads, to measure what reading more would find
                # (each case keeps the bot's own k: `read` truncates to it).
                hits = bot.retrieve(q.text, max(k or 0, bot.spec.retrieval.k))
                passages = relevant_passages(hits, bot.spec.retrieval.threshold_for(bot.embedding_model))
                cases.append(
                    {
                        "set": name,
                        "id": q.id,
                        "question": q.text,
                        "reference": refs[q.id],
                        "language": answer_language(bot.spec, q.text),
                        "max_chars": bot.spec.answer.max_chars,
                        "k": bot.spec.retrieval.k,
                        "answer_ids": sorted(q.answer_ids),
                        "passages": [dataclasses.asdict(h) for h in passages],
                        "passage_docs": [eval_set.doc_of(h.source, h.page, h.text) for h in passages],
                    }
                )
            print(f"[extractive] {name}: {len(questions)} questions", flush=True)
    return cases


def evaluate(cases: list[dict], **params) -> dict[str, dict]:
    """Per set: mean key-fact recall (all facts, and those not in the question), citation
    precision, fallback rate and selection time p95, with `params` set on the module."""
    saved = {k: getattr(extractive, k) for k in params}
    for k, v in params.items():
        setattr(extractive, k, v)
    try:
        per_set: dict[str, dict[str, list]] = {}
        for case in cases:
            hits = [Hit(**h) for h in case["passages"]]
            started = time.perf_counter()
            extract = (
                extractive.compose(case["question"], hits, max_chars=case["max_chars"], language=case["language"])
                if hits
                else extractive.Extract("")
            )
            ms = (time.perf_counter() - started) * 1000
            s = per_set.setdefault(case["set"], {"recall": [], "new": [], "right": [], "cited": [], "ms": [], "fb": []})
            s["recall"].append(fact_recall(case["reference"], extract.text) or 0.0)
            new = fact_recall(case["reference"], extract.text, case["question"])
            if new is not None:
                s["new"].append(new)
            docs = {id(h): d for h, d in zip(hits, case["passage_docs"])}
            used = [docs[id(h)] for h in extract.used]
            s["right"].append(sum(1 for d in used if d in case["answer_ids"]))
            s["cited"].append(len(used))
            s["ms"].append(ms)
            s["fb"].append(not extract.text)
    finally:
        for k, v in saved.items():
            setattr(extractive, k, v)
    out = {}
    for name, s in per_set.items():
        times = sorted(s["ms"])
        out[name] = {
            "n": len(s["recall"]),
            "key_fact_recall": statistics.mean(s["recall"]),
            "key_fact_recall_new": statistics.mean(s["new"]) if s["new"] else None,
            "citation_precision": sum(s["right"]) / max(1, sum(s["cited"])),
            "fallback_rate": sum(s["fb"]) / len(s["fb"]),
            "ms_p95": times[min(len(times) - 1, int(0.95 * len(times)))],
        }
    return out


# The parameters chosen leave-one-set-out, and the values tried for each.
GRID: dict[str, list] = {
    "RANK_WEIGHT": [0.5, 1.0],
    # 0.1 and 0.5 tied on every set and setting tried (the rank prior decides)
    "DENSE_WEIGHT": [0.1],
    "SPECIFIC_WEIGHT": [0.1, 0.2],
    "SAME_PASSAGE_SHARE": [0.45, 0.75],
    "LIST_WEIGHT": [0.0, 0.3, 0.6],
}
# A set with fewer questions than this (service-public has 2 reference answers) is scored
# held out but does not vote: one fact more or less would swing the choice.
MIN_VOTING_QUESTIONS = 10


def _objective(result: dict[str, dict], names: list[str]) -> float:
    """Mean over the sets of recall of the facts the question does not state (the plain
    recall rewards echoing the question)."""
    voting = [n for n in names if n in result and result[n]["n"] >= MIN_VOTING_QUESTIONS]
    return statistics.mean(result[n]["key_fact_recall_new"] or 0.0 for n in voting)


def leave_one_set_out(cases: list[dict]) -> dict:
    names = sorted({c["set"] for c in cases})
    combos = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())] or [{}]
    results = [(combo, evaluate(cases, **combo)) for combo in combos]
    for combo, result in results:
        print(json.dumps(combo), {n: round(m["key_fact_recall_new"] or 0, 3) for n, m in result.items()}, flush=True)
    held_out = {}
    for name in names:
        others = [n for n in names if n != name]
        combo, result = max(results, key=lambda pair: _objective(pair[1], others))
        held_out[name] = {"chosen_on_others": combo, **result[name]}
    default = evaluate(cases)
    return {"in_sample_defaults": default, "leave_one_set_out": held_out, "grid": GRID}


def render(result: dict) -> str:
    rows = []
    for label, key in (("defaults, in sample", "in_sample_defaults"), ("leave-one-set-out", "leave_one_set_out")):
        for name, m in sorted(result[key].items()):
            rows.append(
                [
                    name,
                    label,
                    m["n"],
                    m["key_fact_recall"],
                    "n/a" if m["key_fact_recall_new"] is None else m["key_fact_recall_new"],
                    m["citation_precision"],
                    m["fallback_rate"],
                    m["ms_p95"],
                    json.dumps(m.get("chosen_on_others", "")),
                ]
            )
    headers = ["set", "parameters", "n", "key-fact recall", "recall, not in question", "citation precision"]
    return table([*headers, "fallback", "ms p95", "chosen on the other sets"], rows)


def missing(reference: str, text: str, question: str) -> list[str]:
    """The reference's facts (those not in the question) that `text` does not hold."""
    facts, terms = key_facts(reference, question)
    absent = {c.text for c in unsupported_claims(reference, [text]) if c.kind in FACT_KINDS}
    words = set(re.findall(r"[\w’'-]+", _fold(text)))
    return [f for f in facts if f in absent] + [t for t in terms if t not in words]


def diagnose(cases: list[dict]) -> dict[str, dict[str, int]]:
    """Why each missed fact is missed: in no retrieved passage (retrieval's miss), in the
    passage quoted first, or only in another retrieved passage (the selection's miss)."""
    counts: dict[str, dict[str, int]] = {}
    for case in cases:
        hits = [Hit(**h) for h in case["passages"]]
        extract = extractive.compose(case["question"], hits, max_chars=case["max_chars"], language=case["language"])
        lost = missing(case["reference"], extract.text, case["question"])
        c = counts.setdefault(case["set"], {"facts": 0, "found": 0, "not_retrieved": 0, "in_quoted": 0, "in_other": 0})
        facts, terms = key_facts(case["reference"], case["question"])
        c["facts"] += len(facts) + len(terms)
        c["found"] += len(facts) + len(terms) - len(lost)
        quoted = " ".join(h.text for h in extract.used)
        rest = " ".join(h.text for h in hits if h not in extract.used)
        for fact in lost:
            where = "not_retrieved"
            if not missing(case["reference"], quoted, case["question"]).count(fact) and quoted:
                where = "in_quoted"
            elif not missing(case["reference"], rest, case["question"]).count(fact) and rest:
                where = "in_other"
            c[where] += 1
        if VERBOSE and lost:
            print(f"\n## {case['set']} {case['id']}: {case['question']}\nREF: {case['reference'][:400]}")
            print(f"LOST: {lost}")
            for i, h in enumerate(hits):
                mark = "*" if h in extract.used else " "
                print(f" {mark}[{i}] {h.dense_score and round(h.dense_score, 2)} {h.source}#{h.page}: {h.text[:300]!r}")
            print(f"ANSWER: {extract.text!r}")
    return counts


def _corpus_texts(data: Path, name: str) -> dict[str, str]:
    with (data / name / "corpus.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {r["id"]: f"{r.get('title') or ''}\n{r['text']}" for r in rows}


# The length the causes below allow an answer when asking "was it cut?": the largest
# `answer.max_chars` a bot may set.
UNBOUNDED_CHARS = 4000
CAUSES = ("not_in_source", "not_retrieved", "not_chosen", "cut_by_length")


def causes(cases: list[dict], data: Path, max_chars: int | None = None) -> dict[str, dict[str, int]]:
    """Why each fact of the reference (those the question does not state) is missing from
    the extractive answer, in the order it is checked:
    (d) not_in_source: the reference words it otherwise than its answer documents do (the
        metric cannot find it in the source either, so no quote can carry it);
    (a) not_retrieved: in the answer documents, in none of the passages the answer reads;
    (b) not_chosen: in a passage read, not in the answer even without a length limit;
    (c) cut_by_length: in the answer without a length limit, not within `max_chars`."""
    corpora: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}
    for case in cases:
        corpus = corpora.setdefault(case["set"], _corpus_texts(data, case["set"]))
        hits = [Hit(**h) for h in case["passages"]]
        budget = max_chars or case["max_chars"]

        def answer(limit: int) -> str:
            if not hits:
                return ""
            return extractive.compose(case["question"], hits, max_chars=limit, language=case["language"]).text

        text = answer(budget)
        lost = missing(case["reference"], text, case["question"])
        c = counts.setdefault(case["set"], {"facts": 0, "found": 0, **dict.fromkeys(CAUSES, 0)})
        facts, terms = key_facts(case["reference"], case["question"])
        c["facts"] += len(facts) + len(terms)
        c["found"] += len(facts) + len(terms) - len(lost)
        if not lost:
            continue
        source = "\n".join(corpus.get(d, "") for d in case["answer_ids"])
        read = "\n".join(h.text for h in hits)
        long = answer(UNBOUNDED_CHARS)
        why = {}
        for fact in lost:
            if fact in missing(case["reference"], source, case["question"]):
                why[fact] = "not_in_source"
            elif not read or fact in missing(case["reference"], read, case["question"]):
                why[fact] = "not_retrieved"
            elif fact in missing(case["reference"], long, case["question"]):
                why[fact] = "not_chosen"
            else:
                why[fact] = "cut_by_length"
            c[why[fact]] += 1
        if VERBOSE:
            print(f"\n## {case['set']} {case['id']}: {case['question']}\nREF: {case['reference'][:400]}")
            print(f"LOST: {why}")
            for i, h in enumerate(hits):
                print(f"  [{i}] {h.dense_score and round(h.dense_score, 2)} {h.source}#{h.page}: {h.text[:200]!r}")
            print(f"ANSWER: {text!r}")
    return counts


VERBOSE = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["collect", "score", "diagnose", "causes"])
    parser.add_argument("--set", help="diagnose: only this set")
    parser.add_argument("-v", "--verbose", action="store_true", help="diagnose: print each question's misses")
    parser.add_argument("--data", help="evaluation sets folder (default: ../shared/eval next to the repo)")
    parser.add_argument("--quick", action="store_true", help="a third of the questions")
    parser.add_argument("--k", type=int, help="collect: retrieve this many passages (the bot reads its own k)")
    parser.add_argument("--cases", help=f"the collected cases file (default {CASES})")
    parser.add_argument(
        "--budgets", type=lambda v: [int(x) for x in v.split(",")], help="causes: answer lengths to try (700,1000)"
    )
    args = parser.parse_args()
    if args.step == "collect":
        cases = collect(data_dir(args.data), args.quick, args.k)
        path = Path(args.cases) if args.cases else CASES
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cases, ensure_ascii=False))
        print(f"wrote {path} ({len(cases)} questions)")
        return
    path = Path(args.cases) if args.cases else CASES
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `python -m benchmarks.extractive_selection collect` first")
    cases = json.loads(path.read_text(encoding="utf-8"))
    global VERBOSE
    VERBOSE = args.verbose
    if args.step == "causes":
        selected = [c for c in cases if not args.set or c["set"] == args.set]
        for budget in args.budgets or [None]:
            counts = causes(selected, data_dir(args.data), budget)
            print(f"max_chars {budget or 'of the bot'}")
            print(table(["set", *next(iter(counts.values()))], [[n, *c.values()] for n, c in counts.items()]))
        return
    if args.step == "diagnose":
        counts = diagnose([c for c in cases if not args.set or c["set"] == args.set])
        print(table(["set", *next(iter(counts.values()))], [[n, *c.values()] for n, c in counts.items()]))
        return
    result = leave_one_set_out(cases)
    print(render(result))
    print(f"\nwrote {write_json('extractive_selection', result)}")


if __name__ == "__main__":
    main()
