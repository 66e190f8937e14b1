"""Which language a customer writes in: a cheap French/English guess from function words,
enough to tell the model which language to answer in without a detection library."""
from __future__ import annotations

import re

NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
         "nl": "Dutch", "pt": "Portuguese"}

_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœæ']+")
_FR = frozenset(
    "le la les un une des du de est sont je tu il elle nous vous ils elles mon ma mes ton ta "
    "votre vos notre nos ce cette ces que qui quoi quel quelle quels quelles comment pourquoi "
    "où quand avec pour dans sur pas ne et ou mais combien puis peux peut faut bonjour merci "
    "oui non au aux en y a ai avez été être avoir fait faire j' l' d' qu' n' c' s' m' "
    "salut svp s'il plait".split()
)
_EN = frozenset(
    "the a an is are was were i you he she we they my your our their this that these those "
    "what which who how why where when with for in on of not and or but can could do does "
    "did have has had be been will would should to it hello hi thanks thank please yes no "
    "from at by any there".split()
)
# Letters that English practically never uses: strong evidence on short messages.
_FR_LETTERS = set("àâçéèêëîïôùûœ")


def detect_language(text: str) -> str | None:
    """'fr', 'en', or None when there is no evidence either way."""
    lowered = text.lower().replace("’", "'")
    words = _WORD.findall(lowered)
    # Elisions ("l'adresse") count as the French article they start with.
    tokens = [w.split("'")[0] + "'" if "'" in w[:3] else w for w in words]
    fr = sum(t in _FR for t in tokens) + 2 * sum(ch in _FR_LETTERS for ch in lowered)
    en = sum(t in _EN for t in tokens)
    if fr == en:
        return None
    return "fr" if fr > en else "en"


def language_name(code: str) -> str:
    return NAMES.get(code, code)
