"""How the builder names a passage or a citation: its document, and its page when it has one."""

from bots.schemas.answers import Citation
from bots.schemas.playground import DebugHit


def source_label(item: Citation | DebugHit) -> str:
    return (item.source or "?") + (f" p. {item.page}" if item.page else "")
