"""A bot's knowledge: its documents' chunks in SQL, their vectors in Chroma, and the search
snapshot built from both. Ingesting, replacing and deleting documents keep the three in step."""

from __future__ import annotations

import gc
import hashlib
import itertools
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bots.core.errors import SearchUnavailable
from bots.core.status import DocumentStatus
from bots.store import tables as t
from bots.uploads import remove
from knowledge.chunking import chunk_document
from knowledge.documents import Hit, LoadedDocument
from knowledge.embedding import EmbedderCache
from knowledge.retrieval import Corpus, Passage, question_vector_id, search, vector_ids
from knowledge.vector_index import VectorIndex, VectorStoreUnavailable

EMBED_BATCH = 32
# How long removing old vectors waits for searches still using them; searches take
# milliseconds, so this only bounds the wait on a stuck one.
SEARCH_GRACE_S = 30.0

Loader = Callable[[Path, str], LoadedDocument]
Progress = Callable[[int, int], None]  # (chunks embedded, chunks in total)


class DocumentGone(LookupError):
    """The document was deleted after its ingestion was queued."""


def collection_name(bot_id: str, model: str, epoch: str | None = None) -> str:
    slug = hashlib.sha1(model.encode()).hexdigest()[:8]
    return f"{bot_id}-{slug}" + (f"-{epoch}" if epoch else "")


