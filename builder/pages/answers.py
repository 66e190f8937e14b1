"""Answers: the bot's corrected answers (list, search, add, edit, disable, delete, hit counts,
last used) and their CSV import/export."""

import streamlit as st

from builder import api, sign_in
from builder.i18n import t

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

st.header(t("page_answers"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
st.caption(t("ans_intro"))


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


with st.expander(t("ans_add")), st.form("ans_add_form", clear_on_submit=True):
    question = st.text_input(t("ans_question"))
    answer = st.text_area(t("ans_answer"))
    paraphrases = st.text_area(t("ans_paraphrases"))
    sources = st.text_area(t("ans_sources"))
    if st.form_submit_button(t("ans_save"), disabled=READ_ONLY):
        added = api.attempt(client.add_corrected_answer, bot.id, question, answer, lines(paraphrases), lines(sources))
        if added:
            st.success(t("ans_saved"))

with st.expander(t("ans_csv")):
    csv_text = api.attempt(client.export_corrected_answers_csv, bot.id)
    if csv_text is not None:
        st.download_button(t("ans_export"), csv_text, file_name=f"{bot.id}-corrected-answers.csv", mime="text/csv")
    upload = st.file_uploader(t("ans_import"), type=["csv"], key="ans_csv_upload")
    if upload is not None and st.button(t("ans_import"), key="ans_csv_go", disabled=READ_ONLY):
        try:
            text = upload.getvalue().decode("utf-8-sig")
        except UnicodeDecodeError:
            st.error("The file is not UTF-8 text.")
        else:
            result = api.attempt(client.import_corrected_answers_csv, bot.id, text)
            if result:
                st.success(t("ans_imported", created=result.created, updated=result.updated))

search = st.text_input(t("ans_search"), key="ans_search")
rows = api.attempt(client.corrected_answers, bot.id, search) or []
if not rows:
    st.info(t("ans_none"))
for row in rows:
    title = ("" if row.enabled else "⏸ ") + row.question
    with st.expander(title):
        st.caption(t("ans_hits", hits=row.hit_count, last=row.last_used_at or t("ans_never")))
        with st.form(f"ans_edit_{row.id}"):
            question = st.text_input(t("ans_question"), row.question)
            answer = st.text_area(t("ans_answer"), row.answer)
            paraphrases = st.text_area(t("ans_paraphrases"), "\n".join(row.paraphrases))
            sources = st.text_area(t("ans_sources"), "\n".join(s.source for s in row.sources))
            enabled = st.checkbox(t("ans_enabled"), row.enabled)
            if st.form_submit_button(t("ans_save"), disabled=READ_ONLY):
                kept_pages = {s.source: s.page for s in row.sources}
                edited = api.attempt(
                    client.edit_corrected_answer,
                    bot.id,
                    row.id,
                    question=question,
                    answer=answer,
                    paraphrases=lines(paraphrases),
                    sources=[{"source": s, "page": kept_pages.get(s)} for s in lines(sources)],
                    enabled=enabled,
                )
                if edited:
                    st.success(t("ans_saved"))
        if st.button(t("ans_delete"), key=f"ans_delete_{row.id}", disabled=READ_ONLY):
            if api.succeeded(client.delete_corrected_answer, bot.id, row.id):
                st.rerun()
