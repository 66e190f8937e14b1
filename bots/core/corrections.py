"""Corrected answers in the answer pipeline: pure decisions on matches someone else scored.

A corrected answer is a question (plus paraphrases) and the answer the support team approved,
per bot. `bots.corrected_answers` embeds them with the bot's embedding model and scores a
customer's question against each (best cosine over question and paraphrases); this module
decides what the scores mean:

- the best match at or above the bot's threshold is the answer, word for word, with its
  sources as citations, and no model is called — unless it is written in another language
  than the answer must be in (the persona's language rules win), or the customer's question
  and the text it matched name different specific terms (numbers, codes, names: see
  `bots.core.distinguishing_terms`; a close cosine does not see "du Tese" vs "du Cea"): then
  it is only a passage, which a generative model can translate and an extractive answer
  still quotes, and `Decision.refused` says why;
- a family: when another corrected answer that answers *differently* is itself (nearly) close
  enough to be given (a sibling: "sous traitement par lithium" next to "… par
  antipsychotiques"), the customer's question must also share the matched text's content
  words, not only its specific terms (a swap of content words refuses it): templated
  questions differ by one lower-case word that neither the cosine nor a capital letter tells
  apart (issue #14). A corrected answer with no sibling keeps the lenient check, so its
  paraphrases keep their hits; `Decision.refused["sibling"]` names the sibling;
- a sibling need not be another corrected answer: an FAQ entry of the bot's own knowledge
  whose question is as close (a `look_alike` match, never given itself) is one too. A bot
  often holds one member of a family as a corrected answer and the others only in its
  documents ("… pour les diffuseurs" corrected, "… pour les artistes-auteurs" an FAQ page):
  without the knowledge's questions the family is invisible (benchmarks/corrected_answers.py:
  French hard negatives wrongly answered 36% -> 0% when the knowledge holds the other member,
  English paraphrases unchanged). One nearer the question than the corrected answer refuses
  it outright; one within the margin makes the content-word check apply. The entry the
  corrected answer was written for (the same question) is no sibling;
- matches between the floor and the threshold become the top passages ("Q: …\\nA: …", the
  shape the extractive composer quotes an FAQ entry in), ahead of the documents' hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bots.core.answer_text import snippet
from bots.core.distinguishing_terms import difference
from bots.core.language import detect_language
from bots.core.spec import BotSpec
from knowledge.documents import Hit

# Chunk ids of corrected answers given as passages: never a document chunk's id.
CHUNK_PREFIX = "corrected:"
SOURCE_LABEL = "Corrected answer"


@dataclass(frozen=True)
class Match:
    """A corrected answer and how close the customer's question is to it (cosine, -1..1)."""

    id: str
    question: str
    answer: str
    score: float
    sources: list[dict] = field(default_factory=list)  # [{"source": str, "page": int | None}]
    # The text that scored `score`: the question or one of its paraphrases ("": the question).
    matched: str = ""
    # All its paraphrases: a look-alike of the knowledge asking one of them is the entry the
    # corrected answer was written for (adding the FAQ entry's own question as a paraphrase
    # is how a reviewer says "this corrects that entry").
    paraphrases: tuple[str, ...] = ()
    # An FAQ entry of the bot's knowledge, not a corrected answer: only ever a sibling (its
    # `answer` is the entry's passage), never given or made a passage here (retrieval may).
    look_alike: bool = False


@dataclass
class Decision:
    direct: Match | None  # answer with this, no model
    passages: list[Hit]  # else: put these first
    # A match close enough but not given word for word because the two questions name
    # different terms: {"id", "score", "asked": [...], "approved": [...], "why": sentence,
    # "sibling": {"id", "question", "score"} or None (the family that made the check strict)}.
    refused: dict | None = None


