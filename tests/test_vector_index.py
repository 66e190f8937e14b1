"""The Chroma wrapper, on a real embedded Chroma."""

import numpy as np
import pytest

from knowledge.vector_index import VectorIndex


def test_hundreds_of_identical_vectors_leave_every_other_vector_reachable(tmp_path):
    # Unnudged, Chroma's HNSW graph strands passages behind a cluster of exact duplicates:
    # asked for every vector, it left some of the 20 others out in most trials.
    rng = np.random.default_rng(7)
    copy = rng.normal(size=384)
    others = rng.normal(size=(20, 384))
    vectors = np.vstack([np.repeat(copy[None], 200, axis=0), others]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # as embedders return them
    ids = [f"copy{i}" for i in range(200)] + [f"other{i}" for i in range(20)]
    index = VectorIndex.open(path=tmp_path / "chroma")
    for trial in range(3):
        index.add(f"kb-{trial}", ids, vectors)
        matches = index.query(f"kb-{trial}", copy, n=len(ids))
        found = {m.chunk_id for m in matches}
        assert set(ids[200:]) <= found and matches[0].chunk_id.startswith("copy")
        assert matches[0].similarity > 0.999  # a nudge, not a change of meaning


def test_a_chroma_url_without_a_host_is_refused():
    # chromadb would take host=None and quietly try localhost instead of the server meant.
    with pytest.raises(ValueError, match="has no host"):
        VectorIndex.open(url="http://:8000")
