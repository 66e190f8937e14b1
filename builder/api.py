"""The builder's one way to the server: an AdminClient found from the environment, kept in the
session, and a call wrapper that turns server errors into sentences on the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from bots.cli.client import AdminClient, ClientError
from bots.schemas.bots import Bot
from builder import sign_in


def client() -> AdminClient:
    if "_admin_client" not in st.session_state:
        # Signed in as whoever builder/sign_in.py says: never the admin token by itself.
        st.session_state["_admin_client"] = sign_in.new_client()
    return st.session_state["_admin_client"]


def attempt(action: Callable[..., Any], *args, where=None, **kwargs) -> Any:
    """Run one admin call; on failure show the server's sentence instead of a traceback and
    return None, so a page can carry on drawing what it can."""
    try:
        return action(*args, **kwargs)
    except ClientError as err:
        (where or st).error(str(err))
        return None


def selected_bot() -> Bot | None:
    """The bot picked in the sidebar, fetched fresh so edits made elsewhere show."""
    bot_id = st.session_state.get("bot_id")
    if not bot_id:
        return None
    return attempt(client().bot, bot_id)


def succeeded(action: Callable[..., Any], *args, where=None, **kwargs) -> bool:
    """For calls whose success has no body (deletes): True when the server accepted it."""
    try:
        action(*args, **kwargs)
        return True
    except ClientError as err:
        (where or st).error(str(err))
        return False
