"""Answers quoted from the retrieved passages, with no model writing a word of them.

The bundled 135M model finds nothing wrong with "Northwind Health Plus does not cover
emergency services" when its own passage says it does, and invents fees. A quote cannot do
either: every character of an extractive answer, except the whitespace that joins quotes, the
"- " of list lines and the bold heading lines, is copied from a passage. What is left to get
wrong is the choice of quotes, made here from signals that need no model: the question's
stems found in each sentence (the project's own BM25 tokenizer and stemmer) and the passage's
rank and dense score; the bot's embedder can be mixed in (`with_embeddings`).

Passages are the loaders' Markdown-ish text: paragraphs split by blank lines, "- item" lines,
"a | b" or "| a | b |" table rows, heading lines (PDF pages keep them inline), "name: value"
records (CSV rows) and "Q: …\\nA: …" FAQ entries. Units are whole sentences, list items,
table rows and records: none is ever cut.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.documents import Hit
from knowledge.lexical import Tokenizer, detect_language

# (question, texts, tokenizer) -> relevance of each text to the question, 0..1
Scorer = Callable[[str, Sequence[str], Tokenizer], list[float]]
# texts -> one vector per text (any scale: they are normalised here)
Embed = Callable[[list[str]], np.ndarray]

_STEMMER_LANGUAGE = {"en": "english", "fr": "french"}
_FAQ = re.compile(r"\AQ: (?P<question>.*?)\nA: (?P<answer>.*)\Z", re.DOTALL)
_BULLET = re.compile(r"^\s*(?:[-*+•·▪◦‣●■➢►–]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+(?=\S)")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
_RECORD_LINE = re.compile(r"^[^:\n|]{1,60}: \S")
# A lone short line that starts with a letter and ends without sentence punctuation: the
# headings PDF pages keep inline ("Emergency Care", "Tips for Seeking Urgent Care").
_HEADING_LINE = re.compile(r"^[^\W\d_][^\n|]{0,78}[^\s.,;:!]$")
# Where a sentence may end: terminal punctuation, closing quotes or brackets, whitespace.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”»)\]]*\s+")
# ... and the next one must start like a sentence (a capital, a digit, an opening quote).
_SENTENCE_START = re.compile(r"[\"'“«(\[]?[^\W_a-zà-ÿ]")
_ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "approx",
        "dr",
        "mr",
        "mrs",
        "ms",
        "st",
        "no",
        "nos",
        "n°",
        "p",
        "pp",
        "fig",
        "art",
        "al",
        "cf",
        "mme",
        "mlle",
        "mm",
        "m",
        "env",
        "ex",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "ltd",
        "co",
        "corp",
    ]
)

# Selection. The values below were chosen leave-one-set-out on four sets (Contoso PDFs, the
# English COVID FAQ, the French COVID FAQ, service-public pages; see
# benchmarks/extractive_selection.py and benchmarks/README.md). Retrieval's rank is a better
# judge of which passage answers than stem overlap (which reads "someone … gets the virus"
# as "quarantine … spread to others"): the anchor is taken from the top passage unless
# another one's sentence matches the question far better. Which further sentences join is
# judged on their words alone (`fit` in compose).
RANK_WEIGHT = 1.0
DENSE_WEIGHT = 0.1
HEADING_WEIGHT = 0.3
# Sentences of the anchor's passage this relevant (relative to the anchor) join the answer;
# another passage's must come closer to the anchor's score.
SAME_PASSAGE_SHARE = 0.45
OTHER_PASSAGE_SHARE = 0.8
MAX_PASSAGES = 2
# A relevant unit that states a specific (a number, an amount, a date, a duration) is worth
# this much more: the facts a customer asks for are mostly those (unless the question asks
# for a yes or a no).
SPECIFIC_WEIGHT = 0.2
# A lead-in with its list after it ("These include:"), and the sentence it continues, are
# worth this much more to a question asking for several things ("What services are
# exempt…?"): chosen leave-one-set-out (3 folds of 4 chose 0.3; 0, 0.3, 0.6 tried).
LIST_WEIGHT = 0.3
# Units whose stems are this much contained in what is already quoted add nothing.
DUPLICATE_SHARE = 0.8
_SPECIFIC = re.compile(r"\d")
# A yes/no question is answered by its yes or no, not by a number: "Can I get benefits if I
# resign?" wants "You cannot, unless…", which a sentence with a date must not push out.
_YES_NO = re.compile(
    r"(?i)^\s*(?:(?:do|does|did|is|are|was|were|am|can|could|will|would|should|shall|may|might|must|has|have|had)"
    r"\b|est-ce qu)|\b(?!(?:quand|comment|où|pourquoi|combien|quel|quelle|quels|quelles|que|qui|quoi)\b)"
    r"[^\W\d_]+-(?:t-)?(?:je|tu|il|elle|on|nous|vous|ils|elles)\b"
)
# Questions asking for several things: their answer is often a lead-in and its list.
_LIST = re.compile(
    r"(?i)^\s*(?:what (?:are|services|kinds?|types?|steps|documents|benefits)|which|list|quel(?:le)?s (?:sont|"
    r"démarches|documents|pièces|conditions)|quelles|quels)\b"
)
_WH_START = re.compile(
    r"(?i)^\s*(?:quand|comment|où|pourquoi|combien|quel|quelle|quels|quelles|que|qu'|qui|quoi|à quel|de quel)"
)


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a passage. `group` numbers the paragraph, list or table it
    belongs to within the passage; `position` is its order in the passage."""

    text: str
    kind: str  # "sentence" | "item" | "row" | "header" | "separator" | "record" | "heading"
    passage: int
    position: int
    group: int
    heading: str | None = None  # the inline heading line above it, if any


