"""Playground: chat with the draft (or the published version) and see why each answer came out."""

import streamlit as st

from bots.cli.client import ClientError
from bots.schemas.playground import PlaygroundReply, VersionFailure
from builder import api, sign_in
from builder.add_to_test_set import add_to_test_set
from builder.answer_failure import AnswerFailure
from builder.i18n import labeller, t
from builder.labels import source_label

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

st.header(t("page_playground"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
bid = bot.id
model_settings = bot.spec.get("model") or {}
history_key, conv_key = f"pg_turns_{bid}", f"pg_conversation_{bid}"
turns = st.session_state.setdefault(history_key, [])

modes = ["draft", "published", "compare"] if bot.published_version else ["draft"]
top = st.columns([3, 1])
mode = top[0].segmented_control(
    t("pg_mode"),
    modes,
    default="draft",
    key=f"pg_mode_{bid}",
    format_func=labeller("pg_mode_", modes),
    help=t("pg_mode_help"),
)
if top[1].button(t("pg_new"), key=f"pg_new_{bid}", icon=":material/restart_alt:"):
    st.session_state[history_key], st.session_state[conv_key] = [], None
    st.rerun()
if not bot.chunks:
    st.warning(t("pg_no_documents"))


# Why an answer fell back, in the words of bots/core/answering.py's cases.
REASONS = {"no_relevant_passage", "no_quotable_passage", "model_fallback", "withheld"}


def fmt(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def why(reply: PlaygroundReply) -> None:
    """The reasons behind one answer: retrieval, prompt, cost, and whether it fell back."""
    debug = reply.debug
    st.markdown(
        t(
            "pg_facts",
            latency=reply.latency_ms,
            prompt=debug.tokens.prompt_tokens,
            completion=debug.tokens.completion_tokens,
            fallback=t("yes") if reply.fallback else t("no"),
        )
    )
    if reply.fallback and debug.reason:
        # Plain words for the support lead; the code stays in the details (the prompt toggle).
        known = debug.reason in REASONS
        st.caption(t("pg_reason", reason=t(f"pg_reason_{debug.reason}") if known else debug.reason))
    # An answer the guard replaced is quotes, whatever the bot's style.
    quoted = debug.style == "extractive" or (debug.guard is not None and debug.guard.action == "replaced")
    if debug.style:
        icon = ":material/format_quote: " if quoted else ":material/edit_note: "
        st.caption(icon + t("pg_style_extractive" if quoted else "pg_style_generative"))
    if debug.guard:
        claims = ", ".join(f"{t('claim_kind_' + c.kind)} “{c.text}”" for c in debug.guard.claims)
        st.warning(t(f"pg_guard_{debug.guard.action}", claims=claims), icon=":material/fact_check:")
    if debug.cut_at_tokens:
        st.caption(":material/content_cut: " + t("pg_cut_by_limit", limit=debug.cut_at_tokens))
    if (refused := debug.corrected_refused) and str((refused.get("sibling") or {}).get("id", "")).startswith(
        "knowledge:"
    ):
        # Refused for an FAQ entry of the knowledge (issue #14): no word need differ, and the
        # corrected answer is not a passage then.
        st.caption(":material/rule: " + t("pg_corrected_refused_knowledge", question=refused["sibling"]["question"]))
    elif refused:
        nothing = t("pg_corrected_refused_nothing")
        st.caption(
            ":material/rule: "
            + t(
                "pg_corrected_refused",
                asked=", ".join(refused.get("asked") or []) or nothing,
                approved=", ".join(refused.get("approved") or []) or nothing,
            )
        )
        if sibling := refused.get("sibling"):
            st.caption(":material/rule: " + t("pg_corrected_refused_sibling", question=sibling["question"]))
    hits = debug.hits
    if hits:
        # The panel is narrow: the page goes with its document, so every column fits.
        st.dataframe(
            [
                {
                    t("col_source"): source_label(h),
                    t("col_similarity"): fmt(h.dense_score),
                    t("col_words"): fmt(h.lexical_score),
                    t("col_used"): "✓" if h.used else "",
                }
                for h in hits
            ],
            hide_index=True,
            width="stretch",
            # Pixel widths: the side panel is about 400 px wide at 1280-1440 px (checked in Chromium).
            column_config={
                t("col_source"): st.column_config.TextColumn(width=130),
                **{
                    t(c): st.column_config.Column(help=t(f"{c}_help"), width=w)
                    for c, w in (("col_similarity", 72), ("col_words", 60), ("col_used", 52))
                },
            },
        )
        with st.expander(t("pg_passages")):
            for n, h in enumerate(hits, 1):
                st.markdown(f"**{n}. {h.source}** · p. {h.page or '–'}")
                st.text(h.text)
    else:
        st.caption(t("pg_no_hits"))
    with st.expander(t("pg_prompt")):
        if debug.reason:
            st.caption(t("pg_reason_code", code=debug.reason))
        for message in debug.prompt:
            st.caption(message.role)
            st.code(message.content, language=None, wrap_lines=True)


def failed(failure: AnswerFailure) -> None:
    """Plain words and where to fix it; the code and the server's own sentence in a toggle."""
    if failure.partial:
        st.caption(t("pg_partial"))
        st.markdown(failure.partial)
    st.error(failure.advice(model_settings), icon=":material/error:")
    if failure.fixed_in_settings:
        st.page_link("builder/pages/settings.py", label=t("pg_open_settings"), icon=":material/settings:")
    with st.expander(t("pg_details")):
        st.code(f"{failure.code}\n{failure.detail or failure.message}", language=None, wrap_lines=True)


def answer(reply: PlaygroundReply | VersionFailure | AnswerFailure) -> None:
    if isinstance(reply, AnswerFailure):
        failed(reply)
        return
    if isinstance(reply, VersionFailure):
        st.error(reply.error.message)
        return
    st.markdown(reply.answer)
    cited = [source_label(c) for c in reply.citations]
    if cited:
        st.caption(t("pg_sources", sources=", ".join(dict.fromkeys(cited))))
    if reply.debug.demo_model:
        st.badge(t("demo_quality"), icon=":material/science:", color="orange", help=t("demo_quality_help"))


def version_label(reply: PlaygroundReply | VersionFailure | AnswerFailure) -> str:
    v = reply.version
    return t("pg_mode_draft") if v == "draft" else t("status_published", version=v)


for turn in turns:
    with st.chat_message("user"):
        st.markdown(turn["question"])
    replies = turn["replies"]
    if len(replies) == 1 and isinstance(replies[0], AnswerFailure):
        with st.chat_message("assistant"):
            answer(replies[0])
    elif len(replies) == 1 and isinstance(replies[0], PlaygroundReply):
        left, right = st.columns([4, 3], gap="medium")
        with left, st.chat_message("assistant"):
            answer(replies[0])
            add_to_test_set(
                client,
                bid,
                message_id=replies[0].message_id,
                question=turn["question"],
                answer=replies[0].answer,
                sources=[c.source for c in replies[0].citations],
            )
        with right, st.expander(t("pg_why"), expanded=turn is turns[-1]):
            why(replies[0])
    else:
        for col, reply in zip(st.columns(len(replies), gap="large"), replies):
            with col:
                st.caption(version_label(reply))
                with st.chat_message("assistant"):
                    answer(reply)
                if isinstance(reply, PlaygroundReply):
                    with st.expander(t("pg_why")):
                        why(reply)


def streamed(question: str, version: str) -> PlaygroundReply | AnswerFailure:
    """Show the answer as it is written (st.write_stream over the server's SSE events) and
    return the stored reply, or what failed with whatever was written before it did."""
    outcome: dict = {}

    def deltas():
        try:
            for event, data in client.playground_stream(
                bid, question, version=version, conversation_id=st.session_state.get(conv_key)
            ):
                if event == "start":
                    st.session_state[conv_key] = data["conversation_id"]
                elif event == "delta":
                    yield data["text"]
                elif event == "done":
                    outcome["reply"] = PlaygroundReply.model_validate(data)
                elif event == "error":
                    outcome["failure"] = AnswerFailure(data["code"], data["message"], data.get("detail", ""))
        except ClientError as err:  # refused before the answer started, or the server went away
            outcome["failure"] = AnswerFailure(err.code or "", str(err))

    with st.chat_message("assistant"):
        written = st.write_stream(deltas())
    if "reply" in outcome:
        return outcome["reply"]
    failure = outcome.get("failure") or AnswerFailure("", t("pg_failed"))
    failure.partial, failure.version = written if isinstance(written, str) else "", version
    return failure


# Asking is a change (the server keeps the conversation): not offered to viewers.
question = st.chat_input(t("pg_ask"), key=f"pg_input_{bid}", max_chars=2000, disabled=READ_ONLY)
if question:
    # The question stays on screen whatever happens to its answer.
    with st.chat_message("user"):
        st.markdown(question)
    if mode == "compare":
        with st.spinner(t("pg_thinking")):
            try:
                replies = list(client.compare(bid, question))
            except ClientError as err:
                replies = [AnswerFailure(err.code or "", str(err))]
    else:
        replies = [streamed(question, mode or "draft")]
    turns.append({"question": question, "replies": replies})
    st.rerun()
