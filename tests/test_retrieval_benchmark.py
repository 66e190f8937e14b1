"""The retrieval benchmark's own bookkeeping: the shared embedding cache, and how fusions are
tuned leave-one-set-out. Wrong here, the benchmark re-embeds for hours or reports a
leave-one-set-out number that one source's many versions decided."""

from __future__ import annotations

import numpy as np

from benchmarks.embedding_cache import CachedEmbedder
from benchmarks.retrieval import leave_one_out


class CountingEmbedder:
    """A stand-in model: one fixed vector per text, and a count of what it was asked."""

    name, dim = "counting", 3

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += texts
        return np.stack([np.full(self.dim, float(len(t)), np.float32) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        self.embedded.append(text)
        return np.full(self.dim, float(len(text)), np.float32)


def test_runs_side_by_side_keep_each_others_vectors(tmp_path):
    # Two runs open the cache before either saves (two benchmark processes, or two worktrees).
    first, second = CachedEmbedder(CountingEmbedder(), tmp_path), CachedEmbedder(CountingEmbedder(), tmp_path)
    first.embed_passages(["a passage only the first run embedded"])
    first.save()
    second.embed_passages(["another, from the second run"])
    second.save()  # the last writer

    model = CountingEmbedder()
    later = CachedEmbedder(model, tmp_path)
    later.embed_passages(["a passage only the first run embedded", "another, from the second run"])
    assert model.embedded == []


def _results(grids: dict[str, dict[str, float]]) -> dict:
    return {name: {"grid": {"recall@5": grid, "mrr@10": grid}} for name, grid in grids.items()}


def test_leave_one_set_out_counts_each_source_once():
    # Contoso clearly prefers w=0.2; the three versions of COVID EN (one source) mildly
    # prefer the shipped w=0.5. Summed set by set, COVID's three copies would outvote Contoso.
    covid = {"z w=0.2": 0.4, "z w=0.5": 0.8}
    results = _results(
        {
            "contoso_northwind_en": {"z w=0.2": 1.0, "z w=0.5": 0.0},
            "covid_faq_en": covid,
            "covid_faq_en_md": covid,
            "covid_faq_en_md_e5": covid,
            "service_public_fr": {"z w=0.2": 0.5, "z w=0.5": 0.5},
        }
    )
    loso = leave_one_out(results)
    assert loso["service_public_fr"]["left_out_tuned"] == "z w=0.2"
    # A COVID set is never tuned on its siblings: only Contoso and service-public count.
    assert loso["covid_faq_en_md"]["left_out_tuned"] == "z w=0.2"
    assert loso["covid_faq_en_md"]["left_out_recall@5"] == 0.4
