"""Analytics: how conversations end (resolution, hand-offs, who answered, latency, cost) per
day and version, and the knowledge gaps — what customers asked that the bot answered badly,
as topics to write an answer or a document for."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from builder import api
from builder.i18n import t
from builder.periods import period_bounds
from builder.plain_text import escape_markdown

st.header(t("page_analytics"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
bid = bot.id

c = st.columns([2, 1, 1])
today = date.today()
period = c[0].date_input(t("an_dates"), (today - timedelta(days=30), today), key=f"an_dates_{bid}")
listing = api.attempt(client.versions, bid)
version = c[1].selectbox(
    t("an_version"),
    [None] + [v.number for v in (listing.versions if listing else [])],
    key=f"an_version_{bid}",
    format_func=lambda v: t("an_all_versions") if v is None else f"v{v}",
)
playground = c[2].checkbox(t("an_include_playground"), key=f"an_playground_{bid}", help=t("an_playground_help"))

since, until = period_bounds(period)
filters = {"since": since, "until": until, "include_playground": playground or None}


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def bars(column, title: str, frame: pd.DataFrame, **options) -> None:
    """A bar chart of counts per day, or a line saying there is nothing to count: with every
    bar at zero the chart's axis reads 0.000000 and says nothing."""
    column.markdown(f"**{title}**")
    if not frame.to_numpy().any():
        column.caption(t("an_chart_all_zero"))
        return
    column.bar_chart(frame, **options)


resolution_tab, gaps_tab = st.tabs([t("an_resolution"), t("an_gaps")])

with resolution_tab:
    report = api.attempt(client.analytics, bid, version=version, **filters)
    if report is None:
        st.stop()
    o = report.overall
    if not o.conversations:
        st.info(t("an_none"))
    else:
        m = st.columns(5)
        m[0].metric(t("an_conversations"), o.conversations)
        m[1].metric(t("an_resolution_rate"), pct(o.resolution_rate), help=t("an_resolution_definition"))
        m[2].metric(t("an_handoff_rate"), pct(o.handoff_rate))
        m[3].metric(t("an_thumbs"), f"{o.thumbs_up} / {o.thumbs_down}")
        m[4].metric(t("an_questions"), o.questions)
        m = st.columns(5)
        m[0].metric(t("an_by_model"), pct(o.share_model))
        m[1].metric(t("an_by_corrected"), pct(o.share_corrected))
        m[2].metric(t("an_by_fallback"), pct(o.share_fallback))
        # p50 as the figure and p95 under it: both in one value was cut off at 1280 px.
        m[3].metric(
            t("an_latency_p50"),
            "–" if o.latency_ms_p50 is None else f"{o.latency_ms_p50} ms",
            delta=None if o.latency_ms_p95 is None else f"p95 {o.latency_ms_p95} ms",
            delta_color="off",
            delta_arrow="off",
        )
        m[4].metric(
            t("an_cost"),
            "–" if o.cost_usd is None else f"${o.cost_usd:,.4f}",
            help=t("an_cost_help", tokens=o.prompt_tokens + o.completion_tokens),
        )
        st.caption(t("an_resolution_definition"))
        # Versions summed per day for the charts; days are text, so each is one bar (a line
        # through one or two points reads as nothing).
        frame = pd.DataFrame([d.model_dump() for d in report.days])
        per_day = frame.groupby("day")[
            ["conversations", "resolved", "by_model", "by_corrected", "by_fallback", "thumbs_up", "thumbs_down"]
        ].sum()
        per_day["unresolved"] = per_day["conversations"] - per_day["resolved"]
        a, b = st.columns(2)
        bars(
            a,
            t("an_chart_resolution"),
            per_day[["resolved", "unresolved"]].rename(
                columns={"resolved": t("an_resolved"), "unresolved": t("an_unresolved")}
            ),
            color=["#2e7d32", "#c62828"],
        )
        bars(
            b,
            t("an_chart_answered_by"),
            per_day[["by_model", "by_corrected", "by_fallback"]].rename(
                columns={
                    "by_model": t("an_by_model"),
                    "by_corrected": t("an_by_corrected"),
                    "by_fallback": t("an_by_fallback"),
                }
            ),
        )
        bars(
            a,
            t("an_chart_feedback"),
            per_day[["thumbs_up", "thumbs_down"]].rename(
                columns={"thumbs_up": t("an_up"), "thumbs_down": t("an_down")}
            ),
            stack=False,
            color=["#2e7d32", "#c62828"],
        )
        # Full width: in half a column its right-hand columns were cut off at 1280 px.
        st.markdown(f"**{t('an_per_version')}**")
        st.dataframe(
            [
                {
                    t("an_version"): t("an_draft") if v.version is None else f"v{v.version}",
                    t("an_conversations"): v.conversations,
                    t("an_resolution_rate"): pct(v.resolution_rate),
                    t("an_handoff_rate"): pct(v.handoff_rate),
                    t("an_by_fallback"): pct(v.share_fallback),
                    "p50 ms": v.latency_ms_p50,
                    "p95 ms": v.latency_ms_p95,
                    t("an_cost"): None if v.cost_usd is None else round(v.cost_usd, 4),
                }
                for v in report.versions
            ],
            hide_index=True,
            width="stretch",
        )
        st.caption(report.cost_note)
        if st.button(t("an_prepare_csv"), key=f"an_prepare_{bid}"):
            st.session_state[f"an_csv_{bid}"] = api.attempt(client.analytics_csv, bid, version=version, **filters)
        if ready := st.session_state.get(f"an_csv_{bid}"):
            st.download_button("CSV", ready, file_name=f"{bid}-analytics.csv", mime="text/csv", key=f"an_dl_{bid}")