@dataclass(frozen=True)
class Quote:
    """Where a piece of the answer comes from."""

    text: str
    hit: Hit


@dataclass
class Extract:
    text: str  # Markdown; "" when nothing quotable fits in max_chars
    used: list[Hit] = field(default_factory=list)  # the passages quoted, for citations
    quotes: list[Quote] = field(default_factory=list)


def lexical_relevance(question: str, texts: Sequence[str], tokenize: Tokenizer) -> list[float]:
    """The share of the question's stems, weighted by their rarity among `texts`, that each
    text contains: a rare word of the question ("transplants") tells more than a common one
    ("plan") about which sentence answers it."""
    wanted = set(tokenize(question))
    if not wanted or not texts:
        return [0.0] * len(texts)
    stems = [set(tokenize(t)) for t in texts]
    n = len(texts)
    idf = {t: math.log(1 + n / (1 + sum(1 for s in stems if t in s))) for t in wanted}
    total = sum(idf.values())
    return [sum(idf[t] for t in wanted & s) / total for s in stems]


def with_embeddings(embed: Embed, weight: float = 0.5) -> Scorer:
    """A scorer that blends the lexical one with the cosine of question and text under the
    bot's embedder: paraphrases ("doctor" for "physician") that share no stem still count.
    Costs one embedding call per answer (of question and candidate units together)."""

    def score(question: str, texts: Sequence[str], tokenize: Tokenizer) -> list[float]:
        lexical = lexical_relevance(question, texts, tokenize)
        if not texts:
            return lexical
        vectors = np.asarray(embed([question, *texts]), dtype=np.float32)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        cosines = vectors[1:] @ vectors[0]
        return [(1 - weight) * lex + weight * max(0.0, float(cos)) for lex, cos in zip(lexical, cosines)]

    return score


