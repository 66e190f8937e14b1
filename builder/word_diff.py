"""Two answers side by side with the words removed and added marked: the answers are model or
document text a customer sees, so every word goes through escape_markdown and only our own
colour markers are Markdown."""

from __future__ import annotations

import difflib

from builder.plain_text import escape_markdown

REMOVED = ":red-background[{}]"
ADDED = ":green-background[{}]"


def word_diff(before: str, after: str) -> tuple[str, str]:
    """Markdown for the two answers: words only in `before` on red, words only in `after` on
    green. Compared word by word (not by character): a reworded answer reads as whole words
    swapped, which is what a reviewer looks for."""
    old, new = before.split(), after.split()
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        removed = escape_markdown(" ".join(old[i1:i2]))
        added = escape_markdown(" ".join(new[j1:j2]))
        if op == "equal":
            left.append(removed)
            right.append(added)
            continue
        if removed:
            left.append(REMOVED.format(removed))
        if added:
            right.append(ADDED.format(added))
    return " ".join(left), " ".join(right)
