"""Settings of the selected bot: model provider and key, default model, how answers are written
(style, length, fact check), embedding model, limits."""

import copy

import streamlit as st

from bots.core.spec import RetrievalSettings
from builder import api, sign_in
from builder.i18n import labeller, t

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

ANSWER_STYLES = ["auto", "extractive", "generative"]
GUARDS = ["replace", "flag", "off"]


def demo_quality(model: dict, answer: dict) -> bool:
    """The bundled 135M model writes this bot's answers (the style the answering core picks,
    AnswerSettings.effective_style): fine for a demo, not for customers."""
    bundled = model.get("provider", "local") == "local" and not model.get("base_url")
    return bundled and (answer.get("style") or "extractive") == "generative"


def calibrated_threshold(embedding_model: str) -> float:
    """What the answering core uses when the bot sets no threshold of its own."""
    return RetrievalSettings().threshold_for(embedding_model)


st.header(t("page_settings"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
# What this server offers and allows (its PROMPTEUR_* settings), asked rather than assumed.
server = api.attempt(client.server_settings)
# Without an answer (its error is shown) the page still edits what the bot already uses.
EMBEDDING_MODELS = server.embedding_models if server else [bot.embedding_model]
PROVIDERS = server.providers if server else ["local"]
spec = copy.deepcopy(bot.spec)
model = spec.get("model") or {}
retrieval = spec.get("retrieval") or {}
answer = spec.get("answer") or {}
bid = bot.id
# Saving bumps this so the typed provider key leaves the page (and the browser) at once.
key_rev = st.session_state.setdefault(f"set_key_rev_{bid}", 0)

if demo_quality(model, answer):
    st.badge(t("demo_quality"), icon=":material/science:", color="orange", help=t("demo_quality_help"))
    st.caption(t("demo_quality_help"))
st.subheader(t("general"))
name = st.text_input(t("bot_name"), bot.name, key=f"set_name_{bid}")
st.subheader(t("model_section"))
# Outside the form: the fields below depend on it (a base URL only where one is used).
provider = st.selectbox(
    t("provider"),
    PROVIDERS,
    index=PROVIDERS.index(model.get("provider", "local")),
    format_func=labeller("provider_", PROVIDERS),
    key=f"set_provider_{bid}",
    help=t("provider_help"),
)
# An OpenAI-compatible server needs its address; OpenAI and the bundled model show the field
# only when the bot already has one (a proxy or a separate llama.cpp), so it can be changed.
show_base_url = provider == "openai_compatible" or bool(model.get("base_url"))
with st.form(f"settings_{bid}"):
    model_name = st.text_input(
        t("model_name"), model.get("model", ""), key=f"set_model_{bid}", help=t("model_name_help")
    )
    base_url = (
        st.text_input(
            t("base_url"),
            model.get("base_url") or "",
            key=f"set_base_url_{bid}",
            placeholder="http://localhost:11434/v1",
            help=t("base_url_help"),
        )
        if show_base_url
        else ""
    )
    has_key = bool(model.get("api_key"))
    new_key, remove_key = "", False
    # The bundled model takes no key: the field shows there only to remove one left behind.
    if provider != "local" or has_key:
        new_key = st.text_input(
            t("api_key"),
            type="password",
            key=f"set_key_{bid}_{key_rev}",
            placeholder=t("api_key_saved") if has_key else t("api_key_none"),
            help=t("api_key_help"),
        )
        remove_key = st.checkbox(t("api_key_remove"), key=f"set_key_remove_{bid}", disabled=not has_key)
    c1, c2 = st.columns(2)
    temperature = c1.slider(
        t("temperature"),
        0.0,
        2.0,
        float(model.get("temperature", 0.2)),
        0.05,
        key=f"set_temp_{bid}",
        help=t("temperature_help"),
    )
    max_tokens = c2.number_input(
        t("max_tokens"),
        1,
        8192,
        int(model.get("max_tokens", 256)),
        key=f"set_max_tokens_{bid}",
        help=t("max_tokens_help"),
    )
    context_window = c1.number_input(
        t("context_window"),
        512,
        2_000_000,
        model.get("context_window"),
        key=f"set_ctx_{bid}",
        help=t("context_window_help"),
        placeholder=t("automatic"),
    )
    # Empty: the provider's default (120 s for the bundled model on a small machine, 30 s others).
    timeout_s = c2.number_input(
        t("timeout"),
        1.0,
        600.0,
        model.get("timeout_s"),
        key=f"set_timeout_{bid}",
        placeholder=t("automatic"),
        help=t("timeout_help"),
    )
    st.subheader(t("answers_section"))
    c5, c6 = st.columns(2)
    style = c5.selectbox(
        t("answer_style"),
        ANSWER_STYLES,
        index=ANSWER_STYLES.index(answer.get("style") or "auto"),
        format_func=labeller("answer_style_", ANSWER_STYLES),
        key=f"set_answer_style_{bid}",
        help=t("answer_style_help"),
    )
    guard = c6.selectbox(
        t("answer_guard"),
        GUARDS,
        index=GUARDS.index(answer.get("guard", "replace")),
        format_func=labeller("answer_guard_", GUARDS),
        key=f"set_answer_guard_{bid}",
        help=t("answer_guard_help"),
    )
    max_chars = c5.number_input(
        t("answer_max_chars"),
        100,
        4000,
        int(answer.get("max_chars", 700)),
        step=50,
        key=f"set_answer_max_chars_{bid}",
        help=t("answer_max_chars_help"),
    )
    st.subheader(t("retrieval_section"))
    embedding = st.selectbox(
        t("embedding_model"),
        EMBEDDING_MODELS,
        index=EMBEDDING_MODELS.index(bot.embedding_model) if bot.embedding_model in EMBEDDING_MODELS else 0,
        key=f"set_embedding_{bid}",
        help=t("embedding_help"),
    )
    c3, c4 = st.columns(2)
    k = c3.number_input(
        t("retrieval_k"), 1, 20, int(retrieval.get("k", 5)), key=f"set_k_{bid}", help=t("retrieval_k_help")
    )
    stored_threshold = retrieval.get("min_relevance")
    min_relevance = c4.number_input(
        t("min_relevance"),
        -1.0,
        1.0,
        float(stored_threshold if stored_threshold is not None else calibrated_threshold(bot.embedding_model)),
        0.01,
        key=f"set_minrel_{bid}",
        help=t("min_relevance_help"),
    )
    auto_threshold = c4.checkbox(
        t("min_relevance_auto"),
        stored_threshold is None,
        key=f"set_minrel_auto_{bid}",
        help=t("min_relevance_auto_help"),
    )
    b1, b2 = st.columns([1, 4])
    saved = b1.form_submit_button(t("save"), type="primary", key=f"settings_save_{bid}", disabled=READ_ONLY)
    tested = b2.form_submit_button(
        t("settings_test"), key=f"settings_test_{bid}", icon=":material/network_check:", disabled=provider == "local"
    )

if tested:
    # What the form holds now, unsaved; the saved key stands in when no new one is typed.
    trial = {
        "provider": provider,
        "model": model_name.strip(),
        "base_url": base_url.strip() or None,
        "timeout_s": float(timeout_s) if timeout_s else None,
        "api_key": new_key.strip() or (model.get("api_key") if not remove_key else None),
    }
    with st.spinner(t("setup_testing")):
        result = api.attempt(client.test_provider, trial, bot_id=bid)
    if result and result.ok:
        st.success(t("setup_test_ok", model=result.model, ms=result.latency_ms))
        st.markdown(f"> {result.reply or t('setup_empty_reply')}")
    elif result:
        st.error(t("setup_test_failed"))
        st.code(result.error or "", language=None, wrap_lines=True)

if saved:
    model.update(
        provider=provider,
        model=model_name.strip(),
        base_url=base_url.strip() or None,
        temperature=temperature,
        max_tokens=int(max_tokens),
        context_window=int(context_window) if context_window else None,
        timeout_s=float(timeout_s) if timeout_s else None,
    )
    if remove_key:
        model["api_key"] = ""
    elif new_key.strip():
        model["api_key"] = new_key.strip()
    spec.update(
        name=name.strip() or bot.name,
        model=model,
        answer={**answer, "style": None if style == "auto" else style, "guard": guard, "max_chars": int(max_chars)},
        retrieval={**retrieval, "k": int(k), "min_relevance": None if auto_threshold else float(min_relevance)},
    )
    fields = {"name": name.strip() or bot.name, "spec": spec}
    if embedding != bot.embedding_model:
        fields["embedding_model"] = embedding
    updated = api.attempt(client.update_bot, bid, **fields)
    if updated:
        st.session_state[f"set_key_rev_{bid}"] = key_rev + 1
        # The server drops a saved key when its endpoint changes: say why the key is gone.
        if has_key and not remove_key and not (updated.spec.get("model") or {}).get("api_key"):
            st.session_state[f"settings_key_dropped_{bid}"] = True
        st.session_state[f"settings_saved_{bid}"] = updated.reindex_job_id and embedding or True
        st.rerun()
if saved_note := st.session_state.pop(f"settings_saved_{bid}", None):
    st.success(t("saved"))
    if saved_note is not True:
        st.info(t("reindexing_for_model", model=saved_note))
if st.session_state.pop(f"settings_key_dropped_{bid}", None):
    st.warning(t("api_key_dropped"))
if server:
    limits = server.limits.model_dump()
    st.subheader(t("server_limits"))
    st.caption(t("server_limits_help"))
    st.table(
        {t("limit"): [t(f"limit_{name}") for name in limits], t("value"): [str(value) for value in limits.values()]}
    )
    if server.openai_key_configured:
        st.caption(t("openai_key_configured"))
st.caption(t("server_at", url=client.base_url))
