"""Knowledge: upload documents with progress, the documents table, chunks, delete/re-index, search."""

import time

import streamlit as st

from bots.core.status import JOB_FINISHED, ItemStatus
from bots.schemas.knowledge import Job
from builder import api, web_sources
from builder.i18n import t
from builder.paging import page_of

INGEST_PATIENCE_S = 600

st.header(t("page_knowledge"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()


def human_size(size: int | None) -> str:
    scaled = float(size or 0)
    for unit in ("B", "KB", "MB"):
        if scaled < 1024:
            return f"{scaled:.0f} {unit}"
        scaled /= 1024
    return f"{scaled:.1f} GB"


def score(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def follow(job_id: str) -> Job | None:
    """Show a job's progress until it ends (or we stop waiting; it goes on in the server)."""
    bar = st.progress(0.0, text=t("indexing"))
    deadline = time.monotonic() + INGEST_PATIENCE_S
    while time.monotonic() < deadline:
        job = api.attempt(client.job, job_id)
        if job is None:
            return None
        bar.progress(
            min(1.0, job.progress),
            text=t("indexing_progress", done=job.done, failed=job.failed, total=job.total),
        )
        if job.status in JOB_FINISHED:
            bar.empty()
            return job
        time.sleep(0.5)
    st.info(t("still_indexing"))
    return None


def report(job: Job) -> None:
    failed = [i for i in job.items if i.status == ItemStatus.FAILED]
    if job.error:
        st.error(job.error)
    ok = job.total - len(failed)
    if ok:
        st.success(t("indexed_n", n=ok))
    for item in failed:
        st.error(f"{item.source}: {item.error}")


files_tab, web_tab = st.tabs([t("kn_tab_files"), t("kn_tab_website")])
with web_tab:
    web_sources.render(client, bot)
with files_tab:
    with st.form("upload_form", clear_on_submit=True):
        files = st.file_uploader(t("upload_files"), accept_multiple_files=True, key="kn_files", help=t("upload_help"))
        submitted = st.form_submit_button(t("upload_and_index"), type="primary", key="upload_submit")
    if submitted:
        if not files:
            st.warning(t("choose_files"))
        else:
            with st.spinner(t("uploading", n=len(files))):
                sent = api.attempt(client.upload_files, bot.id, [(f.name, f.getvalue()) for f in files])
            if sent:
                for rejected in sent.rejected:
                    st.error(f"{rejected.source}: {rejected.error}")
                if sent.job_id:
                    job = follow(sent.job_id)
                    if job:
                        report(job)

running = [j for j in (api.attempt(client.jobs, bot.id) or []) if j.status not in JOB_FINISHED]
if running:

    @st.fragment(run_every=2)
    def running_jobs():
        for job in running:
            fresh = api.attempt(client.job, job.id)
            if fresh and fresh.status not in JOB_FINISHED:
                st.progress(
                    min(1.0, fresh.progress),
                    text=t("job_running", kind=fresh.kind, done=fresh.done, total=fresh.total),
                )

    running_jobs()

documents = api.attempt(client.documents, bot.id)
if documents is None:
    st.stop()
st.subheader(t("documents_n", n=len(documents)))
if not documents:
    st.info(t("no_documents"))
else:
    shown = page_of(documents, key="docs_page", per_page=25)
    st.dataframe(
        [
            {
                t("col_source"): d.source,
                t("col_status"): t(f"doc_{d.status}"),
                # Only PDFs have pages; a blank reads better than "None".
                t("col_pages"): "" if d.pages is None else str(d.pages),
                t("col_chunks"): d.chunks,
                t("col_size"): human_size(d.size),
                t("col_error"): d.error or "",
            }
            for d in shown
        ],
        hide_index=True,
        width="stretch",
        key="docs_table",
    )
    by_id = {d.id: d for d in documents}
    doc_id = st.selectbox(t("open_document"), list(by_id), format_func=lambda i: by_id[i].source, key="doc_pick")
    doc = by_id[doc_id]
    c1, c2 = st.columns([1, 3])
    with c1:
        confirm = st.checkbox(t("delete_doc_confirm"), key=f"del_doc_ok_{doc_id}")
        if st.button(t("delete_document"), key="delete_doc", disabled=not confirm):
            if api.succeeded(client.delete_document, bot.id, doc_id):
                st.toast(t("document_deleted", name=doc.source))
                st.rerun()
    with c2:
        if st.button(t("reindex_all"), key="reindex", help=t("reindex_help")):
            started = api.attempt(client.reindex, bot.id)
            if started:
                job = follow(started.job_id)
                if job:
                    report(job)
    chunks = api.attempt(client.chunks, bot.id, doc_id) or []
    with st.expander(t("chunks_of", n=len(chunks), name=doc.source), expanded=False):
        for chunk in page_of(chunks, key=f"chunks_page_{doc_id}", per_page=10):
            where = t("chunk_where", ordinal=chunk.ordinal + 1, page=chunk.page or "–")
            heading = " › ".join(chunk.headings)
            st.markdown(f"**{where}**" + (f" · {heading}" if heading else ""))
            st.text(chunk.text)

st.subheader(t("search_title"))
with st.form("search_form"):
    query = st.text_input(t("search_question"), key="search_query", placeholder=t("search_placeholder"))
    k = st.slider(t("search_k"), 1, 20, 5, key="search_k")
    asked = st.form_submit_button(t("search"), key="search_submit")
if asked and query.strip():
    with st.spinner(t("searching")):
        hits = api.attempt(client.search, bot.id, query.strip(), k)
    if hits == []:
        st.info(t("no_hits"))
    elif hits:
        st.caption(t("hit_scores_help"))
    for n, hit in enumerate(hits or [], 1):
        with st.container(border=True):
            st.markdown(
                t(
                    "hit_line",
                    n=n,
                    source=hit.source,
                    page=hit.page or "–",
                    score=score(hit.score),
                    dense=score(hit.dense_score),
                    lexical=score(hit.lexical_score),
                )
            )
            st.text(hit.text)
