""" "Add to test set": one button, under an answer in the Playground or the Conversations page,
that turns the question into a test case, the bot's answer offered as its reference (edit it
before adding: the answer may be wrong, and a reference should be right). The server takes the
earlier turns of the conversation as the case's history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from bots.cli.client import AdminClient
from builder import api, sign_in
from builder.i18n import t

NEW_SET = "main"  # the set proposed when the bot has none yet


def add_to_test_set(
    client: AdminClient,
    bot_id: str,
    *,
    message_id: str,
    question: str,
    answer: str,
    sources: Sequence[str | None] = (),  # the cited documents (a citation may have no source)
) -> None:
    """Draw the button (a popover with the case's form) for the answer `message_id`."""
    if not sign_in.can_change():
        return  # adding a case is a change: a viewer is not offered the button
    popover = st.popover(t("att_button"), icon=":material/playlist_add:")
    with popover, st.form(f"att_form_{message_id}", clear_on_submit=False, border=False):
        names = _set_names(client, bot_id)
        chosen = st.selectbox(t("att_set"), names or [NEW_SET], key=f"att_set_{message_id}")
        new = st.text_input(t("att_new_set"), key=f"att_new_set_{message_id}", max_chars=200)
        asked = st.text_input(t("att_question"), question, key=f"att_question_{message_id}", max_chars=4000)
        reference = st.text_area(t("att_reference"), answer, key=f"att_reference_{message_id}", height=100)
        expected = st.text_input(
            t("att_sources"),
            " | ".join(dict.fromkeys(s for s in sources if s)),
            key=f"att_sources_{message_id}",
            help=t("att_sources_help"),
        )
        if st.form_submit_button(t("att_add"), key=f"att_add_{message_id}", type="primary"):
            case: dict = {"question": asked.strip()}
            if reference.strip():
                case["reference_answer"] = reference.strip()
            wanted = [s.strip() for s in expected.split("|") if s.strip()]
            if wanted:
                case["expected_sources"] = wanted
            added = api.attempt(client.add_test_case, bot_id, new.strip() or chosen or NEW_SET, case, message_id)
            if added:
                _set_names.clear()
                st.success(t("att_added", set=added.set, n=added.cases))


@st.cache_data(ttl=10, show_spinner=False)
def _set_names(_client: AdminClient, bot_id: str) -> list[str]:
    """The bot's set names, asked once for every answer on the page (not once per answer)."""
    listing = api.attempt(_client.test_sets, bot_id)
    return [s.name for s in listing.sets] if listing else []


def question_before(messages: Sequence[Any], answer: Any) -> str | None:
    """The customer's question an answer (a stored message) replied to, if there is one."""
    at = next((i for i, m in enumerate(messages) if m.id == answer.id), 0)
    return next((m.content for m in reversed(messages[:at]) if m.role == "user" and m.content), None)