def compose(
    question: str,
    passages: Sequence[Hit],
    *,
    max_chars: int = 700,
    language: str = "en",
    score: Scorer = lexical_relevance,
) -> Extract:
    """The answer quoted from `passages` (best first, as retrieval ranks them): the most
    relevant sentences, items or rows of the best passage with their neighbours, maybe a
    second passage's, in document order under their heading, at most `max_chars` long.
    An FAQ entry that answers best is answered with its answer text. Never cuts a unit: when
    not even one fits in `max_chars`, the text is empty (the caller falls back)."""
    if max_chars <= 0:
        raise ValueError(f"max_chars must be positive, not {max_chars}")
    passages = [p for p in passages if p.text.strip()]
    if not passages:
        return Extract("")
    tokenize = Tokenizer(_STEMMER_LANGUAGE.get(language) or detect_language([p.text for p in passages]))
    faq = {i: m for i, p in enumerate(passages) if (m := _FAQ.match(p.text.strip()))}
    units = [u for i, p in enumerate(passages) for u in segment(_body(p.text, faq.get(i)), i)]
    quotable = [u for u in units if u.kind not in ("heading", "separator", "header")]
    if not quotable:
        quotable = [u for u in units if u.kind == "header"]  # a table of one header row
    if not quotable:
        return Extract("")

    # A unit is read with its context: an FAQ's question is what its answer answers, a
    # heading what its sentences are about, and a table row means "header: value".
    headers = {(u.passage, u.group): u.text for u in units if u.kind == "header"}
    texts = [f"{headers.get((u.passage, u.group), '')} {u.text}" if u.kind == "row" else u.text for u in quotable]
    contexts = [_context(passages[u.passage], u, faq.get(u.passage)) for u in quotable]
    relevance = score(question, texts + contexts, tokenize)
    own, context = relevance[: len(quotable)], relevance[len(quotable) :]
    scores = {
        u: own[i] + HEADING_WEIGHT * context[i] + _prior(passages[u.passage], u.passage) for i, u in enumerate(quotable)
    }
    asks = answer_type(question)
    specific = 0.0 if asks == "yes_no" else SPECIFIC_WEIGHT
    listed = _lead_ins_with_lists(units, passages) if asks == "list" else set()
    for i, u in enumerate(quotable):
        if u.passage in faq:  # the question of the entry is the best evidence of fit
            scores[u] = max(own[i], context[i]) + _prior(passages[u.passage], u.passage)
        if own[i] > 0 and _SPECIFIC.search(u.text):
            scores[u] += specific
        if own[i] > 0 and u in listed:
            scores[u] += LIST_WEIGHT

    anchor = max(quotable, key=lambda u: (scores[u], -u.passage, -u.position))
    if anchor.passage in faq:
        chosen = _in_order([u for u in units if u.passage == anchor.passage], max_chars, passages)
    else:
        # Which other units are relevant enough is judged on their words alone: the
        # passage prior would lift every sentence of the top passage over the bar.
        fit = {u: scores[u] - _prior(passages[u.passage], u.passage) for u in quotable}
        chosen = _select(anchor, units, fit, max_chars, passages, tokenize)
    if not chosen:
        return Extract("")
    text = _render(chosen, passages)
    used_ids = list(dict.fromkeys(u.passage for u in chosen))
    return Extract(
        text=text,
        used=[passages[i] for i in used_ids],
        quotes=[Quote(u.text, passages[u.passage]) for u in chosen if u.kind != "separator"],
    )


def answer_type(question: str) -> str:
    """What kind of answer a question (English or French) asks for: "yes_no", "list" ("What
    are the…", "Which services…", "Quels sont…") or "other". (A weight of its own for
    "How much…/When…/Combien…" questions was tried: it changed no answer's facts on any set.)"""
    if is_yes_no(question):
        return "yes_no"
    if _LIST.search(question):
        return "list"
    return "other"


def _lead_ins_with_lists(units: list[Unit], passages: Sequence[Hit]) -> set[Unit]:
    """The lead-ins that have a list to bring (here or in the next chunk), and the sentence
    each continues."""
    by_passage: dict[int, list[Unit]] = {}
    for u in units:
        by_passage.setdefault(u.passage, []).append(u)
    continuation = _continuations(passages)
    out = set()
    for own in by_passage.values():
        for u in own:
            if _is_lead_in(u) and _items_of(u, by_passage, continuation):
                out.add(u)
                # "… are exempt from prior authorization. These include:": the sentence the
                # lead-in continues says what the list is.
                if u.position > 0 and own[u.position - 1].group == u.group:
                    out.add(own[u.position - 1])
    return out


def is_yes_no(question: str) -> bool:
    """Whether a question (English or French) asks for a yes or a no: it opens with an
    auxiliary ("Does…", "Can…", "Est-ce que…") or inverts its subject ("Un salarié peut-il…",
    "Puis-je…") without a question word ("Quand puis-je…" asks for a date)."""
    return not _WH_START.match(question) and bool(_YES_NO.search(question))


def _body(text: str, faq: re.Match | None) -> str:
    return faq.group("answer").strip() if faq else text


def _context(hit: Hit, unit: Unit, faq: re.Match | None) -> str:
    if faq:
        return faq.group("question")
    return " ".join([*hit.headings, unit.heading or ""])


