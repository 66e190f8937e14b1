"""Review: the inbox of answers worth a look, with the conversation, the passages and their
scores, and the reviewer's actions (correct answer, add to a test set, mark reviewed)."""

import streamlit as st

from bots.schemas.review import REASONS
from builder import api, sign_in
from builder.i18n import t

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

st.header(t("page_review"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
st.caption(t("rev_intro"))

left, middle, right = st.columns(3)
reasons = left.multiselect(t("rev_reasons"), list(REASONS), key="rev_reasons")
channel = middle.selectbox(t("rev_channel"), ["", "api", "widget", "openai", "playground"], key="rev_channel")
language = right.selectbox(t("rev_language"), ["", "en", "fr"], key="rev_language")
inbox = api.attempt(client.review_inbox, bot.id, reason=reasons, channel=channel, language=language)
if inbox is None:
    st.stop()
st.caption(t("rev_count", total=inbox.total, scanned=inbox.scanned))
if not inbox.items:
    st.info(t("rev_empty"))
for item in inbox.items:
    similar = f" · {t('rev_similar', n=item.similar)}" if item.similar > 1 else ""
    with st.expander(f"{', '.join(item.reasons)}{similar} — {item.question[:100]}"):
        st.markdown(f"**{item.question}**\n\n{item.answer}")
        if item.feedback_comment:
            st.warning(item.feedback_comment)
        st.caption(f"{item.created_at} · {item.channel} · v{item.version or 'draft'} · {item.answered_by or ''}")
        if st.toggle(t("rev_conversation"), key=f"rev_conv_{item.message_id}"):
            detail = api.attempt(client.review_item, bot.id, item.message_id)
            for m in detail.conversation if detail else []:
                st.markdown(f"*{m.role}*: {m.content}")
        if item.passages:
            st.caption(t("rev_passages"))
            st.dataframe(
                [
                    # An unpaged source shows an empty cell, not "None".
                    {"source": p.source, "page": p.page or "", "dense": p.dense_score, "score": p.score}
                    for p in item.passages
                ],
                hide_index=True,
            )
            st.page_link("builder/pages/knowledge.py", label=t("rev_open_doc"), icon=":material/library_books:")
        # Collapsed: the prompt is long (instructions and passages); read when the passages
        # alone do not explain the answer.
        if st.toggle(t("rev_prompt"), key=f"rev_prompt_{item.message_id}"):
            if item.prompt_status == "no_model_call":
                st.info(t("rev_prompt_no_model_call"))
            elif not item.prompt:
                st.info(t("rev_prompt_not_recorded"))
            for p in item.prompt or []:
                st.caption(p.role)
                st.code(p.content, language=None, wrap_lines=True)
        with st.popover(t("rev_stored")):
            st.json(item.debug)
        with st.form(f"rev_correct_{item.message_id}"):
            answer = st.text_area(t("ans_answer"))
            sources = st.text_input(t("ans_sources"))
            if st.form_submit_button(t("rev_correct"), disabled=READ_ONLY):
                chosen = [{"source": s.strip()} for s in sources.split(",") if s.strip()]
                if api.attempt(client.review_correct, bot.id, item.message_id, answer, sources=chosen):
                    st.success(t("rev_done"))
        with st.form(f"rev_test_{item.message_id}"):
            set_name = st.text_input(t("page_tests"), "review")
            expected = st.selectbox(
                t("rev_expected_source"), [""] + sorted({p.source or "" for p in item.passages} - {""})
            )
            if st.form_submit_button(t("rev_test_set"), disabled=READ_ONLY):
                if api.attempt(client.review_test_case, bot.id, item.message_id, set_name, expected or None):
                    st.success(t("rev_done"))
        with st.form(f"rev_mark_{item.message_id}"):
            note = st.text_input(t("rev_note"))
            if st.form_submit_button(t("rev_mark"), disabled=READ_ONLY):
                if api.succeeded(client.review_mark, bot.id, item.message_id, note):
                    st.rerun()
