"""Knowledge-gap clustering: how well topics match labelled intents, and how long 10,000
questions take.

    python -m benchmarks.gaps [--data PATH] [--quick] [--thresholds 0.5,0.6,0.7]

English: CLINC150's in-scope test questions (4,500 questions, 150 intents), as if sent to a
bot that knows none of them. French: service-public.fr questions grouped by the page that
answers them (61 questions, 15 pages; a page covers several questions, so this is a loose
check). Measured with the default embedder of each language (MiniLM, e5-small) and compared,
in the same run, with two baselines: grouping identical normalised text, and k-means told the
true number of intents (which a real gap report never knows).

Purity: the share of questions whose topic's majority intent is their own (1.0 with one topic
per question). Recall: the share of questions that sit in their intent's largest topic (1.0
with one topic for everything). Both together, plus ARI and NMI, say whether paraphrases are
grouped and unrelated questions kept apart."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks.embedding_cache import CachedEmbedder
from benchmarks.eval_sets import data_dir
from benchmarks.report import RESULTS, arguments, table, write_json
from knowledge import gaps
from knowledge.embedding import E5_SMALL, MINILM, EmbedderCache

TIMED_N = 10_000


class Cached:
    """The embedders, with vectors kept on disk between runs (results/embedding_cache): the
    clustering is what is tuned here; the time to embed is measured on the first run."""

    def __init__(self, cache: EmbedderCache):
        self._cache = cache
        self._wrapped: dict[str, CachedEmbedder] = {}

    def get(self, model: str) -> CachedEmbedder:
        if model not in self._wrapped:
            self._wrapped[model] = CachedEmbedder(self._cache.get(model), RESULTS / "embedding_cache")
        return self._wrapped[model]

    def save(self) -> None:
        for embedder in self._wrapped.values():
            embedder.save()


def load_clinc(data: Path) -> tuple[list[str], list[str]]:
    path = data / "out_of_scope" / "clinc150_inscope_test_en.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows], [r["intent"] for r in rows]


def load_service_public(data: Path) -> tuple[list[str], list[str]]:
    path = data / "service_public_fr" / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("answer_doc_ids")]
    return [r["question"] for r in rows], [r["answer_doc_ids"][0] for r in rows]


def scores(groups: list[list[int]], truth: list[str]) -> dict:
    n = len(truth)
    pred = np.empty(n, dtype=np.int64)
    for g, members in enumerate(groups):
        pred[members] = g
    majority = sum(Counter(truth[i] for i in members).most_common(1)[0][1] for members in groups)
    by_intent: dict[str, Counter] = {}
    for i, intent in enumerate(truth):
        by_intent.setdefault(intent, Counter())[int(pred[i])] += 1
    largest = sum(c.most_common(1)[0][1] for c in by_intent.values())
    return {
        "topics": len(groups),
        "purity": majority / n,
        "recall": largest / n,
        "ari": float(adjusted_rand_score(truth, pred)),
        "nmi": float(normalized_mutual_info_score(truth, pred)),
    }


def exact_text_groups(texts: list[str]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(" ".join(gaps.words(text)), []).append(i)
    return list(groups.values())


def kmeans_groups(vectors: np.ndarray, k: int) -> list[list[int]]:
    labels = KMeans(n_clusters=k, n_init=1, random_state=0).fit_predict(vectors)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return list(groups.values())


def evaluate(name: str, model: str, texts: list[str], truth: list[str], thresholds: list[float], cache) -> dict:
    embedder = cache.get(model)
    print(f"{name}: embedding {len(texts)} questions with {model}...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    vectors = embedder.embed_passages(texts)
    embed_s = time.perf_counter() - started
    rows = []
    print(f"{name}: embedded in {embed_s:.1f} s; clustering", file=sys.stderr, flush=True)
    for threshold in thresholds:
        started = time.perf_counter()
        groups = gaps.cluster(vectors, threshold)
        rows.append({"method": f"gaps.cluster @ {threshold:.2f}", "threshold": threshold, **scores(groups, truth)})
        rows[-1]["seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    rows.append({"method": "exact normalised text", **scores(exact_text_groups(texts), truth)})
    rows[-1]["seconds"] = time.perf_counter() - started
    k = len(set(truth))
    started = time.perf_counter()
    rows.append({"method": f"k-means, true k={k}", **scores(kmeans_groups(vectors, k), truth)})
    rows[-1]["seconds"] = time.perf_counter() - started
    return {
        "set": name,
        "model": model,
        "questions": len(texts),
        "labels": k,
        "embed_seconds": embed_s,
        "embed_per_second": len(texts) / embed_s if embed_s else None,
        "rows": rows,
        "vectors": vectors,
    }


def timed_at_10k(vectors: np.ndarray, threshold: float, texts: list[str]) -> dict:
    """The clustering and labelling time at 10,000 questions: the set repeated with a little
    noise on each copy's vectors (re-embedding 10,000 perturbed texts would time the embedder,
    which is measured apart, per question)."""
    rng = np.random.default_rng(0)
    reps = -(-TIMED_N // len(vectors))
    big = np.vstack([vectors + rng.normal(0, 0.01, vectors.shape).astype(np.float32) for _ in range(reps)])[:TIMED_N]
    big /= np.linalg.norm(big, axis=1, keepdims=True)
    big_texts = (texts * reps)[:TIMED_N]
    started = time.perf_counter()
    groups = gaps.cluster(big, threshold)
    cluster_s = time.perf_counter() - started
    started = time.perf_counter()
    gaps.label_topics(big_texts, groups)
    label_s = time.perf_counter() - started
    return {"questions": TIMED_N, "topics": len(groups), "cluster_seconds": cluster_s, "label_seconds": label_s}


def run(data: Path, quick: bool, thresholds: list[float] | None = None) -> dict:
    cache = Cached(EmbedderCache())
    texts, truth = load_clinc(data)
    if quick:
        keep = [i for i, intent in enumerate(truth) if hash(intent) % 3 == 0][:1500]
        texts, truth = [texts[i] for i in keep], [truth[i] for i in keep]
    en = evaluate("clinc150 (en)", MINILM, texts, truth, thresholds or [0.45, 0.5, 0.55, 0.6, 0.65], cache)
    en_default = gaps.threshold_for(MINILM)
    timing = timed_at_10k(en.pop("vectors"), en_default, texts)
    fr_texts, fr_truth = load_service_public(data)
    fr = evaluate("service-public (fr)", E5_SMALL, fr_texts, fr_truth, [0.88, 0.9, 0.92, 0.93, 0.94, 0.95], cache)
    fr.pop("vectors")
    # Labels of the largest English topics, to read (they should be the intents' words).
    vectors = cache.get(MINILM).embed_passages(texts[:600])
    groups = gaps.cluster(vectors, en_default)
    labels = gaps.label_topics(texts[:600], groups)
    examples = [
        {"label": label, "count": len(g), "intents": Counter(truth[i] for i in g).most_common(2)}
        for label, g in list(zip(labels, groups, strict=True))[:8]
    ]
    cache.save()
    return {"sets": [en, fr], "timing_10k": timing, "label_examples": examples, "default_en": en_default}


def ratios(result: dict) -> list[list]:
    out = []
    for s in result["sets"]:
        default = gaps.threshold_for(s["model"])
        ours = min(s["rows"][:-2], key=lambda r: abs(r.get("threshold", 0) - default))
        for base in s["rows"][-2:]:
            out.append(
                [
                    s["set"],
                    f"{ours['method']} / {base['method']}",
                    # A baseline at or below chance (ARI <= 0) has no meaningful ratio.
                    ours["ari"] / base["ari"] if base["ari"] > 0 else "n/a (baseline ARI <= 0)",
                    ours["nmi"] / base["nmi"] if base["nmi"] > 0 else "n/a",
                ]
            )
    return out


def render(result: dict) -> str:
    parts = []
    for s in result["sets"]:
        rows = [
            [r["method"], r["topics"], r["purity"], r["recall"], r["ari"], r["nmi"], r["seconds"]] for r in s["rows"]
        ]
        parts.append(
            f"**{s['set']}** — {s['questions']} questions, {s['labels']} labels, {s['model']} "
            + (
                " (vectors from results/embedding_cache)"
                if s["embed_seconds"] < 1
                else f" ({s['embed_per_second']:.0f} questions/s to embed)"
            )
            + "\n\n"
            + table(["method", "topics", "purity", "recall", "ARI", "NMI", "seconds"], rows)
        )
    parts.append("Ratios, default threshold vs baselines:\n\n" + table(["set", "ratio", "ARI", "NMI"], ratios(result)))
    t = result["timing_10k"]
    parts.append(
        f"10,000 questions: clustered in {t['cluster_seconds']:.2f} s ({t['topics']} topics), "
        f"labelled in {t['label_seconds']:.2f} s (embedding not included; see questions/s above)."
    )
    parts.append(
        "Largest topics of 600 CLINC questions:\n\n"
        + table(
            ["label", "count", "intents"],
            [
                [e["label"], e["count"], ", ".join(f"{i} ({n})" for i, n in e["intents"])]
                for e in result["label_examples"]
            ],
        )
    )
    return "\n\n".join(parts)


def main() -> None:
    def extra(parser) -> None:
        parser.add_argument("--thresholds", help="comma-separated English thresholds to sweep")

    args = arguments(__doc__.split("\n\n")[0], extra)
    data = data_dir(args.data)
    thresholds = [float(x) for x in args.thresholds.split(",")] if args.thresholds else None
    result = run(data, args.quick, thresholds)
    write_json("gaps", {"quick": args.quick, **result})
    print(render(result))


if __name__ == "__main__":
    main()
