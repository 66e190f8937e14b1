"""Is a model's answer backed by the passages it was given? A cheap, model-free check of the
facts a customer acts on: numbers, amounts, percentages, durations, dates, e-mail addresses,
phone numbers, URLs and quoted names. Each one in the answer must appear in the passages or
in the question, compared by value, not spelling: "$1,000" = "1000 dollars" = "1 000 USD",
"10%" = "10 percent" = "10 pour cent", "1 000,50 €" = "€1,000.50", "2 weeks" = "14 days",
"1er mars 2020" = "March 1, 2020".

`contradicted_sentences` is a rougher check (an answer sentence that negates the passage
sentence it repeats); it is off by default: see benchmarks/answer_correctness.py for what it
catches and what it flags wrongly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from bots.core.extractive import split_sentences
from knowledge.documents import Hit
from knowledge.lexical import Tokenizer, detect_language

KINDS = ("url", "email", "phone", "date", "amount", "percent", "duration", "number", "quote")


@dataclass(frozen=True)
class Claim:
    """A checkable fact of the answer that nothing given to the model supports."""

    kind: str  # one of KINDS
    text: str  # as written in the answer
    start: int = 0  # offsets in the answer text


@dataclass
class _Facts:
    """Normalised facts of a text, to look claims up in."""

    numbers: set[Decimal] = field(default_factory=set)
    amounts: set[tuple[Decimal, str | None]] = field(default_factory=set)
    percents: set[Decimal] = field(default_factory=set)
    durations: set[tuple[Decimal, str]] = field(default_factory=set)
    dates: set[tuple[int | None, int | None, int | None]] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    text: str = ""  # folded, for quoted names


# --- patterns ------------------------------------------------------------------------------

_SPACE = "[ \u00a0\u202f\u2009]"
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>()\[\]\"'`]+")
_EMAIL = re.compile(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b")
# At least 7 digits in groups, optionally "+country" or "(area)": "+1 (800) 555-0199",
# "01 23 45 67 89", "1-800-555-0199", "0 800 130 000".
_PHONE = re.compile(r"(?<![\w.,])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,5}(?!\w|[.,]\d)")
# "1 000 000" or "12.500.000" is a number, not a phone; a phone may start with 0 ("0 800 130 000").
_GROUPED_NUMBER = re.compile(r"[1-9]\d{0,2}(?:([ .,\u00a0\u202f\u2009])\d{3})(?:\1\d{3})*")
_CITATION = re.compile(r"\[\s*\d+(?:\s*[,;-]\s*\d+)*\s*\]")
# At a line's start, or "2)" after a sentence on the same line ("… the plan. 2) Write …"); a
# mid-line "20." is rather an amount ending a sentence ("Copay: 20.").
_LIST_MARKER = re.compile(r"(?m)^\s*\(?\d{1,3}[.)](?=\s)|(?<=[.:;!?] )\(?\d{1,3}\)(?=\s)")
_QUOTED = re.compile(r"\"([^\"\n]{2,80})\"|“([^”\n]{2,80})”|«\s*([^»\n]{2,80}?)\s*»")

_MONTHS = {
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
    },
    "sept": 9,
    # As written: the date pattern reads the text unfolded.
    "février": 2,
    "août": 8,
    "décembre": 12,
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "janvier",
                "fevrier",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "aout",
                "septembre",
                "octobre",
                "novembre",
                "decembre",
            ]
        )
    },
}
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th|er)?"
_YEAR = r"(?:1[89]\d\d|2[01]\d\d)"
_DATE = re.compile(
    rf"(?i)\b(?:"
    rf"(?P<iso>{_YEAR}-[01]?\d-[0-3]?\d)"
    rf"|(?P<numeric>[0-3]?\d[/.][01]?\d[/.](?:{_YEAR}|\d\d))"
    rf"|(?P<mdy>{_MONTH}{_SPACE}+{_DAY}(?:,?{_SPACE}+{_YEAR})?)"
    rf"|(?P<dmy>{_DAY}{_SPACE}+{_MONTH}(?:{_SPACE}+{_YEAR})?)"
    rf"|(?P<my>{_MONTH}{_SPACE}+{_YEAR})"
    rf")\b"
)

# A number: digit groups with thousands separators (",", ".", spaces) and a decimal part.
_NUMBER = re.compile(
    rf"(?<![\w.,])\d{{1,3}}(?:(?:,|\.|{_SPACE})\d{{3}})+(?:[.,]\d+)?(?![\w])|(?<![\w.,])\d+(?:[.,]\d+)?(?!\w)"
)
_CURRENCY_SYMBOL = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_WORD = {
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "livres": "GBP",
}
_SCALE = {
    "thousand": 1000,
    "mille": 1000,
    "k": 1000,
    "million": 10**6,
    "millions": 10**6,
    "billion": 10**9,
    "milliard": 10**9,
    "milliards": 10**9,
}
_PERCENT_AFTER = re.compile(rf"(?i)^{_SPACE}*(?:%|per{_SPACE}?cent\b|percent\b|pour{_SPACE}?cent\b|pourcent\b)")
# Durations in one unit each: a second, a day, a month (30-day months and 365-day years
# would turn "12 months" into "360 days"; the passages say one or the other).
_DURATION_UNITS = {
    "second": ("s", 1),
    "seconde": ("s", 1),
    "minute": ("s", 60),
    "min": ("s", 60),
    "hour": ("s", 3600),
    "heure": ("s", 3600),
    "h": ("s", 3600),
    "day": ("d", 1),
    "jour": ("d", 1),
    "business day": ("bd", 1),
    "working day": ("bd", 1),
    "jour ouvre": ("bd", 1),
    "jour ouvrable": ("bd", 1),
    "week": ("d", 7),
    "semaine": ("d", 7),
    "month": ("m", 1),
    "mois": ("m", 1),
    "year": ("m", 12),
    "an": ("m", 12),
    "annee": ("m", 12),
}
_DURATION_AFTER = re.compile(
    rf"(?i)^{_SPACE}*(?:-{_SPACE}?)?("
    + "|".join(sorted((re.escape(u) for u in _DURATION_UNITS), key=len, reverse=True))
    + r")s?\b"
)

_NUMBER_WORDS = {
    "en": {
        "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
        "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
        "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
        "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
        "hundred": 100, "thousand": 1000, "a hundred": 100, "a thousand": 1000, "one hundred": 100,
        "one thousand": 1000, "a million": 10**6, "one million": 10**6,
    },
    "fr": {
        "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
        "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
        "quinze": 15, "seize": 16, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
        "soixante": 60, "cent": 100, "mille": 1000, "un million": 10**6,
    },
}  # fmt: skip
_ALL_NUMBER_WORDS = {w: v for words in _NUMBER_WORDS.values() for w, v in words.items()}
_NUMBER_WORD = re.compile(r"(?i)\b(" + "|".join(sorted(_ALL_NUMBER_WORDS, key=len, reverse=True)) + r")\b")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def number_values(token: str) -> set[Decimal]:
    """Every value a written number may mean: "1,000" is a thousand in English and one in
    French, "1.000" the reverse; "1 000,50" is 1000.5. Ambiguous spellings keep both, so a
    claim matches a passage that means either."""
    token = re.sub(_SPACE, " ", token)
    values: set[str] = set()
    if " " in token:
        head, _, tail = token.replace(" ", "").partition(",")
        values.add(f"{head.replace('.', '')}.{tail}" if tail else head.replace(".", ""))
    elif "," in token and "." in token:
        decimal = "," if token.rfind(",") > token.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        values.add(token.replace(thousands, "").replace(decimal, "."))
    elif "," in token or "." in token:
        sep = "," if "," in token else "."
        parts = token.split(sep)
        if all(len(p) == 3 for p in parts[1:]):
            values.add("".join(parts))  # thousands separators
        if len(parts) == 2:
            values.add(f"{parts[0]}.{parts[1]}")  # a decimal point or comma
    else:
        values.add(token)
    out = set()
    for v in values:
        try:
            out.add(Decimal(v).normalize())
        except InvalidOperation:
            continue
    return out


# --- extraction ----------------------------------------------------------------------------


@dataclass
class _Found:
    kind: str
    text: str
    start: int
    end: int
    values: set = field(default_factory=set)


def _extract(text: str, *, words_as_numbers: bool) -> list[_Found]:
    """The facts of `text` in order. Spans already taken (a URL, an e-mail, a phone, a date)
    are blanked before numbers are read, so "2020" in a date is not also a bare number."""
    found: list[_Found] = []
    work = text

    def take(match: re.Match, kind: str, values: set) -> None:
        nonlocal work
        written = match.group().strip().rstrip(".,;:!?") if kind == "url" else match.group().strip()
        found.append(_Found(kind, written, match.start(), match.end(), values))
        work = work[: match.start()] + " " * (match.end() - match.start()) + work[match.end() :]

    for m in list(_URL.finditer(work)):
        url = m.group().rstrip(".,;:!?")
        take(m, "url", {_url_key(url)})
    for m in list(_EMAIL.finditer(work)):
        take(m, "email", {m.group().lower()})
    for m in list(_DATE.finditer(work)):
        if dates := _date_values(m):
            take(m, "date", dates)
    for m in list(_PHONE.finditer(work)):
        digits = re.sub(r"\D", "", m.group())
        if len(digits) >= 7 and not _GROUPED_NUMBER.fullmatch(m.group().strip()):
            take(m, "phone", {digits})
    for m in list(_CITATION.finditer(work)) + list(_LIST_MARKER.finditer(work)):
        work = work[: m.start()] + " " * (m.end() - m.start()) + work[m.end() :]

    for m in _NUMBER.finditer(work):
        values = number_values(m.group())
        if not values:
            continue
        found.append(_classify(work, m.start(), m.end(), values))
    if words_as_numbers:
        for m in _NUMBER_WORD.finditer(work):
            values = {Decimal(_ALL_NUMBER_WORDS[m.group().lower()])}
            fact = _classify(work, m.start(), m.end(), values)
            found.append(fact)
    else:
        # A number word is a claim only with a unit ("thirty days", "ten percent"): alone,
        # "one" is more often a pronoun than a quantity.
        for m in _NUMBER_WORD.finditer(work):
            fact = _classify(work, m.start(), m.end(), {Decimal(_ALL_NUMBER_WORDS[m.group().lower()])})
            if fact.kind in ("percent", "duration", "amount"):
                found.append(fact)
    for m in _QUOTED.finditer(text):
        name = next(g for g in m.groups() if g)
        found.append(_Found("quote", name, m.start(), m.end(), {" ".join(_fold(name).split())}))
    return sorted(found, key=lambda f: f.start)


def _classify(text: str, start: int, end: int, values: set[Decimal]) -> _Found:
    before, after = text[max(0, start - 4) : start], text[end : end + 25]
    scale = re.match(rf"(?i)^{_SPACE}*({'|'.join(_SCALE)})\b", after)
    if scale:
        values = {v * _SCALE[scale.group(1).lower()] for v in values}
        end += scale.end()
        after = text[end : end + 25]
    symbol = re.search(r"(US\$|\$|€|£)\s?$", before)
    after_symbol = re.match(rf"^{_SPACE}*(€|\$|£)", after)
    after_word = re.match(rf"(?i)^{_SPACE}*([a-z]+)\b", after)
    currency = None
    if symbol:
        currency = _CURRENCY_SYMBOL[symbol.group(1)]
        start -= len(before) - symbol.start()
    elif after_symbol:
        currency = _CURRENCY_SYMBOL[after_symbol.group(1)]
        end += after_symbol.end()
    elif after_word and after_word.group(1).lower() in _CURRENCY_WORD:
        currency = _CURRENCY_WORD[after_word.group(1).lower()]
        end += after_word.end()
    if currency:
        return _Found("amount", text[start:end].strip(), start, end, {(v, currency) for v in values})
    if percent := _PERCENT_AFTER.match(after):
        return _Found("percent", text[start : end + percent.end()].strip(), start, end + percent.end(), values)
    if duration := _DURATION_AFTER.match(_fold(after)):
        family, factor = _DURATION_UNITS[duration.group(1)]
        return _Found(
            "duration",
            text[start : end + duration.end()].strip(),
            start,
            end + duration.end(),
            {(v * factor, family) for v in values},
        )
    return _Found("number", text[start:end].strip(), start, end, values)


def _date_values(m: re.Match) -> set[tuple[int | None, int | None, int | None]]:
    text = _fold(m.group())
    nums = [int(n) for n in re.findall(r"\d+", text)]
    month_name = next((_MONTHS[w] for w in re.findall(r"[a-z]+", text) if w in _MONTHS), None)
    out: set[tuple[int | None, int | None, int | None]] = set()
    if m.group("iso"):
        y, mo, d = nums
        out.add((y, mo, d))
    elif m.group("numeric"):
        a, b, y = nums
        y = y + 2000 if y < 100 else y
        out |= {(y, b, a), (y, a, b)}  # day/month or month/day: either is the same date
    elif month_name is not None:
        year = next((n for n in nums if n >= 1800), None)
        day = next((n for n in nums if n < 32), None)
        out.add((year, month_name, day))
    return {(y, mo, d) for y, mo, d in out if (mo is None or 1 <= mo <= 12) and (d is None or 1 <= d <= 31)}


def _url_key(url: str) -> str:
    url = url.lower().rstrip("/")
    url = re.sub(r"^https?://", "", url)
    return url.removeprefix("www.")


def _facts(texts: Iterable[str]) -> _Facts:
    facts = _Facts()
    folded = []
    for text in texts:
        folded.append(" ".join(_fold(text).split()))
        for f in _extract(text, words_as_numbers=True):
            if f.kind == "amount":
                facts.amounts |= f.values
                facts.numbers |= {v for v, _ in f.values}
            elif f.kind == "percent":
                facts.percents |= f.values
                facts.numbers |= f.values
            elif f.kind == "duration":
                facts.durations |= f.values
            elif f.kind == "number":
                facts.numbers |= f.values
            elif f.kind == "date":
                facts.dates |= f.values
            elif f.kind == "email":
                facts.emails |= f.values
            elif f.kind == "phone":
                facts.phones |= f.values
            elif f.kind == "url":
                facts.urls |= f.values
        # Every digit run counts as a number too (a year inside a date, a count inside a
        # phone-like list): a bare number in the answer is supported by any of them.
        for m in re.finditer(r"\d+(?:[.,]\d+)?", text):
            facts.numbers |= number_values(m.group())
    facts.text = "\n".join(folded)
    return facts


def _supported(found: _Found, facts: _Facts) -> bool:
    if found.kind == "number":
        return bool(found.values & facts.numbers) or any(v in {d for d, _ in facts.durations} for v in found.values)
    if found.kind == "amount":
        return any(
            (v, c) in facts.amounts or any(v == w and (c is None or d is None) for w, d in facts.amounts)
            for v, c in found.values
        )
    if found.kind == "percent":
        return bool(found.values & facts.percents)
    if found.kind == "duration":
        return bool(found.values & facts.durations)
    if found.kind == "date":
        return any(_date_matches(claim, known) for claim in found.values for known in facts.dates)
    if found.kind == "email":
        return bool(found.values & facts.emails)
    if found.kind == "phone":
        return any(_same_phone(p, known) for p in found.values for known in facts.phones)
    if found.kind == "url":
        return any(
            any(k == u or k.startswith(u + "/") or u.startswith(k + "/") for k in facts.urls) for u in found.values
        )
    if found.kind == "quote":
        return any(v in facts.text for v in found.values)
    return False


def _date_matches(claim, known) -> bool:
    """Every part the claim states is the passage's ("March 2020" is backed by "1 March 2020")."""
    return all(c is None or c == k for c, k in zip(claim, known))


