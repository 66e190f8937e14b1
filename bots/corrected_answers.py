"""Corrected answers: stored per bot, frozen with each published version, and matched against
customers' questions with the bot's own embedding model (`Matcher`). What a match means for
the answer is decided in `bots.core.corrections`.

The draft answers with the live list; a published version with the snapshot it was published
with (`BotVersion.corrected_answers`). Vectors are cached per (model, text): an edited
question or paraphrase is a new text, so it is embedded again and the old vector is unused."""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from bots.core.corrections import Match
from bots.core.distinguishing_terms import difference
from bots.core.errors import DomainError
from bots.core.spec import CorrectionSettings
from bots.store import tables as t
from bots.store.corrected_answers import for_version, record_hit
from knowledge.documents import Hit
from knowledge.embedding import EmbedderCache

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_ANSWER_CHARS = 8000
MAX_PARAPHRASES = 50
MAX_SOURCES = 10
VECTOR_CACHE_SIZE = 50_000
# How many of the knowledge's top passages are read for FAQ questions that could be siblings
# of a corrected answer about to be given (`Matcher.matches`): the look-alike that matters
# is the customer's own question's entry, which retrieval ranks first or near it.
LOOK_ALIKE_PASSAGES = 5
MAX_EXPORT = 100_000
CSV_COLUMNS = ["id", "question", "paraphrases", "answer", "sources", "enabled", "hit_count", "last_used_at"]


class CorrectedAnswerNotFound(DomainError):
    code = "corrected_answer_not_found"  # values: id


class InvalidCorrectedAnswer(DomainError):
    code = "invalid_corrected_answer"  # values: problem


def _problem(problem: str) -> InvalidCorrectedAnswer:
    return InvalidCorrectedAnswer(problem=problem)