class KnowledgeBase:
    def __init__(
        self, sessions: sessionmaker, vectors: VectorIndex, embedders: EmbedderCache, loader: Loader, uploads_dir: Path
    ):
        self._sessions = sessions
        self._vectors = vectors
        self._embedders = embedders
        self._load = loader
        self._uploads = uploads_dir
        self._snapshots: dict[str, tuple[tuple, Corpus]] = {}
        self._snapshot_lock = threading.Lock()
        # Searches in flight: ticket -> bot id. Tickets grow, so "began before X" is "< X".
        self._searching: dict[int, str] = {}
        self._tickets = itertools.count()
        self._search_ended = threading.Condition()

    # --- searching -------------------------------------------------------------------
    def search(self, bot_id: str, query: str, k: int = 5) -> list[Hit]:
        with self._search_ended:
            ticket = next(self._tickets)
            self._searching[ticket] = bot_id
        try:
            key, corpus = self._corpus(bot_id)
            _, model, collection = key
            return search(
                query,
                corpus=corpus,
                embedder=self._embedders.get(model),
                vectors=self._vectors,
                collection=collection,
                k=k,
            )
        except VectorStoreUnavailable as error:  # an outage, not a bug: 503 and Retry-After
            raise SearchUnavailable(str(error)) from error
        finally:
            with self._search_ended:
                del self._searching[ticket]
                self._search_ended.notify_all()

    def _wait_for_older_searches(self, bot_id: str) -> None:
        """Call after a change is committed, before deleting the vectors it replaced: a search
        that began earlier may hold the old snapshot and still look those vectors up (without
        them its hits would lose their dense half, or a dropped collection would come back
        empty). Searches that begin later read the new state."""
        with self._search_ended:
            barrier = next(self._tickets)
            self._search_ended.wait_for(
                lambda: not any(b == bot_id and ticket < barrier for ticket, b in self._searching.items()),
                timeout=SEARCH_GRACE_S,
            )

    def _corpus(self, bot_id: str) -> tuple[tuple, Corpus]:
        with self._sessions() as s:
            bot = s.get(t.Bot, bot_id)
            if bot is None:
                raise LookupError(bot_id)
            key = (bot.knowledge_generation, bot.embedding_model, bot.vector_collection)
            cached = self._snapshots.get(bot_id)
            if cached and cached[0] == key:
                return cached
            # Only each document's active version is searchable: a half-written new version
            # (or one left by a crash) is invisible until its document flips to it.
            rows = s.execute(
                select(t.Chunk, t.Document.source)
                .join(t.Document, t.Chunk.document_id == t.Document.id)
                .where(t.Chunk.bot_id == bot_id, t.Chunk.version == t.Document.active_version)
                .order_by(t.Chunk.document_id, t.Chunk.ordinal)
            ).all()
        passages = [
            Passage(
                chunk_id=c.id,
                text=c.text,
                search_text=c.search_text,
                source=source,
                page=c.page,
                document_id=c.document_id,
                headings=list(c.headings or []),
            )
            for c, source in rows
        ]
        with self._snapshot_lock:
            snapshot = (key, Corpus(passages))
            self._snapshots[bot_id] = snapshot
        # A snapshot is hundreds of thousands of long-lived objects; left in the collector's
        # generations, every full collection rescans them and stalls a search for up to
        # ~0.7 s (benchmarks/answering_latency.py). Frozen objects are still freed by
        # reference counting when the snapshot is replaced.
        gc.freeze()
        return snapshot

    def forget(self, bot_id: str) -> None:
        self._snapshots.pop(bot_id, None)

    # --- ingesting -------------------------------------------------------------------
    def stored_path(self, doc: t.Document) -> Path:
        return self._uploads / doc.bot_id / doc.stored_name

    def ingest(
        self,
        doc_id: str,
        progress: Progress = lambda done, total: None,
        loaded: LoadedDocument | None = None,
        title: str | None = None,
        stage: Callable[[str], None] = lambda name: None,
        fence: Callable[[Session], None] = lambda session: None,
    ) -> None:
        """Load, chunk, embed and index one document as a new version, then make that version
        the searchable one in a single transaction. Raises LoadError for bad files. A web
        crawl passes the page it already `loaded` (it read the text to compare hashes) and the
        page's `title`: its source is an address, whose "file name" means nothing.
        `stage` is told each step as it starts: reading, chunking, embedding, indexing.
        `fence` runs first in the transaction that makes the version searchable and raises if
        the caller may no longer publish it (its lease was taken over: bots/leases.py)."""
        with self._sessions.begin() as s:
            # The version number is taken, not computed from the active one: an attempt cut
            # off (or taken over while it still runs) must not share chunk or vector ids with
            # the attempt that follows, or one's clean-up would delete the other's vectors.
            s.execute(
                update(t.Document).where(t.Document.id == doc_id).values(last_version=t.Document.last_version + 1)
            )
            doc = s.get(t.Document, doc_id)
            if doc is None:
                raise DocumentGone(doc_id)
            bot = s.get(t.Bot, doc.bot_id)
            new_version, active_version = doc.last_version, doc.active_version
            path, source = self.stored_path(doc), doc.source
            model, collection, bot_id = bot.embedding_model, bot.vector_collection, bot.id
        self._drop_versions_above(doc_id, active_version, collection)

        stage("reading")
        if loaded is None:
            loaded = self._load(path, source)
        stage("chunking")
        chunks = chunk_document(loaded, title=title or Path(source).stem.replace("_", " "))
        ids = [f"{doc_id}-v{new_version}-{c.ordinal}" for c in chunks]
        embedder = self._embedders.get(model)
        stage("embedding")
        progress(0, len(chunks))
        added: list[str] = []
        try:
            for start in range(0, len(chunks), EMBED_BATCH):
                batch = chunks[start : start + EMBED_BATCH]
                batch_ids = _embed_into(
                    self._vectors,
                    collection,
                    embedder,
                    ids[start : start + EMBED_BATCH],
                    [c.search_text for c in batch],
                    [c.question for c in batch],
                )
                added += batch_ids
                progress(start + len(batch), len(chunks))

            stage("indexing")
            with self._sessions.begin() as s:
                fence(s)
                s.add_all(
                    t.Chunk(
                        id=cid,
                        document_id=doc_id,
                        bot_id=bot_id,
                        version=new_version,
                        ordinal=c.ordinal,
                        text=c.text,
                        search_text=c.search_text,
                        page=c.page,
                        headings=c.headings,
                        question=c.question,
                    )
                    for cid, c in zip(ids, chunks)
                )
                s.execute(
                    update(t.Document)
                    .where(t.Document.id == doc_id)
                    .values(
                        active_version=new_version,
                        status=DocumentStatus.READY,
                        error=None,
                        error_code=None,
                        pages=loaded.pages,
                        chunk_count=len(chunks),
                    )
                )
                _bump_generation(s, bot_id)
        except Exception:
            # The new version never became searchable; its vectors must not outlive it (e.g.
            # when the document was deleted while it was being embedded).
            self._vectors.delete(collection, added)
            raise
        self._wait_for_older_searches(bot_id)
        self._drop_versions_below(doc_id, new_version, collection)

    def discard_unfinished(self, doc_id: str) -> None:
        """Delete the vectors of versions whose ingest a crash (or a lost lease) cut off: they
        are in Chroma but not in SQL, so nothing else would ever find them (e.g. if the
        document is then deleted, or re-uploaded with fewer chunks). Every version above the
        active one is unfinished: a version becomes active in the transaction that ends it."""
        with self._sessions() as s:
            doc = s.get(t.Document, doc_id)
            if doc is None:
                return
            active = doc.active_version
            collection = s.get(t.Bot, doc.bot_id).vector_collection
        self._vectors.delete(
            collection, [i for i in self._vectors.ids(collection) if (_version_of(i, doc_id) or 0) > active]
        )

    def delete_document(self, doc_id: str) -> None:
        with self._sessions.begin() as s:
            doc = s.get(t.Document, doc_id)
            if doc is None:
                return
            bot = s.get(t.Bot, doc.bot_id)
            ids = _vector_ids(s, t.Chunk.document_id == doc_id)
            path = self.stored_path(doc)
            s.delete(doc)
            _bump_generation(s, bot.id)
            collection = bot.vector_collection
        self._wait_for_older_searches(doc.bot_id)
        self._vectors.delete(collection, ids)
        path.unlink(missing_ok=True)

    def delete_bot(self, bot_id: str, collection: str) -> None:
        """After the bot's rows are gone: its vectors and its uploaded files go too."""
        self._wait_for_older_searches(bot_id)
        self._vectors.drop(collection)
        remove(self._uploads / bot_id)
        self.forget(bot_id)

    def reindex(
        self,
        bot_id: str,
        model: str,
        progress: Progress = lambda done, total: None,
        fence: Callable[[Session], None] = lambda session: None,
    ) -> None:
        """Re-embed every searchable chunk from SQL into a fresh collection, then switch to it:
        searches keep using the old one until the new one is complete. `fence` runs first in
        the switching transaction, as in `ingest`: a caller that lost its lease switches
        nothing (and drops nothing: the process that took over builds the same collection)."""
        with self._sessions() as s:
            bot = s.get(t.Bot, bot_id)
            old_collection = bot.vector_collection
            rows = s.execute(
                select(t.Chunk.id, t.Chunk.search_text, t.Chunk.question)
                .join(t.Document, t.Chunk.document_id == t.Document.id)
                .where(t.Chunk.bot_id == bot_id, t.Chunk.version == t.Document.active_version)
            ).all()
        new_collection = collection_name(
            bot_id, model, epoch=hashlib.sha1(f"{old_collection}{len(rows)}{model}".encode()).hexdigest()[:6]
        )
        if new_collection == old_collection:
            new_collection += "x"
        embedder = self._embedders.get(model)
        self._vectors.drop(new_collection)
        progress(0, len(rows))
        for start in range(0, len(rows), EMBED_BATCH):
            batch = rows[start : start + EMBED_BATCH]
            _embed_into(
                self._vectors,
                new_collection,
                embedder,
                [r.id for r in batch],
                [r.search_text for r in batch],
                [r.question for r in batch],
            )
            progress(start + len(batch), len(rows))
        with self._sessions.begin() as s:
            fence(s)
            switched = s.execute(
                update(t.Bot).where(t.Bot.id == bot_id).values(vector_collection=new_collection, embedding_model=model)
            ).rowcount
            _bump_generation(s, bot_id)
        if not switched:  # the bot was deleted meanwhile
            self._vectors.drop(new_collection)
            return
        # Documents deleted while this ran were deleted from the old collection only.
        with self._sessions() as s:
            live = set(_vector_ids(s, t.Chunk.bot_id == bot_id))
        self._vectors.delete(new_collection, sorted(self._vectors.ids(new_collection) - live))
        self._wait_for_older_searches(bot_id)
        self._vectors.drop(old_collection)

    def _drop_versions_above(self, doc_id: str, version: int, collection: str) -> None:
        self._drop_chunks(t.Chunk.version > version, doc_id, collection)

    def _drop_versions_below(self, doc_id: str, version: int, collection: str) -> None:
        self._drop_chunks(t.Chunk.version < version, doc_id, collection)

    def _drop_chunks(self, condition, doc_id: str, collection: str) -> None:
        with self._sessions.begin() as s:
            ids = _vector_ids(s, t.Chunk.document_id == doc_id, condition)
            s.execute(delete(t.Chunk).where(t.Chunk.document_id == doc_id, condition))
        # Vectors a crash left without SQL rows are never searched (snapshots hold SQL ids
        # only), and a resumed ingest overwrites them: their ids are deterministic.
        self._vectors.delete(collection, ids)