def _same_phone(a: str, b: str) -> bool:
    """The same number with or without its country code: "+33 1 23 45 67 89" = "01 23 45 67 89"."""
    return a == b or (min(len(a), len(b)) >= 9 and a[-9:] == b[-9:])


def unsupported_claims(answer_text: str, passages: Sequence[Hit] | Sequence[str], question: str = "") -> list[Claim]:
    """The answer's checkable facts that neither the passages nor the question contain,
    in the order they appear. Ordinal list markers ("1.", "2)") and citation markers ("[1]")
    are not claims."""
    texts = [p if isinstance(p, str) else p.text for p in passages]
    facts = _facts([*texts, question])
    return [
        Claim(f.kind, f.text, f.start)
        for f in _extract(answer_text, words_as_numbers=False)
        if not _supported(f, facts)
    ]


# --- negation ------------------------------------------------------------------------------

_NEGATION = {
    "english": re.compile(r"(?i)\b(?:not|no|never|none|nor|neither|cannot|without|excluded?|n't)\b|n't\b"),
    "french": re.compile(r"(?i)\b(?:pas|jamais|aucun|aucune|ni|sans|nullement|exclus?|exclues?)\b"),
}
# Content stems two sentences must share before one can contradict the other, and the share
# of the answer sentence's stems that the passage sentence must hold.
MIN_SHARED = 3
MIN_OVERLAP = 0.7


