"""Prompteur's builder UI: `streamlit run streamlit_app.py` (or `make run`, which also starts
the server). The sidebar holds the language switch and the bot picker; pages read both from
st.session_state."""

import streamlit as st

from bots.core.roles import Role
from builder import api, sign_in
from builder.i18n import LANGUAGES, default_language, t

st.set_page_config(page_title="Prompteur", page_icon=":material/forum:", layout="wide")

if "lang" not in st.session_state:
    st.session_state["lang"] = default_language()

# Team use: nobody sees a page before signing in (builder/sign_in.py draws the sign-in page).
signed_in = sign_in.require(api.client())

with st.sidebar:
    st.segmented_control(
        t("interface_language"),
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key="lang",
        selection_mode="single",
    )
    if not st.session_state.get("lang"):
        # A second click on the selected option clears it; keep the interface in a language.
        st.session_state["lang"] = default_language()
    bots = api.attempt(api.client().bots) or []
    ids = [b.id for b in bots]
    names = {b.id: b.name for b in bots}
    if "_select_bot" in st.session_state:
        # Pages ask for a bot to be selected (after creating one) through this key, because a
        # widget's own key cannot be written once the widget is drawn in the same run.
        st.session_state["bot_id"] = st.session_state.pop("_select_bot")
    if st.session_state.get("bot_id") not in ids:
        st.session_state["bot_id"] = ids[0] if ids else None
    if ids:
        st.selectbox(t("current_bot"), options=ids, format_func=lambda i: f"{names[i]} · {i}", key="bot_id")
    else:
        st.caption(t("no_bots_yet"))
    # Persona edits not saved yet (kept by the Persona page): said on every page until saved.
    if any(k.startswith("persona_draft_") for k in st.session_state):
        st.warning(t("unsaved_persona_sidebar"), icon=":material/edit_note:")
    st.divider()
    st.caption(t("signed_in_as", name=signed_in.user.name, role=t(f"role_{signed_in.user.role}")))
    if st.button(t("sign_out"), key="sign_out", icon=":material/logout:"):
        sign_in.sign_out(api.client())
        st.rerun()

if signed_in.user.role == Role.VIEWER:
    st.info(t("viewer_read_only"), icon=":material/visibility:")

pages = [
    st.Page("builder/pages/bots.py", title=t("page_bots"), icon=":material/smart_toy:", url_path="bots", default=True),
    st.Page("builder/pages/persona.py", title=t("page_persona"), icon=":material/theater_comedy:", url_path="persona"),
    st.Page(
        "builder/pages/knowledge.py", title=t("page_knowledge"), icon=":material/library_books:", url_path="knowledge"
    ),
    st.Page("builder/pages/playground.py", title=t("page_playground"), icon=":material/chat:", url_path="playground"),
    st.Page("builder/pages/tests.py", title=t("page_tests"), icon=":material/fact_check:", url_path="tests"),
    st.Page("builder/pages/publish.py", title=t("page_publish"), icon=":material/rocket_launch:", url_path="publish"),
    st.Page(
        "builder/pages/conversations.py",
        title=t("page_conversations"),
        icon=":material/forum:",
        url_path="conversations",
    ),
    st.Page("builder/pages/analytics.py", title=t("page_analytics"), icon=":material/insights:", url_path="analytics"),
    st.Page("builder/pages/settings.py", title=t("page_settings"), icon=":material/settings:", url_path="settings"),
    # Corrected answers and the review inbox (issue #14)
    st.Page("builder/pages/answers.py", title=t("page_answers"), icon=":material/task_alt:", url_path="answers"),
    st.Page("builder/pages/review.py", title=t("page_review"), icon=":material/inbox:", url_path="review"),
    # Team use (issue #15, item 10): your account and tokens; people and the audit log for owners
    st.Page("builder/pages/team.py", title=t("page_team"), icon=":material/group:", url_path="team"),
]
st.navigation(pages).run()
