"""First-run setup: before the first bot, ask which model answers and let the person test it.

"First run" is known from the server and this browser session together: the server has no bot
yet and this session has not finished the setup (`st.session_state["setup_model"]` unset). The
choice is not stored on the server: provider settings belong to each bot (its spec), so the
choice becomes the model settings of the bots created in this session, and later changes are
made on the Settings page. A person who reloads the page before creating a bot is asked again,
which is still their first run.
"""

from __future__ import annotations

import streamlit as st

from builder import api
from builder.i18n import labeller, t

CHOICES = ["offline", "openai", "openai_compatible"]
SETUP_KEY = "setup_model"


def chosen_model() -> dict | None:
    """The model settings picked in the setup, for the spec of a new bot (None: not set up)."""
    return st.session_state.get(SETUP_KEY)


def needed(bots: list) -> bool:
    return not bots and SETUP_KEY not in st.session_state


def model_settings(choice: str, model: str, base_url: str, api_key: str) -> dict:
    """A ModelSettings dict for the spec. Offline is the bundled model with quoted answers."""
    if choice == "offline":
        return {"provider": "local"}
    settings: dict = {"provider": choice, "model": model.strip()}
    if choice == "openai_compatible":
        settings["base_url"] = base_url.strip()
    if api_key.strip():
        settings["api_key"] = api_key.strip()
    return settings


def show() -> None:
    """Draw the setup; a click on Continue stores the choice and reruns into the Bots page."""
    st.subheader(t("setup_title"))
    st.write(t("setup_intro"))
    choice = st.radio(
        t("setup_which_model"),
        CHOICES,
        format_func=labeller("setup_choice_", CHOICES),
        captions=[t(f"setup_choice_{c}_help") for c in CHOICES],
        key="setup_choice",
    )
    model = base_url = api_key = ""
    if choice == "openai":
        api_key = st.text_input(t("api_key"), type="password", key="setup_api_key", help=t("setup_openai_key_help"))
        model = st.text_input(t("model_name"), "gpt-4o-mini", key="setup_model_name")
    elif choice == "openai_compatible":
        base_url = st.text_input(
            t("base_url"), key="setup_base_url", placeholder="http://localhost:11434/v1", help=t("setup_base_url_help")
        )
        model = st.text_input(t("model_name"), key="setup_model_name", placeholder="llama3.2")
        api_key = st.text_input(t("api_key"), type="password", key="setup_api_key", help=t("setup_compatible_key_help"))
    settings = model_settings(choice, model, base_url, api_key)
    c1, c2 = st.columns(2)
    if choice == "offline":
        c1.caption(t("setup_nothing_to_test"))
    elif c1.button(t("setup_test"), key="setup_test", icon=":material/network_check:"):
        if choice == "openai_compatible" and not base_url.strip():
            st.error(t("setup_base_url_required"))
        else:
            with st.spinner(t("setup_testing")):
                result = api.attempt(api.client().test_provider, settings)
            if result and result.ok:
                st.success(t("setup_test_ok", model=result.model, ms=result.latency_ms))
                st.markdown(f"> {result.reply or t('setup_empty_reply')}")
            elif result:
                st.error(t("setup_test_failed"))
                st.code(result.error or "", language=None, wrap_lines=True)
    if c2.button(t("setup_continue"), key="setup_continue", type="primary"):
        if choice == "openai_compatible" and not base_url.strip():
            st.error(t("setup_base_url_required"))
        else:
            st.session_state[SETUP_KEY] = settings
            st.rerun()