def _embed_into(
    vectors: VectorIndex, collection: str, embedder, ids: list[str], texts: list[str], questions: list[str | None]
) -> list[str]:
    """Embed and store a batch of chunks, plus the questions of those that have one; returns
    the vector ids written."""
    asked = [(question_vector_id(cid), q) for cid, q in zip(ids, questions) if q]
    all_ids = ids + [vid for vid, _ in asked]
    vectors.add(collection, all_ids, embedder.embed_passages(texts + [q for _, q in asked]))
    return all_ids


def _vector_ids(session, *conditions) -> list[str]:
    rows = session.execute(select(t.Chunk.id, t.Chunk.question).where(*conditions)).all()
    return [vid for cid, question in rows for vid in vector_ids(cid, bool(question))]


def _version_of(vector_id: str, doc_id: str) -> int | None:
    """The version in a vector id of the document ("<doc>-v<version>-<ordinal>[#q]"), or None."""
    prefix = f"{doc_id}-v"
    if not vector_id.startswith(prefix):
        return None
    version = vector_id[len(prefix) :].split("-", 1)[0]
    return int(version) if version.isdigit() else None


def _bump_generation(session, bot_id: str) -> None:
    session.execute(update(t.Bot).where(t.Bot.id == bot_id).values(knowledge_generation=t.Bot.knowledge_generation + 1))