def _prior(hit: Hit, rank: int) -> float:
    dense = hit.dense_score if hit.dense_score is not None else 0.0
    return RANK_WEIGHT / (1 + rank) + DENSE_WEIGHT * max(0.0, dense)


def segment(text: str, passage: int = 0) -> list[Unit]:
    """The units of one passage's text, in order."""
    units: list[Unit] = []
    group = 0
    heading: str | None = None

    def add(piece: str, kind: str) -> None:
        units.append(Unit(piece, kind, passage, len(units), group, heading))

    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if len(lines) == 1 and (atx := _ATX_HEADING.match(lines[0]) or _is_heading(lines[0])):
            line = atx.group("text") if isinstance(atx, re.Match) else lines[0]
            group += 1
            add(line, "heading")
            heading = line
            continue
        if len(lines) >= 2 and all(_RECORD_LINE.match(line) for line in lines):
            group += 1
            add("\n".join(lines), "record")  # one CSV row: whole or not at all
            continue
        prose: list[str] = []
        previous_kind = None

        def flush_prose() -> None:
            nonlocal group
            if prose:
                group += 1
                for sentence in split_sentences(" ".join(prose)):
                    add(sentence, "sentence")
                prose.clear()

        for i, line in enumerate(lines):
            kind = _line_kind(line)
            if kind == "prose":
                if previous_kind not in (None, "prose"):
                    group += 1
                prose.append(line)
            else:
                flush_prose()
                if (kind == "item") != (previous_kind == "item") or previous_kind is None:
                    group += 1
                if kind == "item":
                    add(line[_BULLET.match(line).end() :], "item")  # type: ignore[union-attr]
                elif kind == "separator":
                    add(line, "separator")
                else:
                    # A table's first row is its header, shown above any row chosen below it.
                    first = previous_kind != "row"
                    more = i + 1 < len(lines) and _line_kind(lines[i + 1]) in ("row", "separator")
                    add(line, "header" if first and more else "row")
            previous_kind = "row" if kind in ("row", "separator") else kind
        flush_prose()
        group += 1
    return units


def _line_kind(line: str) -> str:
    if _TABLE_SEPARATOR.match(line) and "-" in line:
        return "separator"
    if line.startswith("|") or " | " in line:
        return "row"
    if _BULLET.match(line):
        return "item"
    return "prose"


def _is_heading(line: str) -> bool:
    return bool(_HEADING_LINE.match(line)) and line[0].isupper() and len(line.split()) <= 12


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, each verbatim. A full stop after an abbreviation ("e.g.",
    "Dr.", "n°") or an initial does not end a sentence; nor does one followed by a lower-case
    word."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if not _SENTENCE_START.match(text, end):
            continue
        before = text[start : match.start()].rsplit(None, 1)
        last_word = before[-1].lower().rstrip(".") if before else ""
        if match.group().startswith(".") and (
            last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha())
        ):
            continue
        sentences.append(text[start:end].strip())
        start = end
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences


def _select(
    anchor: Unit, units: list[Unit], scores: dict[Unit, float], max_chars: int, passages, tokenize: Tokenizer
) -> list[Unit]:
    """The anchor, then its passage's other relevant units and its neighbours, then the best
    of another passage, each taken only if the answer still fits in max_chars."""
    best = scores[anchor]
    by_passage: dict[int, list[Unit]] = {}
    for u in units:
        by_passage.setdefault(u.passage, []).append(u)
    own = by_passage[anchor.passage]
    continuation = _continuations(passages)
    queue: list[tuple[float, Unit]] = [(math.inf, anchor)]
    # Neighbours give the anchor its context: the sentence after it often carries the
    # condition or the amount, the one before says what "it" is.
    for u in own:
        if u in scores and u != anchor:
            neighbour = u.group == anchor.group and abs(u.position - anchor.position) == 1
            if neighbour or 0 < SAME_PASSAGE_SHARE * best <= scores[u]:
                queue.append((scores[u] + (best if neighbour else 0.0), u))
    others = [u for u in scores if u.passage != anchor.passage and 0 < OTHER_PASSAGE_SHARE * best <= scores[u]]
    queue += [(scores[u] * 0.5, u) for u in others]
    # A lead-in sentence ending with ":" announces the list or table after it ...
    if anchor.kind in ("item", "row"):
        lead = [u for u in own if u.position < anchor.position and u.kind == "sentence"]
        if lead and lead[-1].text.endswith(":") and lead[-1].position == _group_start(own, anchor) - 1:
            queue.append((best, lead[-1]))
        elif anchor in _list_at_start(own):
            # ... even at the end of the chunk before, when the list was split from it.
            before = {following: p for p, following in continuation.items()}.get(anchor.passage)
            if before is not None and _is_lead_in(by_passage[before][-1]):
                queue.append((best, by_passage[before][-1]))
    # ... and its list comes with it, whichever passage it is in: "These include:" alone
    # answers nothing, the items after it are the answer. A lead-in right after a quoted
    # sentence ("… are exempt from prior authorization. These include:") continues it.
    # Items queued only because their lead-in was: without it they would be a list about
    # nothing ("- Routine office visits" under a heading about something else).
    brought_by: dict[Unit, Unit] = {}
    relevant_on_their_own = {u for _, u in queue}
    for priority, unit in list(queue):
        start = best if unit == anchor else priority
        own_units = by_passage[unit.passage]
        following = own_units[unit.position + 1] if unit.position + 1 < len(own_units) else None
        intro = unit if _is_lead_in(unit) else following if following and _is_lead_in(following) else None
        if intro is None or intro.group != unit.group:
            continue
        if intro != unit:
            queue.append((start - 0.001, intro))
        for i, u in enumerate(_items_of(intro, by_passage, continuation)):
            queue.append((start - 0.01 * (i + 1), u))
            brought_by.setdefault(u, intro)
    queue.sort(key=lambda pair: (-pair[0], pair[1].passage, pair[1].position))

    chosen: list[Unit] = []
    said: set[str] = set()  # the stems quoted so far
    for _, unit in queue:
        if unit in chosen:
            continue
        if unit in brought_by and unit not in relevant_on_their_own and brought_by[unit] not in chosen:
            continue
        stems = set(tokenize(unit.text))
        # The same sentence on two pages (a plan's two brochures) or a row repeating a
        # sentence: quoting it twice spends the length another fact could use.
        if unit != anchor and stems and len(stems & said) >= DUPLICATE_SHARE * len(stems):
            continue
        # The chunk right after a quoted one continues its text: it is not another source.
        sources = {u.passage for u in chosen} - {
            continuation[p] for p in {u.passage for u in chosen} if p in continuation
        }
        if unit.passage not in {u.passage for u in chosen} and len(sources) >= MAX_PASSAGES:
            if not any(continuation.get(u.passage) == unit.passage for u in chosen):
                continue
        package = [unit, *_table_header(unit, by_passage[unit.passage])]
        if _is_lead_in(unit):
            # "These include:" with nothing after it is worse than nothing: a lead-in comes
            # with its first item or not at all.
            package += _items_of(unit, by_passage, continuation)[:1]
        trial = chosen + [u for u in package if u not in chosen]
        if len(_render(trial, passages)) <= max_chars:
            chosen = trial
            said |= stems
    return chosen


def _is_lead_in(unit: Unit) -> bool:
    return unit.kind == "sentence" and unit.text.endswith(":")


def _list_after(lead: Unit, own: list[Unit]) -> list[Unit]:
    """The items or rows right after a lead-in (a list whose items are paragraphs of their
    own, as PDF pages give them, is one list), at most 8."""
    items: list[Unit] = []
    for u in own[lead.position + 1 :]:
        if u.kind not in ("item", "row", "header", "separator"):
            break
        if u.kind in ("item", "row"):
            items.append(u)
    return items[:8]


def _items_of(lead: Unit, by_passage: dict[int, list[Unit]], continuation: dict[int, int]) -> list[Unit]:
    """The list a lead-in announces: the items after it, or, when it ends its chunk (a PDF
    page's list split by the chunker), those the next chunk opens with if it was retrieved."""
    own = by_passage[lead.passage]
    items = _list_after(lead, own)
    if not items and lead == own[-1] and lead.passage in continuation:
        items = _list_at_start(by_passage.get(continuation[lead.passage], []))
    return items


def _list_at_start(units: list[Unit]) -> list[Unit]:
    """The items or rows a passage opens with (the rest of a list begun in the chunk
    before it), at most 8."""
    items: list[Unit] = []
    for u in units:
        if u.kind not in ("item", "row", "header", "separator"):
            break
        if u.kind in ("item", "row"):
            items.append(u)
    return items[:8]