def clean_fields(data: dict) -> dict:
    """The editable fields, checked and trimmed; raises InvalidCorrectedAnswer with what is
    wrong (nothing is stored then)."""
    out: dict = {}
    if "question" in data:
        question = str(data["question"] or "").strip()
        if not question:
            raise _problem("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise _problem(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        out["question"] = question
    if "answer" in data:
        answer = str(data["answer"] or "").strip()
        if not answer:
            raise _problem("the answer is empty")
        if len(answer) > MAX_ANSWER_CHARS:
            raise _problem(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
        out["answer"] = answer
    if "paraphrases" in data:
        paraphrases = [str(p).strip() for p in data["paraphrases"] or [] if str(p).strip()]
        if len(paraphrases) > MAX_PARAPHRASES:
            raise _problem(f"at most {MAX_PARAPHRASES} paraphrases")
        if any(len(p) > MAX_QUESTION_CHARS for p in paraphrases):
            raise _problem(f"a paraphrase is longer than {MAX_QUESTION_CHARS} characters")
        out["paraphrases"] = list(dict.fromkeys(paraphrases))
    if "sources" in data:
        out["sources"] = _sources(data["sources"] or [])
    if "enabled" in data:
        out["enabled"] = bool(data["enabled"])
    return out


def _sources(raw: list) -> list[dict]:
    sources = []
    for item in raw:
        if isinstance(item, str):
            item = {"source": item}
        if not isinstance(item, dict) or not str(item.get("source") or "").strip():
            raise _problem("each source needs a name: a file name or a page address")
        page = item.get("page")
        if page is not None and (not isinstance(page, int) or page < 1):
            raise _problem("a source's page is a whole number from 1")
        sources.append({"source": str(item["source"]).strip()[:300], "page": page})
    if len(sources) > MAX_SOURCES:
        raise _problem(f"at most {MAX_SOURCES} sources")
    return sources


def row_out(row: t.CorrectedAnswer) -> dict:
    return {
        "id": row.id,
        "question": row.question,
        "paraphrases": list(row.paraphrases or []),
        "answer": row.answer,
        "sources": list(row.sources or []),
        "enabled": row.enabled,
        "hit_count": row.hit_count,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "created_by": row.created_by,
        "updated_by": row.updated_by,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


# --- the store ---------------------------------------------------------------------------
def create(s: Session, bot_id: str, data: dict, actor: str = "admin") -> t.CorrectedAnswer:
    fields = clean_fields({"paraphrases": [], "sources": [], "enabled": True, **data})
    for required in ("question", "answer"):
        if required not in fields:
            raise _problem(f"a corrected answer needs a {required}")
    row = t.CorrectedAnswer(bot_id=bot_id, created_by=actor, updated_by=actor, hit_count=0, **fields)
    s.add(row)
    s.flush()
    return row


def get(s: Session, bot_id: str, answer_id: str) -> t.CorrectedAnswer:
    row = s.get(t.CorrectedAnswer, answer_id)
    # Another bot's id is the same answer as a missing one: nothing crosses bots.
    if row is None or row.bot_id != bot_id:
        raise CorrectedAnswerNotFound(id=answer_id)
    return row


def edit(s: Session, bot_id: str, answer_id: str, data: dict, actor: str = "admin") -> t.CorrectedAnswer:
    row = get(s, bot_id, answer_id)
    for name, value in clean_fields(data).items():
        setattr(row, name, value)
    row.updated_by = actor
    row.updated_at = t.now()
    s.flush()
    return row


def listed(s: Session, bot_id: str, search: str = "", limit: int = 200, offset: int = 0) -> list[t.CorrectedAnswer]:
    query = select(t.CorrectedAnswer).where(t.CorrectedAnswer.bot_id == bot_id)
    if search.strip():
        like = f"%{search.strip()}%"
        query = query.where(or_(t.CorrectedAnswer.question.ilike(like), t.CorrectedAnswer.answer.ilike(like)))
    query = query.order_by(t.CorrectedAnswer.created_at.desc()).limit(limit).offset(offset)
    return list(s.scalars(query))


def replace_all(s: Session, bot_id: str, items: list[dict], actor: str = "admin") -> int:
    """A bot import: the bot's corrected answers become `items` (checked first, all or none)."""
    checked = [clean_fields({"paraphrases": [], "sources": [], "enabled": True, **i}) for i in items]
    for fields in checked:
        if "question" not in fields or "answer" not in fields:
            raise _problem("each corrected answer needs a question and an answer")
    for row in s.scalars(select(t.CorrectedAnswer).where(t.CorrectedAnswer.bot_id == bot_id)):
        s.delete(row)
    for fields in checked:
        s.add(t.CorrectedAnswer(bot_id=bot_id, created_by=actor, updated_by=actor, hit_count=0, **fields))
    s.flush()
    return len(checked)


# --- CSV -----------------------------------------------------------------------------------
def to_csv(rows: list[t.CorrectedAnswer]) -> str:
    """Paraphrases one a line in their cell; sources as JSON (they carry pages)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        data = row_out(row)
        writer.writerow(
            {
                **{k: data[k] for k in CSV_COLUMNS},
                "paraphrases": "\n".join(data["paraphrases"]),
                "sources": json.dumps(data["sources"]) if data["sources"] else "",
                "enabled": "yes" if data["enabled"] else "no",
                "last_used_at": data["last_used_at"] or "",
            }
        )
    return out.getvalue()


def from_csv(text: str) -> list[dict]:
    """Rows to create or update (by id); raises InvalidCorrectedAnswer naming the bad line."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _rows(reader)
    except csv.Error as err:
        # Malformed CSV (a bare carriage return in an unquoted cell...) was a 500: found by the API fuzzer.
        raise _problem(f"line {reader.line_num}: the CSV is malformed ({err})") from err


def _rows(reader: csv.DictReader) -> list[dict]:
    if not reader.fieldnames or not {"question", "answer"} <= set(reader.fieldnames):
        raise _problem("the CSV needs a header with at least the columns question and answer")
    items = []
    for line, record in enumerate(reader, start=2):
        try:
            sources_cell = (record.get("sources") or "").strip()
            sources = (
                json.loads(sources_cell) if sources_cell.startswith("[") else [s for s in sources_cell.split(";") if s]
            )
            item = {
                "question": record.get("question") or "",
                "answer": record.get("answer") or "",
                "paraphrases": (record.get("paraphrases") or "").splitlines(),
                "sources": sources,
                "enabled": (record.get("enabled") or "yes").strip().lower() not in ("no", "false", "0"),
            }
            checked = clean_fields(item)
        except (InvalidCorrectedAnswer, json.JSONDecodeError) as err:
            detail = err.values.get("problem") if isinstance(err, InvalidCorrectedAnswer) else "sources is not JSON"
            raise _problem(f"line {line}: {detail}") from err
        if (record.get("id") or "").strip():
            checked["id"] = record["id"].strip()
        items.append(checked)
    return items


def import_csv(s: Session, bot_id: str, text: str, actor: str = "admin") -> dict:
    """Creates new rows, updates the rows whose id is this bot's; all or nothing."""
    items = from_csv(text)
    created = updated = 0
    for item in items:
        answer_id = item.pop("id", None)
        existing = s.get(t.CorrectedAnswer, answer_id) if answer_id else None
        if existing is not None and existing.bot_id == bot_id:
            edit(s, bot_id, existing.id, item, actor)
            updated += 1
        else:
            create(s, bot_id, item, actor)
            created += 1
    return {"created": created, "updated": updated}


# --- matching ------------------------------------------------------------------------------
class Matcher:
    """Scores a question against a bot version's corrected answers with the bot's embedding
    model. Only the bot's own list is ever read: `bot_id` selects it in SQL.

    With `search` (the knowledge base's) and the bot's `CorrectionSettings`, a question about
    to get a corrected answer word for word (its best cosine reaches the threshold, and the
    family rule is on) is also scored against the FAQ questions among the knowledge's top
    passages: those are `look_alike` matches, siblings `decide` weighs (issue #14). The
    search runs only then, so most questions pay nothing for it."""

    def __init__(
        self,
        sessions: sessionmaker,
        embedders: EmbedderCache,
        search: Callable[[str, str, int], list[Hit]] | None = None,
    ):
        self._sessions = sessions
        self._embedders = embedders
        self._search = search
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def matches(
        self, bot_id: str, version: int | None, question: str, settings: CorrectionSettings | None = None
    ) -> list[Match]:
        with self._sessions() as s:
            bot = s.get(t.Bot, bot_id)
            if bot is None:
                return []
            model = bot.embedding_model
            items = for_version(s, bot_id, version)
        if not items:
            return []  # no embedding at all for bots without corrected answers
        embedder = self._embedders.get(model)
        query = np.asarray(embedder.embed_query(question), dtype=np.float32)
        out = []
        for item in items:
            texts = [item["question"], *item.get("paraphrases", [])]
            vectors = self._vectors_for(model, texts)
            scores = vectors @ query
            best = int(np.argmax(scores))
            # Which text matched: the distinguishing-terms check compares the customer's
            # question with that one (a paraphrase may name what the question does not).
            out.append(
                Match(
                    item["id"],
                    item["question"],
                    item["answer"],
                    float(scores[best]),
                    list(item.get("sources") or []),
                    matched=texts[best],
                    paraphrases=tuple(texts[1:]),
                )
            )
        if settings is not None and (margin := settings.family_margin_for(model)) is not None:
            threshold = settings.threshold_for(model)
            top = max(out, key=lambda m: m.score)
            # A swap of specific terms refuses it anyway: no search to pay for.
            if top.score >= threshold and difference(question, top.matched or top.question) is None:
                out += self.look_alikes(bot_id, model, question, query, threshold - margin)
        return out

    def look_alikes(self, bot_id: str, model: str, question: str, query: np.ndarray, level: float) -> list[Match]:
        """The FAQ entries among the knowledge's top passages whose question scores `level`
        or more against the customer's (both embedded as queries, as corrected answers are).
        A failing search gives none: the check is a help, as matching is."""
        if self._search is None:
            return []
        try:
            hits = self._search(bot_id, question, LOOK_ALIKE_PASSAGES)
        except Exception:
            log.exception("the knowledge could not be searched for look-alike questions")
            return []
        if not hits:
            return []
        with self._sessions() as s:
            asked = dict(
                s.execute(
                    select(t.Chunk.id, t.Chunk.question).where(
                        t.Chunk.id.in_([h.chunk_id for h in hits]), t.Chunk.question.is_not(None)
                    )
                ).all()
            )
        entries = [(h, asked[h.chunk_id]) for h in hits if asked.get(h.chunk_id)]
        if not entries:
            return []
        scores = self._vectors_for(model, [q for _, q in entries]) @ query
        return [
            Match(
                f"knowledge:{hit.chunk_id}",
                text,
                hit.text,
                float(score),
                [{"source": hit.source, "page": hit.page}],
                look_alike=True,
            )
            for (hit, text), score in zip(entries, scores)
            if score >= level
        ]

    def _vectors_for(self, model: str, texts: list[str]) -> np.ndarray:
        with self._lock:
            found = {x: self._vectors[(model, x)] for x in texts if (model, x) in self._vectors}
        missing = [x for x in dict.fromkeys(texts) if x not in found]
        if missing:
            # Stored questions are embedded as queries: they are compared with questions.
            embedder = self._embedders.get(model)
            fresh = {x: np.asarray(embedder.embed_query(x), dtype=np.float32) for x in missing}
            found.update(fresh)
            with self._lock:
                for x, v in fresh.items():
                    self._vectors[(model, x)] = v
                while len(self._vectors) > VECTOR_CACHE_SIZE:
                    self._vectors.popitem(last=False)
        return np.stack([found[x] for x in texts])

    def record_hit(self, bot_id: str, answer_id: str) -> None:
        with self._sessions.begin() as s:
            record_hit(s, bot_id, answer_id)
