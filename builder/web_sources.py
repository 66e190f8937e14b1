"""The Knowledge page's Website tab: add a site or sitemap, follow a crawl live, set the sync
schedule, sync now, read the history (what was added, changed, removed, failed, skipped)."""

from __future__ import annotations

import streamlit as st

from bots.cli.client import AdminClient
from bots.schemas.bots import Bot
from bots.schemas.web_sources import WebSource
from builder import api
from builder.i18n import labeller, t

SCHEDULES = ["none", "hourly", "daily", "weekly"]
RUNNING = ("queued", "running")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def render(client: AdminClient, bot: Bot) -> None:
    with st.form("web_source_form", clear_on_submit=False):
        url = st.text_input(t("web_url"), key="web_url", placeholder="https://help.example.com/")
        is_sitemap = st.checkbox(t("web_is_sitemap"), key="web_is_sitemap")
        c1, c2 = st.columns(2)
        include = c1.text_area(t("web_include"), key="web_include", help=t("web_patterns_help"), height=80)
        exclude = c2.text_area(t("web_exclude"), key="web_exclude", help=t("web_patterns_help"), height=80)
        c3, c4, c5 = st.columns(3)
        max_pages = c3.number_input(t("web_max_pages"), 1, 100_000, 500, key="web_max_pages")
        max_depth = c4.number_input(t("web_max_depth"), 0, 50, 5, key="web_max_depth")
        schedule = c5.selectbox(
            t("web_schedule"), SCHEDULES, key="web_schedule", format_func=labeller("web_every_", SCHEDULES)
        )
        submitted = st.form_submit_button(t("web_crawl"), type="primary", key="web_submit")
    if submitted:
        if not url.strip():
            st.warning(t("web_need_url"))
        else:
            created = api.attempt(
                client.create_web_source,
                bot.id,
                url.strip(),
                kind="sitemap" if is_sitemap else "crawl",
                include=_lines(include),
                exclude=_lines(exclude),
                max_pages=int(max_pages),
                max_depth=int(max_depth),
                schedule=schedule,
            )
            if created:
                st.toast(t("web_started", url=created.source.url))

    sources = api.attempt(client.web_sources, bot.id)
    if not sources:
        if sources == []:
            st.info(t("web_none"))
        return
    for source in sources:
        _source(client, bot, source)


def _source(client: AdminClient, bot: Bot, source: WebSource) -> None:
    with st.container(border=True):
        st.markdown(f"**{source.url}** · {t('web_kind_' + source.kind)} · {t('web_pages_n', n=source.pages)}")
        sync = source.last_sync
        if sync and sync.status in RUNNING:
            _live(client, bot, sync.id)
        elif sync:
            c = sync.counts
            st.caption(
                t(
                    "web_last_sync",
                    status=sync.status,
                    indexed=c.indexed,
                    unchanged=c.unchanged,
                    removed=c.removed,
                    failed=c.failed,
                    skipped=c.skipped,
                )
            )
            if sync.error:
                (st.error if sync.status == "failed" else st.info)(sync.error)
        c1, c2, c3 = st.columns([2, 1, 1])
        chosen = c1.selectbox(
            t("web_schedule"),
            SCHEDULES,
            index=SCHEDULES.index(source.schedule),
            key=f"web_sched_{source.id}",
            format_func=labeller("web_every_", SCHEDULES),
        )
        if chosen != source.schedule and api.succeeded(client.update_web_source, bot.id, source.id, schedule=chosen):
            st.toast(t("web_schedule_saved"))
        if c2.button(t("web_sync_now"), key=f"web_sync_{source.id}"):
            if api.succeeded(client.sync_web_sources, bot.id, source.id):
                st.rerun()
        if c3.button(t("web_delete"), key=f"web_del_{source.id}"):
            if api.succeeded(client.delete_web_source, bot.id, source.id):
                st.rerun()
        with st.expander(t("web_history"), expanded=False):
            history = api.attempt(client.web_sync_history, bot.id, source.id) or []
            st.dataframe(
                [
                    {
                        t("web_col_when"): h.created_at[:19].replace("T", " "),
                        t("web_col_trigger"): h.trigger,
                        t("web_col_status"): h.status,
                        **{t(f"web_col_{k}"): getattr(h.counts, k) for k in ("indexed", "unchanged", "removed")},
                        t("web_col_failed"): h.counts.failed,
                        t("web_col_skipped"): h.counts.skipped,
                    }
                    for h in history
                ],
                hide_index=True,
                key=f"web_hist_{source.id}",
            )
            if history:
                detail = api.attempt(client.web_sync, bot.id, history[0].id)
                if detail and detail.events:
                    st.dataframe(
                        [
                            {"URL": e.url, t("web_col_event"): e.event, t("web_col_reason"): e.reason or ""}
                            for e in detail.events
                        ],
                        hide_index=True,
                        key=f"web_events_{source.id}",
                    )


def _live(client: AdminClient, bot: Bot, sync_id: str) -> None:
    """A crawl in progress, refreshed every two seconds while it runs."""

    @st.fragment(run_every=2)
    def progress() -> None:
        sync = api.attempt(client.web_sync, bot.id, sync_id)
        if sync is None:
            return
        c = sync.counts
        st.info(
            t(
                "web_live",
                status=sync.status,
                found=c.found,
                fetched=c.fetched,
                indexed=c.indexed,
                unchanged=c.unchanged,
                skipped=c.skipped,
                failed=c.failed,
            )
        )
        skipped = [e for e in sync.events if e.event in ("skipped", "failed")][-5:]
        for event in skipped:
            st.caption(f"{event.event}: {event.url} — {event.reason}")

    progress()
