"""From raw model output to the text a customer sees, and which passages it cites.

Citation markers: the model is asked to cite with "[n]". We read which passages it cited and
then strip the markers from the text: the answer goes to widgets, APIs and chat histories
that have no passage list to resolve them against, and the public contract returns sources
as a separate `citations` list. (The bundled 135M model rarely cites at all; then the cited
passages are inferred from word overlap, see `cited_passages`.)

Defence in depth against prompt leaks: an answer that contains the per-request canary from the
system prompt, or a run of words from our own instruction template, is withheld.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bots.core.tokens import estimate_tokens
from knowledge.documents import Hit
from knowledge.links import MARKDOWN_LINK

_MARKER = re.compile(r"\s*[\[【]\s*(?:passages?\s*|source\s*|id\s*)?(\d+(?:\s*[,;&-]\s*\d+)*)\s*[\]】]", re.IGNORECASE)
# The model imitating our delimiters means it has left the answer: cut there.
_DELIMITER = re.compile(r"</?\s*passages?\b|<\|im_(?:start|end)\|>", re.IGNORECASE)
_WORD = re.compile(r"\w+")
LEAK_NGRAM = 6
SNIPPET_CHARS = 240
MAX_INFERRED_CITATIONS = 3
_STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "be",
        "to",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "it",
        "this",
        "that",
        "you",
        "your",
        "we",
        "our",
        "can",
        "will",
        "not",
        "no",
        "yes",
        "do",
        "does",
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "de",
        "et",
        "ou",
        "en",
        "au",
        "aux",
        "est",
        "sont",
        "pour",
        "par",
        "avec",
        "dans",
        "sur",
        "pas",
        "vous",
        "nous",
        "il",
        "elle",
        "ce",
        "cette",
        "qui",
        "que",
    ]
)


def cut_at_delimiter(raw: str) -> tuple[str, bool]:
    match = _DELIMITER.search(raw)
    return (raw[: match.start()], True) if match else (raw, False)


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def marker_numbers(text: str) -> list[int]:
    """Passage numbers the text cites, in order of first mention."""
    seen: dict[int, None] = {}
    for match in _MARKER.finditer(text):
        for part in re.split(r"[,;&]", match.group(1)):
            bounds = [int(n) for n in part.split("-") if n.strip().isdigit()]
            numbers = range(bounds[0], bounds[-1] + 1) if len(bounds) == 2 and bounds[1] - bounds[0] < 10 else bounds
            for n in numbers:
                seen.setdefault(n, None)
    return list(seen)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def leaks(text: str, *, canary: str, protected: Sequence[str]) -> bool:
    lowered = text.lower()
    if canary and canary.lower() in lowered:
        return True
    answer = " ".join(_words(text))
    for sentence in protected:
        words = _words(sentence)
        for i in range(len(words) - LEAK_NGRAM + 1):
            if " ".join(words[i : i + LEAK_NGRAM]) in answer:
                return True
    return False


def _content_words(text: str) -> set[str]:
    return {w for w in _words(text) if w not in _STOPWORDS and len(w) > 2}


def cited_passages(raw: str, passages: Sequence[Hit]) -> list[Hit]:
    """Passages the answer cites by [n]; else those sharing the most content words with it;
    else the top passage (it was the evidence the model was given first)."""
    numbered = [passages[n - 1] for n in marker_numbers(raw) if 1 <= n <= len(passages)]
    if numbered:
        return numbered
    if not passages:
        return []
    answer = _content_words(strip_markers(raw))
    overlaps = [(len(answer & _content_words(p.text)), i) for i, p in enumerate(passages)]
    # Two shared content words is where overlap stops being chance ("store", "open" ...).
    ranked = sorted((o for o in overlaps if o[0] >= 2), key=lambda o: (-o[0], o[1]))
    chosen = [passages[i] for _, i in ranked[:MAX_INFERRED_CITATIONS]]
    return chosen or [passages[0]]


def citation_dict(hit: Hit) -> dict:
    return {"source": hit.source, "page": hit.page, "chunk_id": hit.chunk_id, "snippet": snippet(hit.text)}


def snippet(text: str) -> str:
    """The start of a passage, cut at a word and never inside a Markdown link: the widget
    renders snippets as Markdown, and half a link would show as raw brackets."""
    text = " ".join(text.split())
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = SNIPPET_CHARS - 1
    for m in MARKDOWN_LINK.finditer(text):
        if m.start() >= cut:
            break
        if cut < m.end():
            cut = m.start()
    return text[:cut].rsplit(" ", 1)[0].rstrip() + "…"


# Bare web or mail addresses, which the widget also turns into links.
_BARE_URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"'`()\[\]]*[^\s<>\"'`()\[\].,;:!?]")
# A Markdown link or a bare address, whichever starts first: a known link's own address is
# then never taken for a bare one.
_ANY_LINK = re.compile(f"{MARKDOWN_LINK.pattern}|{_BARE_URL.pattern}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The unfinished link or address a stream may end with: held back until it is complete.
# The start of a scheme ("htt", "`http:/", "(mai") may become an address, and an opening
# parenthesis may come to hold only an invented one (then it goes too): held as well, or
# the released text could later lose them and stop matching what follows.
_SCHEME_START = re.compile(r"(?i)(?<!\w)(?:h(?:t(?:t(?:p(?:s?(?::/?)?)?)?)?)?|m(?:a(?:i(?:l(?:t(?:o:?)?)?)?)?)?)$")
_OPEN_LINK = re.compile(r"(?:!?\[[^\]\n]*(?:\](?:\([^)\s]*)?)?|(?:https?://|mailto:)[^\s)]*)$")
_OPEN_PARENTHESIS = re.compile(r"\(\s*$")


def _url_key(url: str) -> str:
    return url.strip().rstrip("/").lower()


def passage_links(passages: Sequence[Hit]) -> set[str]:
    """Every address the passages contain (normalised), e-mail addresses as mailto: links."""
    links: set[str] = set()
    for p in passages:
        links.update(_url_key(m.group(3)) for m in MARKDOWN_LINK.finditer(p.text))
        links.update(_url_key(m.group(0)) for m in _BARE_URL.finditer(p.text))
        links.update("mailto:" + _url_key(email) for email in _EMAIL.findall(p.text))
    return links


def keep_known_links(text: str, known: set[str]) -> str:
    """Links the model wrote to addresses found in none of its passages lose their address:
    a small model invents plausible ones ("return-alice.com"), and a customer would follow
    them. A Markdown link keeps its words; an invented bare address is dropped. Images are
    left to the bot's image origins, which the widget enforces."""

    def checked(m: re.Match) -> str:
        if m.group(3) is None:  # a bare address
            return m.group(0) if _url_key(m.group(0)) in known else ""
        return m.group(0) if m.group(1) or _url_key(m.group(3)) in known else m.group(2)

    return re.sub(r"[ \t]{2,}", " ", re.sub(r"\(\s*\)", "", _ANY_LINK.sub(checked, text)))