def decide(
    spec: BotSpec, matches: Sequence[Match], *, language: str, embedding_model: str | None, question: str
) -> Decision:
    settings = spec.corrections
    if not settings.enabled or not matches:
        return Decision(None, [])
    ranked = sorted(matches, key=lambda m: m.score, reverse=True)
    corrected = [m for m in ranked if not m.look_alike]
    if not corrected:
        return Decision(None, [])
    best = corrected[0]
    refused: dict | None = None
    family: Match | None = None
    threshold = settings.threshold_for(embedding_model)
    if best.score >= threshold and same_language(best.answer, language):
        matched = best.matched or best.question
        differs = difference(question, matched)
        margin = settings.family_margin_for(embedding_model)
        # The sibling is named only when it is what refused the match (a swap of specific
        # terms refuses it with or without one).
        closer = False
        if differs is None and margin is not None:
            family = sibling(best, ranked, threshold - margin)
            # An FAQ entry of the knowledge nearer the question than the corrected answer:
            # the corrected answer is for a neighbouring question, and retrieval finds the
            # nearer entry (French: "Peut-on alterner télétravail et chômage partiel ?"
            # corrected with a link to one agency's page, the knowledge answering it in full).
            closer = family is not None and family.look_alike and family.score > best.score
            if family is not None and not closer:
                differs = difference(question, matched, content_words=True)
        if differs is None and not closer:
            return Decision(best, [])
        if differs is not None:
            why, asked, approved = differs.sentence(), differs.asked, differs.approved
        else:
            why, asked, approved = "corrected answer not used", [], []
        if family is not None and closer:
            why += f"; the knowledge answers a closer question: “{family.question}”"
        elif family is not None and family.look_alike:
            why += f"; the knowledge answers a question as close on its own: “{family.question}”"
        elif family is not None:
            why += f"; another corrected answer is as close and answers differently: “{family.question}”"
        refused = {
            "id": best.id,
            "score": round(best.score, 4),
            "asked": asked,
            "approved": approved,
            "why": why,
            "sibling": None
            if family is None
            else {"id": family.id, "question": family.question, "score": round(family.score, 4)},
        }
    floor = settings.floor_for(embedding_model)
    close = [m for m in corrected if m.score >= floor]
    if refused is not None and family is not None and family.look_alike:
        # The knowledge answers this question on its own: the refused answer first would be
        # quoted all the same by an extractive answer; retrieval brings the knowledge's entry.
        close = [m for m in close if m.id != best.id]
    close = close[: settings.passages]
    return Decision(None, [as_passage(m) for m in close], refused)


def sibling(best: Match, ranked: Sequence[Match], level: float) -> Match | None:
    """The closest other corrected answer scoring `level` or more whose answer differs (text
    or sources): its presence says the best belongs to a family of look-alike questions.
    The same answer stored twice is no sibling: giving either is right; nor is a look-alike
    from the knowledge asking the very question the corrected answer was written for (its
    passage is the answer being corrected, so it always differs)."""
    written_for = {_question_key(t) for t in (best.question, best.matched, *best.paraphrases) if t}
    for other in ranked:
        if other.score < level:
            return None  # ranked by score: none further down is closer
        if other.id == best.id or _answer_key(other) == _answer_key(best):
            continue
        if other.look_alike and _question_key(other.question) in written_for:
            continue
        return other
    return None


def _question_key(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(" ?!.")


def _answer_key(match: Match) -> tuple[str, tuple]:
    sources = tuple(sorted((s.get("source") or "", s.get("page") or 0) for s in match.sources))
    return " ".join(match.answer.split()).casefold(), sources


def same_language(text: str, language: str) -> bool:
    """Short answers often have no detectable language: those are taken as they are."""
    detected = detect_language(text)
    return detected is None or detected == language


def as_passage(match: Match) -> Hit:
    source = match.sources[0] if match.sources else {}
    return Hit(
        chunk_id=CHUNK_PREFIX + match.id,
        score=1.0 + match.score,  # fused scores are rank-based and below 1: these stay first
        dense_score=match.score,
        text=f"Q: {match.question}\nA: {match.answer}",
        source=source.get("source") or SOURCE_LABEL,
        page=source.get("page"),
    )


def citations(match: Match) -> list[dict]:
    """The corrected answer's own sources; none given: the corrected answer itself."""
    if not match.sources:
        return [{"source": SOURCE_LABEL, "page": None, "chunk_id": CHUNK_PREFIX + match.id, "snippet": ""}]
    return [
        {
            "source": s["source"],
            "page": s.get("page"),
            "chunk_id": CHUNK_PREFIX + match.id,
            "snippet": snippet(match.answer),
        }
        for s in match.sources
    ]
