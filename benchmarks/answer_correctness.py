"""Are the answers right? Extractive answers (quoted from the passages) against generative
ones with the bundled model (SmolLM2-135M), with and without the groundedness guard, on the
Contoso questions and samples of the two French sets, through real retrieval (the documents
uploaded through the admin API):

- key-fact recall: the reference answer's numbers and named facts (capitalised words not
  opening a sentence) found in the answer, numbers compared by value as the guard does;
- unsupported-claim rate: answers stating a number, amount, date or contact that is in
  neither the passages the answer was made from nor the question;
- citation precision: cited passages whose document is one of the question's answers;
- latency p50/p95 of writing the answer once the passages are retrieved, and fallback rate.

Modes: extractive; generative (the bundled model); generative + guard (an answer with an
unsupported claim is replaced by the extractive one); and, when PROMPTEUR_BENCH_MODEL_URL
names an OpenAI-compatible server (PROMPTEUR_BENCH_MODEL_NAME its model), generative with it.
The negation check is measured on the side: on Contoso sentences and their negated copies,
and on the bundled model's answers (its flags are listed for checking by hand).

    python -m benchmarks.answer_correctness [--data PATH] [--quick] [--no-generative] [--sets A,B]
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import tempfile
import time
import unicodedata
from pathlib import Path

from benchmarks.answering_setup import answering_bot
from benchmarks.eval_sets import BUILDERS, data_dir
from benchmarks.gate_calibration import cached_embedders
from benchmarks.report import arguments, table, write_json
from benchmarks.retrieval import CACHE as EMBEDDING_CACHE
from benchmarks.server import running_server
from bots.core.answering import answer, answer_language, relevant_passages
from bots.core.errors import DomainError
from bots.core.extractive import compose, split_sentences
from bots.core.grounding import contradicted_sentences, unsupported_claims
from bots.core.spec import ModelSettings

SETS = ("contoso_northwind_en", "covid_faq_gouv_fr", "service_public_fr")
FULL = {"contoso_northwind_en": 66, "covid_faq_gouv_fr": 60, "service_public_fr": 60}
QUICK = 15
# Claims that count as unsupported facts (a quoted name may be paraphrased legitimately).
FACT_KINDS = frozenset({"number", "amount", "percent", "duration", "date", "email", "phone", "url"})
TARGET_RECALL_RATIO = 1.5
TARGET_EXTRACTIVE_P95_MS = 300
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-ZÀ-Ý][\w’'-]*[\w])")
_IGNORED_TERMS = frozenset({"i", "you", "we", "it", "if", "the", "a", "vous", "il", "le", "la", "les", "en"})


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def key_facts(reference: str, question: str = "") -> tuple[list[str], list[str]]:
    """(the checkable facts, the named terms) of a reference answer. With `question`, those
    the question already states are left out: the bundled model echoes the question's names
    ("Northwind Standard Benefits Details"), which tells nothing of whether it answered."""
    given = {c.text for c in unsupported_claims(reference, [question])} if question else None
    facts = [c.text for c in unsupported_claims(reference, []) if c.kind in FACT_KINDS]
    if given is not None:
        facts = [f for f in facts if f in given]
    asked = set(re.findall(r"[\w’'-]+", _fold(question)))
    terms = {
        _fold(m.group(1))
        for line in reference.split("\n")
        for m in _CAPITALISED.finditer(line.strip())
        if _fold(m.group(1)) not in _IGNORED_TERMS and _fold(m.group(1)) not in asked
    }
    return facts, sorted(terms)


def fact_recall(reference: str, text: str, question: str = "") -> float | None:
    facts, terms = key_facts(reference, question)
    if len(facts) + len(terms) == 0:
        return None
    missing = {c.text for c in unsupported_claims(reference, [text]) if c.kind in FACT_KINDS}
    words = set(re.findall(r"[\w’'-]+", _fold(text)))
    found = sum(1 for f in facts if f not in missing) + sum(1 for t in terms if t in words)
    return found / (len(facts) + len(terms))


def unsupported(text: str, passages, question: str) -> list[dict]:
    return [
        {"kind": c.kind, "text": c.text} for c in unsupported_claims(text, passages, question) if c.kind in FACT_KINDS
    ]


def references(data: Path, name: str) -> dict[str, str]:
    with (data / name / "questions.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {r["id"]: r.get("answer") or "" for r in rows}


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def extractive_record(bot, question: str, passages, language: str) -> dict:
    started = time.perf_counter()
    extract = compose(question, passages, max_chars=bot.spec.answer.max_chars, language=language)
    ms = _ms(started)
    return {
        "text": extract.text,
        "fallback": not extract.text,
        "ms": ms,
        "cited": [(h.source, h.page, h.text) for h in extract.used],
        "passages": [h.text for h in passages],
    }


def generative_record(bot, model, question: str, hits) -> dict:
    started = time.perf_counter()
    # The model's own words, unguarded: the pipeline would otherwise quote (the bundled
    # model's default style) or guard them, and `guarded` below measures the guard itself.
    raw = bot.spec.answer.model_copy(update={"style": "generative", "guard": "off"})
    try:
        result = answer(
            bot.spec.model_copy(update={"answer": raw}),
            question,
            retrieve=lambda _q, _k: hits,
            model=model,
            embedding_model=bot.embedding_model,
        )
    except DomainError as err:  # what answer() raises when the pipeline fails
        return {"text": "", "fallback": True, "error": err.code, "ms": _ms(started), "cited": [], "passages": []}
    return {
        "text": result.text,
        "fallback": result.fallback,
        "ms": _ms(started),
        "cited": [(c["source"], c["page"], c["snippet"]) for c in result.citations],
        "passages": [h.text for h in result.debug.passages],
    }


def guarded(generated: dict, extractive: dict, question: str) -> dict:
    """The guard with guard="replace": an answer with an unsupported fact becomes the
    extractive one (the model already ran: its time counts)."""
    if generated["fallback"]:
        return {**generated, "replaced": False}
    started = time.perf_counter()
    claims = unsupported(generated["text"], generated["passages"], question)
    guard_ms = _ms(started)
    if not claims:
        return {**generated, "ms": generated["ms"] + guard_ms, "replaced": False}
    return {**extractive, "ms": generated["ms"] + guard_ms + extractive["ms"], "replaced": True, "caught": claims}


def score(eval_set, question, reference: str, record: dict) -> dict:
    record = dict(record)
    record["unsupported"] = [] if record["fallback"] else unsupported(record["text"], record["passages"], question.text)
    text = "" if record["fallback"] else record["text"]
    record["recall"] = fact_recall(reference, text) if reference else None
    record["recall_new"] = fact_recall(reference, text, question.text) if reference else None
    docs = [eval_set.doc_of(*c) for c in record["cited"]]
    record["cited_right"] = sum(1 for d in docs if d in question.answer_ids)
    record["cited_total"] = len(docs)
    record.pop("passages", None)
    return record


def summarize(records: list[dict]) -> dict:
    answered = [r for r in records if not r["fallback"]]
    recalls = [r["recall"] for r in records if r["recall"] is not None]
    new_facts = [r["recall_new"] for r in records if r.get("recall_new") is not None]
    ms = sorted(r["ms"] for r in records)
    cited = sum(r["cited_total"] for r in records)
    return {
        "questions": len(records),
        "key_fact_recall": statistics.mean(recalls) if recalls else None,
        "recall_questions": len(recalls),
        # Only the facts the question does not already state.
        "key_fact_recall_new": statistics.mean(new_facts) if new_facts else None,
        "recall_new_questions": len(new_facts),
        "unsupported_rate": sum(1 for r in answered if r["unsupported"]) / len(answered) if answered else None,
        "citation_precision": sum(r["cited_right"] for r in records) / cited if cited else None,
        "ms_p50": statistics.median(ms) if ms else None,
        "ms_p95": ms[min(len(ms) - 1, int(0.95 * len(ms)))] if ms else None,
        "fallback_rate": sum(1 for r in records if r["fallback"]) / max(1, len(records)),
        "replaced_rate": sum(1 for r in records if r.get("replaced")) / max(1, len(records)),
    }


def negate(sentence: str) -> str | None:
    """A copy of a sentence that says the opposite, by the commonest English patterns."""
    for pattern, replacement in (
        (r"\b(is|are|was|were|will|can|may|must|should)\b(?! not)", r"\1 not"),
        (r"\b(covers|includes|offers|provides|requires)\b", lambda m: "does not " + m.group(1)[:-1]),
    ):
        negated, n = re.subn(pattern, replacement, sentence, count=1)
        if n:
            return negated
    return None


def negation_check(records: list[dict], passages_by_question: dict[str, list[str]]) -> dict:
    """Contoso only. Synthetic: each extractive answer's sentences (true by construction) and
    their negated copies (false): how many of each the check flags. Real: what it flags in
    the bundled model's answers, listed to be checked by hand."""
    true_flagged = true_total = false_flagged = false_total = 0
    for r in records:
        passages = passages_by_question.get(r["question"], [])
        for sentence in split_sentences(" ".join(r["extractive"]["text"].split("\n"))):
            if sentence.startswith("**") or len(sentence.split()) < 5:
                continue
            true_total += 1
            true_flagged += bool(contradicted_sentences(sentence, passages, "en"))
            if negated := negate(sentence):
                false_total += 1
                false_flagged += bool(contradicted_sentences(negated, passages, "en"))
    flagged = []
    for r in records:
        gen = r.get("generative")
        if gen and not gen["fallback"]:
            for c in contradicted_sentences(gen["text"], passages_by_question.get(r["question"], []), "en"):
                flagged.append({"question": r["question"], "answer": c.sentence, "passage": c.passage_sentence})
    return {
        "synthetic_true_sentences": true_total,
        "flagged_true": true_flagged,
        "synthetic_negated_sentences": false_total,
        "flagged_negated": false_flagged,
        "precision_synthetic": false_flagged / (false_flagged + true_flagged) if false_flagged + true_flagged else None,
        "recall_synthetic": false_flagged / false_total if false_total else None,
        "flagged_in_generative_answers": flagged,
    }


