"""Bots: the list, creating from a template or from scratch, duplicate, delete, YAML import/export."""

from datetime import UTC, datetime, timedelta

import streamlit as st
import yaml

from builder import api, bot_path, first_run, sign_in, templates
from builder.i18n import labeller, t, ui_language

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

st.header(t("page_bots"))
client = api.client()
bots = api.attempt(client.bots)
if bots is None:
    st.stop()
if first_run.needed(bots):
    first_run.show()
    st.stop()


def select(bot_id: str | None) -> None:
    st.session_state["_select_bot"] = bot_id
    st.rerun()


with st.expander(t("create_bot"), expanded=not bots), st.form("create_form", clear_on_submit=False):
    name = st.text_input(t("bot_name"), key="create_name", placeholder=t("bot_name_placeholder"))
    language = st.selectbox(
        t("bot_language"),
        ["en", "fr"],
        key="create_language",
        format_func=labeller("lang_", ["en", "fr"]),
        help=t("bot_language_help"),
    )
    choices = {"": t("from_scratch"), **templates.titles(ui_language())}
    template = st.selectbox(
        t("template"), list(choices), format_func=choices.__getitem__, key="create_template", help=t("template_help")
    )
    if st.form_submit_button(t("create"), type="primary", key="create_submit", disabled=READ_ONLY):
        if not name.strip():
            st.error(t("name_required"))
        else:
            spec: dict = (
                templates.spec_from(template, language, name.strip())
                if template
                else {"name": name.strip(), "language": {"mode": "fixed", "language": language}}
            )
            if chosen := first_run.chosen_model():
                # The model picked in the first-run setup, over the template's (they set none today).
                spec["model"] = {**dict(spec.get("model") or {}), **chosen}
            created = api.attempt(client.create_bot, name.strip(), language, spec)
            if created:
                st.toast(t("bot_created", name=created.name))
                select(created.id)

with st.expander(t("import_yaml")):
    upload = st.file_uploader(t("import_yaml_help"), type=["yaml", "yml"], key="import_file")
    if upload and st.button(t("import"), key="import_button", disabled=READ_ONLY):
        try:
            data = yaml.safe_load(upload.getvalue())
            if not isinstance(data, dict) or not str(data.get("name") or "").strip():
                raise ValueError
        except (yaml.YAMLError, ValueError, UnicodeDecodeError):
            st.error(t("import_invalid", name=upload.name))
        else:
            spec = dict(data.get("spec") or {})
            spec.setdefault("name", data["name"])
            extra = {"embedding_model": data["embedding_model"]} if data.get("embedding_model") else {}
            created = api.attempt(
                client.create_bot, str(data["name"]), str(data.get("language") or "en"), spec, **extra
            )
            if created:
                select(created.id)

if not bots:
    st.info(t("no_bots_yet"))
    st.stop()

week_ago = (datetime.now(UTC) - timedelta(days=7)).replace(tzinfo=None).isoformat()


def conversations_this_week(bot_id: str) -> int | None:
    days = api.attempt(client.stats, bot_id, since=week_ago)
    return None if days is None else sum(d.conversations for d in days.days)


rows = [
    {
        t("col_name"): b.name,
        t("col_id"): b.id,
        t("col_language"): b.language,
        t("col_status"): t("status_published", version=b.published_version)
        if b.published_version
        else t("status_draft"),
        t("col_documents"): b.documents,
        t("col_chunks"): b.chunks,
        t("col_conversations"): conversations_this_week(b.id),
        t("col_updated"): b.updated_at[:16].replace("T", " "),
    }
    for b in bots
]
st.dataframe(rows, hide_index=True, width="stretch", key="bots_table")

bot = next((b for b in bots if b.id == st.session_state.get("bot_id")), bots[0])
st.subheader(t("selected_bot", name=bot.name))
bot_path.show(bot)
c1, c2, c3 = st.columns(3)
with c1:
    if st.button(t("duplicate"), key="duplicate", help=t("duplicate_help"), disabled=READ_ONLY):
        spec = dict(bot.spec, name=t("copy_of", name=bot.name))
        copy = api.attempt(
            client.create_bot,
            t("copy_of", name=bot.name),
            bot.language,
            spec,
            embedding_model=bot.embedding_model,
        )
        if copy:
            select(copy.id)
with c2:
    exported = {
        "name": bot.name,
        "language": bot.language,
        "embedding_model": bot.embedding_model,
        "spec": bot.spec,
    }
    st.download_button(
        t("export_yaml"),
        yaml.safe_dump(exported, allow_unicode=True, sort_keys=False),
        file_name=f"{bot.name}.yaml",
        mime="application/yaml",
        key="export",
        help=t("export_help"),
    )
with c3:
    confirm = st.checkbox(t("delete_confirm", name=bot.name), key=f"delete_confirm_{bot.id}")
    if st.button(t("delete_bot"), key="delete", disabled=READ_ONLY or not confirm, type="secondary"):
        if api.succeeded(client.delete_bot, bot.id):
            select(None)
