"""Persona: every persona field with advice, a templates library, the exact system prompt."""

import copy
import difflib

import streamlit as st
import yaml
from pydantic import ValidationError

from bots.core.phrases import fallback_message as builtin_fallback
from bots.core.prompting import system_prompt_preview
from bots.core.spec import BotSpec
from builder import api, sign_in, templates
from builder.i18n import labeller, t, ui_language

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()


def normalized(value: dict) -> dict:
    """Specs compare equal when the server would store the same thing (defaults filled in)."""
    try:
        return BotSpec.model_validate(value).redacted()
    except ValidationError:
        return value


st.header(t("page_persona"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
bid = bot.id
raw = {**copy.deepcopy(bot.spec), "name": bot.name}
# Fields are drawn from the spec with defaults filled in; what is saved is the stored spec with
# only this page's parts replaced, so nothing else (a provider key) goes back in masked form.
spec = normalized(raw)
# Applying a template or saving bumps the revision so every field redraws from the stored spec.
rev = st.session_state.setdefault(f"persona_rev_{bid}", 0)
key = lambda field: f"p_{field}_{bid}_{rev}"  # noqa: E731
draft_key = f"persona_draft_{bid}"

with st.expander(t("templates_library")):
    choices = templates.titles(ui_language())
    chosen = st.selectbox(t("template"), list(choices), format_func=choices.__getitem__, key=f"tpl_pick_{bid}")
    tpl_lang = st.radio(
        t("template_language"),
        ["en", "fr"],
        horizontal=True,
        key=f"tpl_lang_{bid}",
        format_func=labeller("lang_", ["en", "fr"]),
        index=1 if (spec.get("language") or {}).get("language") == "fr" else 0,
    )
    st.caption(t("template_apply_help"))
    if st.button(t("apply_template"), key=f"tpl_apply_{bid}", disabled=READ_ONLY):
        if api.attempt(client.update_bot, bid, spec=templates.apply_to(raw, chosen, tpl_lang or "en")):
            st.session_state.pop(draft_key, None)
            st.session_state[f"persona_rev_{bid}"] = rev + 1
            st.rerun()

# Edits not yet saved are kept in the session (per bot), so leaving the page loses nothing:
# coming back shows them again, with the warning and the Save and Discard buttons.
shown = normalized(st.session_state[draft_key]) if draft_key in st.session_state else spec
persona = shown.get("persona") or {}
fallback = shown.get("fallback") or {}
handoff = fallback.get("handoff") or {}
policy = shown.get("language") or {}

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(t("who_section"))
    role = st.text_input(t("role"), persona.get("role", ""), key=key("role"), help=t("role_help"))
    company = st.text_input(t("company"), persona.get("company", ""), key=key("company"), help=t("company_help"))
    tone = st.text_input(t("tone"), persona.get("tone", ""), key=key("tone"), help=t("tone_help"))
    # The one place for the first message: an older spec's widget welcome (set on the Publish
    # page before) is what customers see, so it is shown here and saved as the greeting.
    greeting = st.text_area(
        t("greeting"),
        (shown.get("widget") or {}).get("welcome") or persona.get("greeting", ""),
        key=key("greeting"),
        height=80,
        help=t("greeting_help"),
    )
    st.subheader(t("how_section"))
    instructions = st.text_area(
        t("instructions"),
        persona.get("instructions", ""),
        key=key("instructions"),
        height=160,
        help=t("instructions_help"),
    )
    rules = st.text_area(
        t("rules"), "\n".join(persona.get("rules") or []), key=key("rules"), height=140, help=t("rules_help")
    )
    st.subheader(t("language_section"))
    mode = st.radio(
        t("language_mode"),
        ["auto", "fixed"],
        horizontal=True,
        key=key("lang_mode"),
        index=0 if policy.get("mode", "auto") == "auto" else 1,
        format_func=labeller("language_mode_", ["auto", "fixed"]),
        help=t("language_mode_help"),
    )
    language = st.selectbox(
        t("answer_language"),
        ["en", "fr"],
        key=key("lang"),
        index=1 if policy.get("language") == "fr" else 0,
        format_func=labeller("lang_", ["en", "fr"]),
        help=t("answer_language_help"),
    )
    st.subheader(t("fallback_section"))
    fallback_message = st.text_area(
        t("fallback_message"),
        fallback.get("message", ""),
        key=key("fallback"),
        height=80,
        help=t("fallback_help"),
        placeholder=t("fallback_placeholder"),
    )
    small_talk = st.checkbox(
        t("small_talk"), fallback.get("allow_small_talk", False), key=key("small_talk"), help=t("small_talk_help")
    )
    handoff_on = st.checkbox(
        t("handoff_enabled"), handoff.get("enabled", False), key=key("handoff_on"), help=t("handoff_help")
    )
    kinds = ["form", "contact"]
    handoff_kind = st.radio(
        t("handoff_kind"),
        kinds,
        horizontal=True,
        key=key("handoff_kind"),
        index=kinds.index(handoff.get("kind", "form")),
        disabled=not handoff_on,
        format_func=labeller("handoff_kind_", kinds),
    )
    handoff_label = st.text_input(
        t("handoff_label"), handoff.get("label", ""), key=key("handoff_label"), disabled=not handoff_on
    )
    handoff_contact = st.text_input(
        t("handoff_contact"),
        handoff.get("contact", ""),
        key=key("handoff_contact"),
        disabled=not handoff_on or handoff_kind != "contact",
        help=t("handoff_contact_help"),
    )

draft = copy.deepcopy(raw)
draft["persona"] = {
    **persona,
    "role": role,
    "company": company,
    "tone": tone,
    "greeting": greeting,
    "instructions": instructions,
    "rules": [r.strip() for r in rules.splitlines() if r.strip()],
}
draft["fallback"] = {
    **fallback,
    "message": fallback_message,
    "allow_small_talk": small_talk,
    "handoff": {
        **handoff,
        "enabled": handoff_on,
        "kind": handoff_kind,
        "label": handoff_label,
        "contact": handoff_contact,
    },
}
draft["language"] = {"mode": mode, "language": language}
if (raw.get("widget") or {}).get("welcome"):
    draft["widget"] = {**raw["widget"], "welcome": ""}

with right:
    st.subheader(t("prompt_preview"))
    st.caption(t("prompt_preview_help"))
    try:
        # The answering core's own function: the preview is the prompt, not an imitation of it.
        model = BotSpec.model_validate(draft)
        st.code(
            system_prompt_preview(model, fallback_text=builtin_fallback(model, model.language.language)),
            language=None,
            wrap_lines=True,
        )
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()[:5])
        st.error(t("draft_invalid", problems=problems))

with left:
    unsaved = normalized(draft) != normalized(spec)
    if unsaved:
        st.session_state[draft_key] = draft
        st.warning(t("unsaved_changes_kept"), icon=":material/edit_note:")
    else:
        st.session_state.pop(draft_key, None)
    b1, b2 = st.columns([1, 3])
    if b2.button(t("discard_changes"), key=f"persona_discard_{bid}", disabled=not unsaved):
        st.session_state.pop(draft_key, None)
        st.session_state[f"persona_rev_{bid}"] = rev + 1
        st.rerun()
    if b1.button(t("save_persona"), type="primary", key=f"persona_save_{bid}", disabled=READ_ONLY or not unsaved):
        if api.attempt(client.update_bot, bid, spec=draft):
            st.session_state.pop(draft_key, None)
            st.session_state[f"persona_rev_{bid}"] = rev + 1
            st.toast(t("saved"))
            st.rerun()

published = api.attempt(client.specs, bid)
if published:
    with st.expander(
        t("diff_title", version=published.published_version) if published.published else t("page_publish")
    ):
        if not published.published:
            st.info(t("diff_none"))
        else:

            def lines(value: dict) -> list[str]:
                return yaml.safe_dump(value, allow_unicode=True, sort_keys=True, width=100).splitlines()

            diff = list(
                difflib.unified_diff(
                    lines(published.published), lines(normalized(draft)), "published", "draft", lineterm="", n=2
                )
            )
            if diff:
                st.code("\n".join(diff), language="diff")
            else:
                st.success(t("diff_same"))