with gaps_tab:
    st.caption(t("an_gaps_help"))
    gaps = api.attempt(client.gaps, bid, **filters)
    if gaps is not None and not gaps.topics:
        st.info(t("an_no_gaps"))
    elif gaps is not None:
        st.caption(t("an_gaps_total", n=gaps.questions, topics=len(gaps.topics)))
        if gaps.truncated:
            st.warning(t("an_gaps_truncated"))
        d1, d2, _ = st.columns([1, 1, 3])
        if d1.button(t("an_todo_md"), key=f"an_todo_md_{bid}"):
            st.session_state[f"an_todo_{bid}"] = (
                "md",
                api.attempt(client.gaps_todo, bid, format="markdown", **filters),
            )
        if d2.button(t("an_todo_csv"), key=f"an_todo_csv_{bid}"):
            st.session_state[f"an_todo_{bid}"] = ("csv", api.attempt(client.gaps_todo, bid, format="csv", **filters))
        if (todo := st.session_state.get(f"an_todo_{bid}")) and todo[1]:
            kind, text = todo
            st.download_button(
                t("an_download"),
                text,
                file_name=f"{bid}-gaps.{kind}",
                mime="text/markdown" if kind == "md" else "text/csv",
                key=f"an_todo_dl_{bid}",
            )
        for i, topic in enumerate(gaps.topics):
            trend = t(f"an_trend_{topic.trend}", before=topic.previous_count)
            with st.expander(f"{escape_markdown(topic.label)} — {topic.count} · {trend}", expanded=i < 3):
                reasons = ", ".join(f"{t('an_reason_' + r)} {n}" for r, n in topic.reasons.items())
                st.caption(reasons)
                for q in topic.questions:
                    st.text(f"• {q}")  # customers' words: shown as text, never as Markdown
                if topic.closest_passage:
                    p = topic.closest_passage
                    st.caption(t("an_closest", source=escape_markdown(p.source), score=p.score))
                    st.text(p.text)
                else:
                    st.caption(t("an_no_passage"))
                answer = st.text_area(t("an_write_answer"), key=f"an_answer_{bid}_{i}")
                if st.button(t("an_save_answer"), key=f"an_save_{bid}_{i}"):
                    if not answer.strip():
                        st.warning(t("an_answer_empty"))
                    else:
                        # The whole cluster: its central question, the others as paraphrases.
                        done = api.attempt(
                            client.add_corrected_answer,
                            bid,
                            topic.questions[0],
                            answer.strip(),
                            paraphrases=list(topic.questions[1:]),
                        )
                        if done is not None:
                            st.success(t("an_answer_saved"))
