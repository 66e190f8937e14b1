"""A bot's path from new to live: persona → knowledge → try it → publish, each step done or
left, with a link to the page that does it. Shown on the Bots page for the selected bot, so
that after creating one the next step is in sight."""

from __future__ import annotations

import streamlit as st

from bots.core.spec import Persona
from bots.schemas.bots import Bot
from builder import api
from builder.i18n import t

STEPS = [
    ("persona", "builder/pages/persona.py", ":material/theater_comedy:"),
    ("knowledge", "builder/pages/knowledge.py", ":material/library_books:"),
    ("try", "builder/pages/playground.py", ":material/chat:"),
    ("publish", "builder/pages/publish.py", ":material/rocket_launch:"),
]


def done_steps(bot: Bot) -> dict[str, bool]:
    """Which steps this bot has done, from what the server knows of it."""
    persona = bot.spec.get("persona") or {}
    default = Persona()
    # Told who it is: any persona field moved from the defaults (a template fills them).
    persona_done = bool(persona.get("company") or persona.get("instructions") or persona.get("rules")) or (
        persona.get("role", default.role) != default.role
    )
    tried = api.attempt(api.client().conversations, bot.id, limit=1, channel="playground")
    return {
        "persona": persona_done,
        "knowledge": bot.chunks > 0,
        "try": bool(tried and tried.total),
        "publish": bot.published_version is not None,
    }


def show(bot: Bot) -> None:
    done = done_steps(bot)
    left = [name for name, *_ in STEPS if not done[name]]
    st.markdown("**" + (t("path_all_done") if not left else t("path_next", step=t(f"path_{left[0]}"))) + "**")
    for column, (name, page, icon) in zip(st.columns(len(STEPS)), STEPS):
        with column:
            mark = ":material/check_circle:" if done[name] else ":material/radio_button_unchecked:"
            st.page_link(page, label=f"{t(f'path_{name}')}", icon=icon)
            st.caption(f"{mark} " + (t("path_done") if done[name] else t("path_left")))