def run(data: Path, quick: bool = False, generative: bool = True, sets: tuple[str, ...] = SETS) -> dict:
    url = os.environ.get("PROMPTEUR_BENCH_MODEL_URL")
    result: dict = {"sets": {}}
    with (
        tempfile.TemporaryDirectory(prefix="prompteur-correctness-") as work,
        running_server(cached_embedders(EMBEDDING_CACHE)) as server,
    ):
        for name in sets:
            # The builders' quick mode keeps the French corpora small (the sampled questions'
            # answers plus as many distractors); the questions are then sampled again here.
            eval_set = BUILDERS[name](data, Path(work), quick or name != "service_public_fr")
            n = QUICK if quick else FULL[name]
            questions = random.Random(0).sample(eval_set.questions, min(n, len(eval_set.questions)))
            refs = references(data, name)
            bot = answering_bot(server, eval_set)
            other = None
            if url:
                settings = ModelSettings(
                    provider="openai_compatible",
                    base_url=url,
                    model=os.environ.get("PROMPTEUR_BENCH_MODEL_NAME", ""),
                    api_key=os.environ.get("PROMPTEUR_BENCH_MODEL_KEY") or None,
                    timeout_s=120,
                )
                other = server.runtime.chat_model(settings)
            records: list[dict] = []
            passages_by_question: dict[str, list[str]] = {}
            for i, q in enumerate(questions, 1):
                started = time.perf_counter()
                hits = bot.retrieve(q.text, bot.spec.retrieval.k)
                retrieval_ms = _ms(started)
                passages = relevant_passages(hits, bot.spec.retrieval.threshold_for(bot.embedding_model))
                passages_by_question[q.text] = [h.text for h in passages]
                language = answer_language(bot.spec, q.text)
                ref = refs.get(q.id, "")
                ext = (
                    extractive_record(bot, q.text, passages, language)
                    if passages
                    else {"text": "", "fallback": True, "ms": 0.0, "cited": [], "passages": []}
                )
                row = {"question": q.text, "reference": ref, "retrieval_ms": retrieval_ms}
                row["extractive"] = score(eval_set, q, ref, ext)
                if generative:
                    gen = generative_record(bot, bot.model, q.text, hits)
                    row["generative"] = score(eval_set, q, ref, gen)
                    row["guarded"] = score(eval_set, q, ref, guarded(gen, ext, q.text))
                if other is not None:
                    row["other_model"] = score(eval_set, q, ref, generative_record(bot, other, q.text, hits))
                records.append(row)
                print(f"[correctness] {name} {i}/{len(questions)}", flush=True)
            modes = [m for m in ("extractive", "generative", "guarded", "other_model") if m in records[0]]
            result["sets"][name] = {
                "retrieval_ms_p50": statistics.median(r["retrieval_ms"] for r in records),
                "modes": {m: summarize([r[m] for r in records]) for m in modes},
                "answers": records,
            }
            if name == "contoso_northwind_en":
                result["negation_check"] = negation_check(records, passages_by_question)
    result["targets"] = targets(result)
    return result


