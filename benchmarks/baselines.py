"""What Prompteur is compared with: the tutorial recipe (LangChain's recursive splitter at
1000/200, the same embedding model, Chroma similarity) and BM25 alone over the same chunks.
Both read the files through our loaders and search the same text (link addresses left out,
as `knowledge.chunking.searchable` does), so differences come from chunking and retrieval."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from knowledge.chunking import searchable
from knowledge.embedding import Embedder
from knowledge.loaders.text import decode_text
from knowledge.loading import load
from knowledge.vector_index import VectorIndex


@dataclass
class NaiveChunk:
    source: str
    page: int | None
    text: str


def naive_chunks(files: list[Path]) -> list[NaiveChunk]:
    """One LangChain-style document per PDF page (PyPDFLoader), per CSV row (CSVLoader) or
    per file (TextLoader and friends), each split by RecursiveCharacterTextSplitter(1000, 200).
    Markdown and text files are read as they are, as TextLoader does: the recipe sees a
    page's `# heading` line too (our loader turns headings into structure, not text)."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks: list[NaiveChunk] = []
    for path in files:
        loaded = load(path, path.name)
        if path.suffix == ".pdf":
            pages: dict[int | None, list[str]] = {}
            for s in loaded.sections:
                pages.setdefault(s.page, []).append(s.text)
            docs = [(page, "\n".join(texts)) for page, texts in pages.items()]
        elif path.suffix == ".csv":
            docs = [(None, s.text) for s in loaded.sections]
        elif path.suffix in (".md", ".txt"):
            docs = [(None, decode_text(path.read_bytes(), path.name))]
        else:
            docs = [(None, "\n\n".join(s.text for s in loaded.sections))]
        for page, text in docs:
            chunks.extend(NaiveChunk(path.name, page, piece) for piece in splitter.split_text(text))
    return chunks


class NaiveRetriever:
    def __init__(self, chunks: list[NaiveChunk], embedder: Embedder, vectors: VectorIndex, collection: str):
        self.chunks, self._embedder = chunks, embedder
        self._vectors, self._collection = vectors, collection
        batch = 64
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            # The recipe stores vectors as they are (LangChain's Chroma.from_documents).
            vectors.add(
                collection,
                [str(start + i) for i in range(len(part))],
                embedder.embed_passages([searchable(c.text) for c in part]),
                nudge=False,
            )

    def search(self, query: str, k: int) -> list[NaiveChunk]:
        matches = self._vectors.query(self._collection, self._embedder.embed_query(query), k)
        return [self.chunks[int(m.chunk_id)] for m in matches]


class BM25Retriever:
    """bm25s as its README shows it: its own tokenizer with the language's stop words."""

    def __init__(self, chunks: list[NaiveChunk], language: str):
        self.chunks = chunks
        self._stopwords = language
        self._bm25 = bm25s.BM25()
        self._bm25.index(
            bm25s.tokenize([searchable(c.text) for c in chunks], stopwords=language, show_progress=False),
            show_progress=False,
        )

    def search(self, query: str, k: int) -> list[NaiveChunk]:
        tokens = bm25s.tokenize([query], stopwords=self._stopwords, show_progress=False, return_ids=False)
        vocab = self._bm25.vocab_dict
        known = [t for t in tokens[0] if t in vocab]
        if not known:
            return []
        scores = self._bm25.get_scores(known)
        top = np.argsort(-scores)[:k]
        return [self.chunks[i] for i in top if scores[i] > 0]