def hold_open_link(text: str) -> str:
    """The text without a link or address still being written at its end."""
    match = _OPEN_LINK.search(text) or _SCHEME_START.search(text)
    text = text[: match.start()] if match else text
    return _OPEN_PARENTHESIS.sub("", text).rstrip()


def final_text(raw: str) -> str:
    text, _ = cut_at_delimiter(raw)
    return strip_markers(text).strip()


# Models write "•" bullets (and copy them from PDF text); Markdown knows "- ". Rewritten at the
# start of a line, even before the item's text arrives, so streamed text keeps its prefix.
_BULLET = re.compile(r"(?m)^([ \t]*)[•●▪◦‣∙][ \t]*")


def markdown_bullets(text: str) -> str:
    return _BULLET.sub(r"\1- ", text)


def tidy(text: str, known_links: set[str]) -> str:
    """Without invented links, nor the blank a dropped link may leave at the start; with
    bullets every client renders as a list."""
    return markdown_bullets(keep_known_links(text, known_links).lstrip())


# Where a sentence or a line ends. A list number ("2.") also matches; a cut that leaves one
# dangling loses it (_DANGLING_MARKER).
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]*_]*(?=\s|$)|\n")
_DANGLING_MARKER = re.compile(r"(?:^|\n)[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]*$")
MIN_KEPT = 0.5
# Near the token limit means within max(16, a quarter of it): enough for a long sentence of a
# small model, and deltas are about one token each (llama.cpp and OpenAI send one per chunk).
LIMIT_MARGIN_MIN = 16
LIMIT_MARGIN_DIVISOR = 4


def whole_sentences(text: str) -> str:
    """An answer the token limit cut mid-sentence, back to its last whole sentence or line.
    When that would drop more than half of it, or leave an introduction with nothing after
    it ("it includes:"), the text stays and "…" says it is unfinished."""
    text = text.rstrip()
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not text or (ends and ends[-1] == len(text)):
        return text
    kept = _DANGLING_MARKER.sub("", text[: ends[-1]].rstrip()).rstrip() if ends else ""
    if len(kept) >= MIN_KEPT * len(text) and not kept.endswith(":"):
        return kept
    return text + "…"


