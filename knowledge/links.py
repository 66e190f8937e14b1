"""Markdown links, as loaders write them, the widget renders them and models echo them."""

from __future__ import annotations

import re

# `[text](address)` or `![alt](address)`, with an optional `<address>` and "title".
# Groups: 1 "!" for an image, 2 the words, 3 the address.
MARKDOWN_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^()\s>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")


def link_words(text: str) -> str:
    """The text with every Markdown link or image reduced to its words."""
    return MARKDOWN_LINK.sub(r"\2", text)