@dataclass(frozen=True)
class Contradiction:
    sentence: str  # the answer's
    passage_sentence: str
    hit: Hit | None


def contradicted_sentences(
    answer_text: str, passages: Sequence[Hit] | Sequence[str], language: str | None = None
) -> list[Contradiction]:
    """Answer sentences that repeat a passage sentence with the opposite polarity ("does not
    cover X" where the passage says "X is covered"): the sentence of the passages that shares
    the most of its content words, if it shares enough, is negated in one and not in the
    other. Cheap and rough (it reads no scope: "not only" counts as a negation); measured in
    benchmarks/answer_correctness.py and off by default."""
    hits = [p if isinstance(p, Hit) else None for p in passages]
    texts = [p if isinstance(p, str) else p.text for p in passages]
    stemmer = {"en": "english", "fr": "french"}.get(language or "") or detect_language([*texts, answer_text])
    tokenize = Tokenizer(stemmer)
    negation = _NEGATION[stemmer]
    candidates = []
    for hit, text in zip(hits, texts):
        for paragraph in re.split(r"\n", text):
            for sentence in split_sentences(paragraph):
                stems = set(tokenize(negation.sub(" ", sentence)))
                if stems:
                    candidates.append((sentence, stems, bool(negation.search(sentence)), hit))
    out = []
    for line in answer_text.split("\n"):
        for sentence in split_sentences(line):
            stems = set(tokenize(negation.sub(" ", sentence)))
            if len(stems) < MIN_SHARED:
                continue
            best = max(candidates, key=lambda c: len(stems & c[1]), default=None)
            if best is None:
                continue
            shared = len(stems & best[1])
            if shared < MIN_SHARED or shared / len(stems) < MIN_OVERLAP:
                continue
            # Any equally close passage sentence of the same polarity backs the answer.
            ties = [c for c in candidates if len(stems & c[1]) == shared]
            negated = bool(negation.search(sentence))
            if all(c[2] != negated for c in ties):
                out.append(Contradiction(sentence, best[0], best[3]))
    return out