def targets(result: dict) -> dict:
    ext = [s["modes"]["extractive"] for s in result["sets"].values()]
    out: dict = {
        "extractive_unsupported_zero": all((m["unsupported_rate"] or 0) == 0 for m in ext),
        "extractive_p95_ms_below_300": all((m["ms_p95"] or 0) < TARGET_EXTRACTIVE_P95_MS for m in ext),
    }
    ratios = {}
    for name, s in result["sets"].items():
        gen = s["modes"].get("generative")
        if gen and gen["key_fact_recall"] and s["modes"]["extractive"]["key_fact_recall"] is not None:
            ratios[name] = s["modes"]["extractive"]["key_fact_recall"] / gen["key_fact_recall"]
    out["recall_ratio_vs_generative"] = ratios
    new = {}
    for name, s in result["sets"].items():
        gen = s["modes"].get("generative")
        ext = s["modes"]["extractive"].get("key_fact_recall_new")
        if gen and gen.get("key_fact_recall_new") and ext is not None:
            new[name] = ext / gen["key_fact_recall_new"]
    out["recall_ratio_vs_generative_facts_not_in_question"] = new
    out["recall_ratio_at_least_1.5"] = all(r >= TARGET_RECALL_RATIO for r in ratios.values()) if ratios else None
    return out


