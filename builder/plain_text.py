"""Customer text shown as text: the builder's Markdown would turn a customer's
`![x](https://tracker.example/p.png)` into an image that the support lead's browser loads
(telling an outsider who reads the log, and when), and `[x](...)` into a live link."""

from __future__ import annotations

import re

# Every ASCII punctuation character Markdown (and Streamlit's extensions: :icons:, :color[],
# $math$) can give a meaning to; CommonMark shows a backslash-escaped one as itself.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=\"'])")


def escape_markdown(text: str) -> str:
    """`text` for st.markdown/st.info/st.caption, shown exactly as written."""
    return _MARKUP.sub(r"\\\1", text)
