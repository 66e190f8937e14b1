"""Knowledge: upload documents with progress, the documents table, chunks, delete/re-index, search."""

import streamlit as st

from bots.core.status import JOB_FINISHED, ItemStatus
from bots.schemas.knowledge import Job, JobItem
from builder import api, sign_in, web_sources
from builder.i18n import t
from builder.paging import page_of

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

STAGES = {"reading", "chunking", "embedding", "indexing"}
# How often the progress panel asks the server; only the panel reruns, the page stays usable.
POLL_S = 1.5

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


def file_line(item: JobItem) -> str:
    """One file of an upload and where it is: waiting, reading, chunking, embedding N/M, indexing,
    then ready or failed."""
    if item.status == ItemStatus.PROCESSING:
        if item.stage == "embedding" and item.chunks:
            step = t("stage_embedding", done=item.embedded or 0, total=item.chunks)
        else:
            step = t(f"stage_{item.stage}") if item.stage in STAGES else t("stage_reading")
        return f":material/progress_activity: **{item.source}** — {step}"
    icon = {ItemStatus.READY: ":material/check_circle:", ItemStatus.FAILED: ":material/error:"}.get(
        ItemStatus(item.status), ":material/schedule:"
    )
    return f"{icon} **{item.source}** — {t(f'item_{item.status}')}"


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
watch_key, finished_key, refused_key = f"kn_watch_{bot.id}", f"kn_finished_{bot.id}", f"kn_refused_{bot.id}"
with files_tab:
    with st.form("upload_form", clear_on_submit=True):
        files = st.file_uploader(t("upload_files"), accept_multiple_files=True, key="kn_files", help=t("upload_help"))
        submitted = st.form_submit_button(
            t("upload_and_index"), type="primary", key="upload_submit", disabled=READ_ONLY
        )
    if submitted:
        if not files:
            st.warning(t("choose_files"))
        else:
            with st.spinner(t("uploading", n=len(files))):
                sent = api.attempt(client.upload_files, bot.id, [(f.name, f.getvalue()) for f in files])
            if sent:
                refused = [f"{r.source}: {r.error}" for r in sent.rejected]
                for message in refused:
                    st.error(message)
                if sent.job_id:
                    # Followed by the panel below, which polls without blocking the page. The files
                    # refused at upload are said again with the job's outcome: the rerun that shows
                    # it (maybe this very run, for small files) would otherwise drop them unseen.
                    st.session_state.setdefault(watch_key, []).append(sent.job_id)
                    st.session_state[refused_key] = refused

# Jobs this session started and have ended since the last full run: their outcome, once.
if finished := st.session_state.pop(finished_key, []):
    for message in st.session_state.pop(refused_key, []):
        st.error(message)
for job in finished:
    report(job)

running = [j.id for j in (api.attempt(client.jobs, bot.id) or []) if j.status not in JOB_FINISHED]
watched = list(dict.fromkeys(st.session_state.get(watch_key, []) + running))
if watched:

    @st.fragment(run_every=POLL_S)
    def progress_panel():
        """Each file of each running upload with its step. Only this panel reruns; when a job
        ends, the whole page reruns once to show the result and the updated documents."""
        ended = []
        for job_id in watched:
            job = api.attempt(client.job, job_id)
            if job is None or job.status in JOB_FINISHED:
                ended.append(job)
                continue
            st.progress(
                min(1.0, job.progress),
                text=t("indexing_progress", done=job.done, failed=job.failed, total=job.total),
            )
            for item in job.items if job.kind == "ingest" else []:
                st.markdown(file_line(item))
        if ended:
            mine = set(st.session_state.get(watch_key, []))
            st.session_state[finished_key] = [j for j in ended if j is not None and j.id in mine]
            st.session_state[watch_key] = [
                j for j in st.session_state.get(watch_key, []) if j not in {e.id for e in ended if e is not None}
            ]
            st.rerun()

    progress_panel()

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
        if st.button(t("delete_document"), key="delete_doc", disabled=READ_ONLY or not confirm):
            if api.succeeded(client.delete_document, bot.id, doc_id):
                st.toast(t("document_deleted", name=doc.source))
                st.rerun()
    with c2:
        if st.button(t("reindex_all"), key="reindex", help=t("reindex_help"), disabled=READ_ONLY):
            started = api.attempt(client.reindex, bot.id)
            if started:
                # The progress panel above follows it, without blocking the page.
                st.session_state.setdefault(watch_key, []).append(started.job_id)
                st.rerun()
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