def settled_sentences(text: str) -> str:
    """The text up to its last sentence end that more text cannot move: one followed by a
    blank (at the very end, "e." may yet become "e.g."). Whatever `whole_sentences` later
    makes of the whole text starts with this, so it is safe to show near the token limit."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)]
    return _DANGLING_MARKER.sub("", text[: ends[-1]].rstrip()).rstrip() if ends else ""


def customer_text(raw: str, known_links: set[str], *, cut_by_limit: bool = False) -> str:
    """The answer a customer gets from the model's whole output."""
    text = tidy(final_text(raw), known_links).rstrip()
    return whole_sentences(text) if cut_by_limit else text


class StreamGuard:
    """Releases streamed text to the customer only once it can no longer turn out to be part
    of a citation marker, a delimiter or a leak: the last `hold` characters wait.

    Near the token limit (`token_limit`: the model's max_tokens; within `LIMIT_MARGIN` of it,
    counting the deltas fed and the estimated tokens, whichever is more) only whole sentences
    are released: if the model is then cut off mid-sentence, the answer ends at a sentence the
    customer already saw whole. Should a long sentence have been shown in part before that,
    the cut answer is what was shown, ended with "…": a cut never takes back streamed text.
    """

    def __init__(
        self,
        *,
        canary: str,
        protected: Sequence[str],
        hold: int = 80,
        known_links: set[str] | None = None,
        token_limit: int | None = None,
    ):
        self.canary = canary
        self.protected = list(protected)
        self.known_links = known_links or set()
        self.hold = max(hold, len(canary) + 8)
        self.token_limit = token_limit
        self.deltas = 0
        self.raw = ""
        self.released = ""
        self.leaked = False
        self.stopped = False  # the model crossed into a delimiter: ignore the rest
        self.corrected = False  # the final text does not extend what was streamed

    @property
    def near_limit(self) -> bool:
        if self.token_limit is None:
            return False
        used = max(self.deltas, estimate_tokens(self.raw))
        return used >= self.token_limit - max(LIMIT_MARGIN_MIN, self.token_limit // LIMIT_MARGIN_DIVISOR)

    def feed(self, text: str) -> str:
        """Add model output (one delta); return the newly releasable customer text ("" if none)."""
        if self.leaked or self.stopped:
            return ""
        self.deltas += 1
        self.raw += text
        cut, self.stopped = cut_at_delimiter(self.raw)
        if leaks(cut, canary=self.canary, protected=self.protected):
            self.leaked = True
            return ""
        if self.stopped:
            return self._release_upto(final_text(cut))
        end = len(cut) - self.hold
        if end <= 0:
            return ""
        # Never cut inside what may be a marker, nor just before one (its leading space goes too).
        bracket = max(cut.rfind("[", 0, end), cut.rfind("【", 0, end))
        if bracket != -1 and bracket >= end - 20 and not re.search(r"[\]】]", cut[bracket:end]):
            end = bracket
        prefix = hold_open_link(cut[:end].rstrip())
        return self._release_upto(strip_markers(prefix).lstrip())

    def finish(self, *, cut_by_limit: bool = False) -> str:
        """The rest of the text once the model is done ("" if withheld). `cut_by_limit`: the
        model stopped at its token limit, so the answer ends at its last whole sentence."""
        if self.leaked:
            return ""
        clean = customer_text(self.raw, self.known_links, cut_by_limit=cut_by_limit)
        if cut_by_limit and not clean.startswith(self.released):
            whole = customer_text(self.raw, self.known_links)
            if whole.startswith(self.released) and self.released:
                # Text past the last whole sentence was already shown: keep it, say it is cut.
                clean = self.released if self.released.endswith("…") else self.released + "…"
        if clean.startswith(self.released):
            return self._advance(clean)
        # Cleaning changed text already released (text glued to an address or a marker can
        # do that). The clean text becomes the answer; streams carry it in their last event,
        # and clients show it in place. Only a trailing blank shown in excess is no change.
        self.corrected = clean != self.released.rstrip()
        self.released = clean
        return ""

    def _release_upto(self, clean: str) -> str:
        clean = tidy(clean, self.known_links)
        if self.near_limit and not self.stopped:
            clean = settled_sentences(clean)
        if not clean.startswith(self.released):
            return ""  # cleaning changed released text: nothing more until the end (finish)
        return self._advance(clean)

    def _advance(self, clean: str) -> str:
        new = clean[len(self.released) :]
        self.released = clean
        return new
