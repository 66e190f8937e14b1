"""Conversations: the log with filters, one conversation with its sources, hand-off requests,
export, and charts over time."""

import json
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from bots.schemas.conversations import ExportedMessages, Handoff, StoredMessage
from bots.schemas.handoffs import HANDOFF_STATUSES
from builder import api, sign_in
from builder.add_to_test_set import add_to_test_set, question_before
from builder.i18n import labeller, t
from builder.labels import source_label
from builder.periods import period_bounds
from builder.plain_text import escape_markdown

# The team's replies get their own face: under the bot's, they read as the bot's words.
STAFF_AVATAR = ":material/support_agent:"


def bubble(role: str):
    return st.chat_message("assistant", avatar=STAFF_AVATAR) if role == "staff" else st.chat_message(role)


# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

PER_PAGE = 20
CHANNELS = ["customers", "playground", "all"]
VIA = ["widget", "api", "openai", "playground"]

st.header(t("page_conversations"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
bid = bot.id

with st.expander(t("cv_filters"), expanded=True):
    c = st.columns([2, 1, 1, 1, 1])
    today = date.today()
    period = c[0].date_input(t("cv_dates"), (today - timedelta(days=30), today), key=f"cv_dates_{bid}")
    listing = api.attempt(client.versions, bid)
    version = c[1].selectbox(
        t("cv_version"),
        [None] + [v.number for v in (listing.versions if listing else [])],
        key=f"cv_version_{bid}",
        format_func=lambda v: t("cv_any") if v is None else f"v{v}",
    )
    feedbacks = [None, "up", "down", "any", "none"]
    feedback = c[2].selectbox(
        t("cv_feedback"), feedbacks, key=f"cv_feedback_{bid}", format_func=labeller("cv_feedback_", feedbacks)
    )
    tri = [None, True, False]
    fallback = c[3].selectbox(t("cv_fallback"), tri, key=f"cv_fallback_{bid}", format_func=labeller("cv_tri_", tri))
    handoff = c[4].selectbox(t("cv_handoff"), tri, key=f"cv_handoff_{bid}", format_func=labeller("cv_tri_", tri))
    # Customers' conversations by default: the playground holds the support lead's own tries.
    channel = st.segmented_control(
        t("cv_channel"),
        CHANNELS,
        default="customers",
        key=f"cv_channel_{bid}",
        format_func=labeller("cv_channel_", CHANNELS),
    )

since, until = period_bounds(period)
filters = {
    "since": since,
    "until": until,
    "version": version,
    "feedback": feedback,
    "fallback": fallback,
    "handoff": handoff,
    "channel": "playground" if channel == "playground" else None,
    "exclude_channel": "playground" if channel in ("customers", None) else None,
}

log, charts, handoffs_tab, export_tab = st.tabs([t("cv_log"), t("cv_charts"), t("cv_handoffs"), t("cv_export")])

with log:
    first = api.attempt(client.conversations, bid, limit=1, **filters)
    total = first.total if first else 0
    if not total:
        st.info(t("cv_none"))
    else:
        pages = (total + PER_PAGE - 1) // PER_PAGE
        page = st.number_input(t("page_n_of", pages=pages), 1, pages, 1, key=f"cv_page_{bid}") if pages > 1 else 1
        listing = api.attempt(client.conversations, bid, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, **filters)
        rows = listing.conversations if listing else []
        st.caption(t("cv_total", n=total))
        # Fits 1280 px (checked in Chromium): the counts stay narrow, thumbs up and down share
        # one column (+up / −down: emoji need a font that not every machine has).
        st.dataframe(
            [
                {
                    t("col_date"): r.created_at[5:16].replace("T", " "),
                    t("cv_first"): r.first_question,
                    t("cv_channel"): t(f"cv_via_{r.channel}") if r.channel in VIA else r.channel,
                    t("cv_version"): f"v{r.version}" if r.version else t("pg_mode_draft"),
                    t("cv_messages"): r.messages,
                    t("cv_feedback"): f"+{r.thumbs_up} / −{r.thumbs_down}",
                    t("cv_fallback"): r.fallbacks,
                    t("cv_handoff"): r.handoff_requests,
                }
                for r in rows
            ],
            hide_index=True,
            width="stretch",
            column_config={
                t("col_date"): st.column_config.TextColumn(width=85),
                t("cv_first"): st.column_config.TextColumn(width="medium"),
                t("cv_channel"): st.column_config.TextColumn(width=90),
                t("cv_version"): st.column_config.TextColumn(width=60),
                t("cv_messages"): st.column_config.NumberColumn(width=70),
                t("cv_feedback"): st.column_config.TextColumn(width=75, help=t("cv_feedback_help")),
                t("cv_fallback"): st.column_config.NumberColumn(width=70),
                t("cv_handoff"): st.column_config.NumberColumn(width=70),
            },
        )
        chosen = st.selectbox(
            t("cv_open"),
            [r.id for r in rows],
            key=f"cv_open_{bid}",
            format_func={
                r.id: f"{r.created_at[:16].replace('T', ' ')} · {r.first_question[:60]}" for r in rows
            }.__getitem__,
        )
        detail = api.attempt(client.conversation, bid, chosen) if chosen else None
        messages: list[StoredMessage] = detail.messages if detail else []
        handoffs: list[Handoff] = detail.handoffs if detail else []
        for m in messages:
            with bubble(m.role):
                if m.role == "staff":
                    st.caption(t("ho_staff"))
                if m.role == "user":
                    # A customer's Markdown must not load images or show links in our browser.
                    st.text(m.content or "…")
                else:
                    st.markdown(m.content or "…")
                notes = []
                if m.citations:
                    notes.append(
                        t("pg_sources", sources=", ".join(dict.fromkeys(source_label(c) for c in m.citations)))
                    )
                if m.fallback:
                    notes.append(t("cv_was_fallback"))
                if m.error:
                    notes.append(t("cv_error", error=m.error))
                # `debug` is what the playground stored when it answered: free-form, may be absent.
                if limit := (m.debug or {}).get("cut_at_tokens"):
                    notes.append(t("cv_cut_at_tokens", limit=limit))
                if m.feedback:
                    notes.append(
                        t("cv_up" if m.feedback.rating == "up" else "cv_down")
                        + (f" {escape_markdown(m.feedback.comment)}" if m.feedback.comment else "")
                    )
                if m.latency_ms is not None and m.role == "assistant":
                    notes.append(f"{m.latency_ms} ms")
                if notes:
                    st.caption(" · ".join(notes))
                if m.role == "assistant" and m.content and (asked := question_before(messages, m)):
                    add_to_test_set(
                        client,
                        bid,
                        message_id=m.id,
                        question=asked,
                        answer=m.content,
                        sources=[c.source for c in m.citations],
                    )
        for h in handoffs:
            st.info(
                t(
                    "cv_handoff_line",
                    name=escape_markdown(h.name),
                    email=escape_markdown(h.email or "–"),
                    phone=escape_markdown(h.phone or "–"),
                    message=escape_markdown(h.message),
                )
            )

with charts:
    stats = api.attempt(client.stats, bid, **filters)
    if not stats or not stats.days:
        st.info(t("cv_none"))
    else:
        # One bar per day, each measure on its own chart: with a day or two of data a line has
        # no length to see, and stacking conversations on questions adds two different counts.
        frame = pd.DataFrame([d.model_dump() for d in stats.days])
        frame["date"] = frame["date"].astype(str).str[:10]
        frame = frame.set_index("date")
        a, b = st.columns(2)
        a.markdown(f"**{t('cv_chart_conversations')}**")
        a.bar_chart(frame[["conversations"]].rename(columns={"conversations": t("cv_conversations")}), height=240)
        b.markdown(f"**{t('cv_chart_questions')}**")
        b.bar_chart(frame[["questions"]].rename(columns={"questions": t("cv_questions")}), height=240)
        a.markdown(f"**{t('cv_chart_rates')}**")
        a.bar_chart(
            frame[["thumbs_up_rate", "fallback_rate"]].rename(
                columns={"thumbs_up_rate": t("cv_thumbs_rate"), "fallback_rate": t("cv_fallback_rate")}
            ),
            stack=False,
            height=240,
        )
        b.markdown(f"**{t('cv_chart_latency')}**")
        b.bar_chart(
            frame[["latency_ms_p50", "latency_ms_p95"]].rename(
                columns={"latency_ms_p50": t("cv_latency_typical"), "latency_ms_p95": t("cv_latency_slow")}
            ),
            stack=False,
            height=240,
        )

with handoffs_tab:
    # The inbox: filter by status, open a request, see its conversation, assign, reply, close.
    # Actions run as callbacks, before the page is drawn, so what shows below is up to date.
    statuses: list = [None, *HANDOFF_STATUSES]
    status = st.selectbox(
        t("ho_status"), statuses, key=f"ho_status_{bid}", format_func=labeller("ho_status_", statuses)
    )
    # Set by the last action's callback: shown even when the request left the filtered list.
    if flash := st.session_state.pop(f"ho_flash_{bid}", None):
        (st.warning if flash[0] == "warning" else st.success)(flash[1])
    requests = api.attempt(client.handoff_inbox, bid, status) or []
    if not requests:
        st.info(t("cv_no_handoffs") if status is None else t("ho_none_with_status"))
    else:
        st.dataframe(
            [
                {
                    t("col_date"): h.created_at[:16].replace("T", " "),
                    t("ho_status"): t(f"ho_status_{h.status}"),
                    t("ho_assignee"): h.assignee or "",
                    t("cv_name"): h.name,
                    t("ho_contact"): h.email or h.phone or "",
                    t("cv_message"): h.message,
                    t("ho_failed"): h.failed_deliveries or "",
                }
                for h in requests
            ],
            hide_index=True,
            width="stretch",
        )
        labels = {h.id: f"{h.created_at[:16].replace('T', ' ')} · {h.name} · {h.message[:50]}" for h in requests}
        hid = st.selectbox(t("ho_open"), list(labels), key=f"ho_open_{bid}", format_func=labels.__getitem__)

        def assign(handoff_id: str) -> None:
            name = st.session_state.get(f"ho_assignee_{bid}_{handoff_id}", "")
            if api.attempt(client.assign_handoff, bid, handoff_id, name.strip() or None) is not None:
                st.session_state[f"ho_flash_{bid}"] = ("success", t("ho_assigned_ok"))

        def reply(handoff_id: str) -> None:
            text = st.session_state.get(f"ho_reply_{bid}_{handoff_id}", "").strip()
            if not text:
                st.session_state[f"ho_flash_{bid}"] = ("warning", t("ho_reply_empty"))
                return
            author = st.session_state.get(f"ho_assignee_{bid}_{handoff_id}", "").strip() or None
            if api.attempt(client.reply_handoff, bid, handoff_id, text, author) is not None:
                st.session_state[f"ho_reply_{bid}_{handoff_id}"] = ""  # sent: the box empties
                st.session_state[f"ho_flash_{bid}"] = ("success", t("ho_sent_ok"))

        def close(handoff_id: str) -> None:
            if api.attempt(client.close_handoff, bid, handoff_id) is not None:
                st.session_state[f"ho_flash_{bid}"] = ("success", t("ho_closed_ok"))

        item = api.attempt(client.handoff, bid, hid) if hid else None
        if item:
            h = item.handoff
            contact = " · ".join(escape_markdown(x) for x in (h.email, h.phone) if x) or "–"
            st.markdown(
                t("ho_header", name=escape_markdown(h.name), contact=contact, status=t(f"ho_status_{h.status}"))
            )
            st.text(t("ho_asked", message=h.message))  # the customer's words: never as Markdown
            failed = [d for d in item.deliveries if d.status == "failed"]
            for d in failed:
                # The target may be the customer's own address: never read as Markdown.
                target, error = escape_markdown(d.target), escape_markdown(d.error or "")
                st.warning(t("ho_delivery_failed", kind=t(f"ho_kind_{d.kind}"), target=target, error=error))
            st.markdown(f"**{t('ho_context')}** ({item.channel})")
            for m in item.messages:
                with bubble(m.role):
                    if m.role == "staff":
                        st.caption(t("ho_staff"))
                    if m.role == "user":
                        st.text(m.content or "…")
                    else:
                        st.markdown(m.content or "…")
            a, b = st.columns([3, 1], vertical_alignment="bottom")  # the button beside the box, not its label
            a.text_input(
                t("ho_assignee"), value=h.assignee or "", key=f"ho_assignee_{bid}_{h.id}", help=t("ho_assign_help")
            )
            b.button(t("ho_assign"), key=f"ho_assign_{bid}_{h.id}", on_click=assign, args=(h.id,), disabled=READ_ONLY)
            if h.status == "closed":
                st.info(t("ho_closed_note"))
            else:
                st.text_area(
                    t("ho_reply"),
                    key=f"ho_reply_{bid}_{h.id}",
                    help=t("ho_reply_help", email=escape_markdown(h.email)) if h.email else t("ho_reply_help_no_email"),
                )
                c1, c2, _ = st.columns([1, 1, 2])  # Close beside Send, not adrift mid-page
                c1.button(
                    t("ho_send"),
                    key=f"ho_send_{bid}_{h.id}",
                    type="primary",
                    on_click=reply,
                    args=(h.id,),
                    disabled=READ_ONLY,
                )
                c2.button(t("ho_close"), key=f"ho_close_{bid}_{h.id}", on_click=close, args=(h.id,), disabled=READ_ONLY)
            if item.deliveries:
                with st.expander(t("ho_deliveries")):
                    for d in item.deliveries:
                        target = escape_markdown(d.target)
                        st.caption(t("ho_delivery_line", kind=t(f"ho_kind_{d.kind}"), target=target, status=d.status))

with export_tab:
    st.caption(t("cv_export_help"))
    if st.button(t("cv_prepare"), key=f"cv_prepare_{bid}"):
        with st.spinner(t("cv_preparing")):
            csv_text = api.attempt(client.export_conversations, bid, "csv", **filters)
            json_data = api.attempt(client.export_conversations, bid, "json", **filters)
        if csv_text is not None and json_data is not None:
            exported = json_data.model_dump(mode="json") if isinstance(json_data, ExportedMessages) else json_data
            st.session_state[f"cv_export_{bid}"] = (csv_text, json.dumps(exported, ensure_ascii=False, indent=1))
    if ready := st.session_state.get(f"cv_export_{bid}"):
        d1, d2 = st.columns(2)
        d1.download_button("CSV", ready[0], file_name=f"{bid}-conversations.csv", mime="text/csv", key=f"cv_csv_{bid}")
        d2.download_button(
            "JSON", ready[1], file_name=f"{bid}-conversations.json", mime="application/json", key=f"cv_json_{bid}"
        )