def render(result: dict) -> str:
    rows = []
    for name, s in result["sets"].items():
        for mode, m in s["modes"].items():
            rows.append(
                [
                    name,
                    mode,
                    m["questions"],
                    "n/a" if m["key_fact_recall"] is None else m["key_fact_recall"],
                    "n/a" if m.get("key_fact_recall_new") is None else m["key_fact_recall_new"],
                    "n/a" if m["unsupported_rate"] is None else m["unsupported_rate"],
                    "n/a" if m["citation_precision"] is None else m["citation_precision"],
                    m["ms_p50"],
                    m["ms_p95"],
                    m["fallback_rate"],
                    m["replaced_rate"],
                ]
            )
    out = table(
        [
            "set",
            "mode",
            "n",
            "key-fact recall",
            "recall, facts not in the question",
            "unsupported-claim rate",
            "citation precision",
            "ms p50",
            "ms p95",
            "fallback",
            "replaced by guard",
        ],
        rows,
    )
    neg = result.get("negation_check")
    if neg:
        out += (
            f"\n\nnegation check on Contoso: flags {neg['flagged_negated']}/{neg['synthetic_negated_sentences']} "
            f"negated passage sentences and {neg['flagged_true']}/{neg['synthetic_true_sentences']} true ones "
            f"(synthetic precision {neg['precision_synthetic']}); "
            f"{len(neg['flagged_in_generative_answers'])} flags in the bundled model's answers (listed in the JSON)"
        )
    out += f"\n\ntargets: {json.dumps(result['targets'])}"
    return out


def rescore(path: Path) -> dict:
    """The metrics again from a results file's stored answers (the model is not run again):
    for a change in how answers are scored, not in how they are made."""
    result = json.loads(path.read_text(encoding="utf-8"))
    for s in result["sets"].values():
        for r in s["answers"]:
            for mode in s["modes"]:
                rec = r[mode]
                text = "" if rec["fallback"] else rec["text"]
                rec["recall"] = fact_recall(r["reference"], text) if r["reference"] else None
                rec["recall_new"] = fact_recall(r["reference"], text, r["question"]) if r["reference"] else None
        s["modes"] = {m: summarize([r[m] for r in s["answers"]]) for m in s["modes"]}
    result["targets"] = targets(result)
    return result


def main() -> None:
    def extra(parser) -> None:
        parser.add_argument("--no-generative", action="store_true", help="extractive only (no model runs)")
        parser.add_argument("--rescore", metavar="JSON", help="recompute the metrics of a results file")
        # service-public's 137 long pages take most of an hour to embed with e5 on 2 busy
        # cores, for 2 reference answers: iterating on the extractive answers can skip it.
        parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, among {', '.join(SETS)}")

    args = arguments(__doc__.split("\n\n")[0], extra)
    started = time.perf_counter()
    if args.rescore:
        result = rescore(Path(args.rescore))
        print(render(result))
        return
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    if unknown := [s for s in sets if s not in SETS]:
        raise SystemExit(f"unknown set {', '.join(unknown)}: choose among {', '.join(SETS)}")
    result = run(data_dir(args.data), args.quick, generative=not args.no_generative, sets=sets)
    print(render(result))
    path = write_json(
        "answer_correctness", {"quick": args.quick, "minutes": (time.perf_counter() - started) / 60, **result}
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