# Chunk ids are "<document>-v<version>-<ordinal>" (bots/knowledge_base.py).
_CHUNK_ID = re.compile(r"^(?P<document>.+)-(?P<ordinal>\d+)$")


def _chunk_position(hit: Hit) -> tuple[str, int] | None:
    m = _CHUNK_ID.match(hit.chunk_id)
    return (m.group("document"), int(m.group("ordinal"))) if m else None


def _continuations(passages: Sequence[Hit]) -> dict[int, int]:
    """{passage: the passage that is the next chunk of the same document}, among those
    retrieved."""
    where = {pos: i for i, p in enumerate(passages) if (pos := _chunk_position(p))}
    out = {}
    for pos, i in where.items():
        if (following := where.get((pos[0], pos[1] + 1))) is not None:
            out[i] = following
    return out


def _group_start(own: list[Unit], unit: Unit) -> int:
    return min(u.position for u in own if u.group == unit.group)


def _table_header(row: Unit, own: list[Unit]) -> list[Unit]:
    if row.kind not in ("row", "separator"):
        return []
    return [u for u in own if u.group == row.group and u.kind in ("header", "separator") and u.position < row.position]


def _in_order(units: list[Unit], max_chars: int, passages) -> list[Unit]:
    """An FAQ answer from its start, as many whole units as fit (a heading line only with
    something under it)."""
    chosen: list[Unit] = []
    for unit in units:
        trial = chosen + [unit]
        if len(_render(trial, passages)) > max_chars:
            break
        chosen = trial
    while chosen and chosen[-1].kind == "heading":
        chosen.pop()
    return chosen


def _render(chosen: list[Unit], passages: Sequence[Hit]) -> str:
    """Markdown: per passage (same document's in page order) its heading in bold, then its
    units in document order; sentences of one paragraph run on, lists and tables keep a line
    each, and anything not adjacent in the source starts a new paragraph."""
    order = _passage_order(sorted({u.passage for u in chosen}), passages)
    blocks: list[str] = []
    shown_heading: str | None = None
    for p in order:
        units = sorted((u for u in chosen if u.passage == p), key=lambda u: u.position)
        lines: list[str] = []
        previous: Unit | None = None
        for u in units:
            heading = u.heading or (passages[p].headings[-1] if passages[p].headings else None)
            if heading and heading != shown_heading and u.kind != "heading":
                if lines:
                    blocks.append("\n".join(lines))
                    lines = []
                blocks.append(f"**{heading}**")
                shown_heading, previous = heading, None
            adjacent = previous is not None and previous.group == u.group and u.position == previous.position + 1
            new_paragraph = "" if adjacent or not lines else "\n"
            if u.kind == "sentence" and adjacent and previous.kind == "sentence":  # type: ignore[union-attr]
                lines[-1] += " " + u.text
            elif u.kind == "item" or (u.kind in ("row", "header", "separator") and not u.text.startswith("|")):
                lines.append(new_paragraph + "- " + u.text)
            elif u.kind in ("row", "header", "separator"):
                lines.append(new_paragraph + u.text)
            elif u.kind == "record":
                lines.append(("\n" if lines else "") + "\n".join("- " + line for line in u.text.split("\n")))
            else:
                lines.append(("\n" if lines else "") + u.text)
            previous = u
        blocks.append("\n".join(lines))
    return "\n\n".join(b for b in blocks if b.strip())


def _passage_order(ids: list[int], passages: Sequence[Hit]) -> list[int]:
    """Best passage first; passages of one document together, in page order."""
    first_rank: dict[str, int] = {}
    for i in ids:
        first_rank.setdefault(passages[i].document_id or passages[i].source, i)
    # Chunks of one stored document in their order (a list continued in the next chunk
    # comes after its lead-in, whatever their ranks); others by rank.
    positions = {i: _chunk_position(passages[i]) or (f"#{i}", i) for i in ids}
    first_chunk_rank: dict[str, int] = {}
    for i in ids:
        first_chunk_rank.setdefault(positions[i][0], i)
    return sorted(
        ids,
        key=lambda i: (
            first_rank[passages[i].document_id or passages[i].source],
            passages[i].page or 0,
            first_chunk_rank[positions[i][0]],
            positions[i][1],
        ),
    )
