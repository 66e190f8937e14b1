"""Tests: the bot's test sets (import, export, cases), evaluation runs with their scorecard and
history, comparing two runs, and which sets gate publishing."""

import json
import time

import altair as alt
import pandas as pd
import streamlit as st

from bots.schemas.evaluation import RunDetail
from builder import api, sign_in
from builder.experiments_section import experiments_section
from builder.i18n import labeller, t
from builder.plain_text import escape_markdown
from builder.word_diff import word_diff

RUN_PATIENCE_S = 600
RUN_FINISHED = {"done", "cancelled", "failed"}
FORMATS = {"jsonl": "jsonl", "csv": "csv", "yaml": "yaml", "yml": "yaml"}
CHECKS = ["retrieval", "cited", "facts", "refusal", "forbidden"]
CASE_STATUSES = ("passed", "failed", "errored")
# The cases table's columns, in the CSV format's order (the conversation history is not shown).
CASE_FIELDS = (
    "question",
    "expected_sources",
    "expected_facts",
    "must_refuse",
    "must_pass",
    "forbidden",
    "reference_answer",
    "tags",
)
BOOL_FIELDS = {"must_refuse", "must_pass"}
LIST_FIELDS = {"expected_sources", "expected_facts", "forbidden", "tags"}
ORIGIN = "case_number"  # hidden: where a row of the cases table came from in the set
# Viewers see the cases, not the editor (the server refuses their changes anyway).
READ_ONLY = not sign_in.can_change()

st.header(t("page_tests"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
bid = bot.id


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def score(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def failed_checks(checks: dict) -> str:
    """Each failed check in words: "facts: the answer does not mention …"."""
    return "; ".join(
        f"{t('check_' + name) if name in CHECKS else name}: {v.reason}" for name, v in checks.items() if not v.passed
    )


def follow(run_id: str) -> RunDetail | None:
    """Show a run's progress until it ends (or we stop waiting; it goes on in the server)."""
    bar = st.progress(0.0, text=t("run_starting"))
    deadline = time.monotonic() + RUN_PATIENCE_S
    while time.monotonic() < deadline:
        run = api.attempt(client.eval_run, bid, run_id)
        if run is None:
            return None
        bar.progress(
            min(1.0, run.done / run.cases) if run.cases else 0.0, text=t("run_progress", done=run.done, total=run.cases)
        )
        if run.status in RUN_FINISHED:
            bar.empty()
            return run
        time.sleep(0.5)
    st.info(t("run_still_going"))
    return None


def cases_editor(set_name: str, cases: list[dict]) -> None:
    """The set's cases as an editable table (read-only for viewers); "Save changes" sends the
    whole set back through the import route, which validates it all or nothing."""
    table = cases_table(cases)
    # Narrow columns: all eight fit the page at 1280 px (wider ones hid the last five behind a
    # sideways scroll nobody saw); a cell opens full size when edited.
    config = {
        field: (
            st.column_config.CheckboxColumn(t(f"col_{field}"), default=False, width="small")
            if field in BOOL_FIELDS
            else st.column_config.TextColumn(t(f"col_{field}"), width="medium" if field == "question" else "small")
        )
        for field in CASE_FIELDS
    }
    if READ_ONLY:
        st.dataframe(table, column_config=config, hide_index=True, width="stretch", key=f"cases_table_{bid}")
        return
    # The key changes after a save, so the editor starts again from what the server now holds;
    # after a refusal it stays the same, keeping the user's edits on screen to correct.
    generation = st.session_state.get(f"cases_gen_{bid}", 0)
    edited = st.data_editor(
        table,
        column_config=config,
        num_rows="dynamic",
        column_order=CASE_FIELDS,
        hide_index=True,
        width="stretch",
        key=f"cases_edit_{bid}_{generation}",
    )
    st.caption(t("tests_cases_edit_help"))
    if st.button(t("tests_cases_save"), type="primary", key=f"cases_save_{bid}", icon=":material/save:"):
        content = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in edited_cases(edited, cases))
        # The server checks every case (an empty question is refused, naming its line): its
        # sentence is shown by api.attempt and nothing is kept.
        if done := api.attempt(client.import_test_set, bid, set_name, content, "jsonl"):
            st.session_state[f"cases_gen_{bid}"] = generation + 1
            st.session_state[f"cases_saved_{bid}"] = (done.set, done.cases)
            st.rerun()


def cases_table(cases: list[dict]) -> pd.DataFrame:
    """One row per case; lists as `|`-separated text, as in the CSV format. A hidden column
    holds each row's place in the set, so a saved row keeps what the table does not show (its
    conversation history). The index cannot say it: after a deletion, Streamlit gives an
    added row the index of the deleted last one."""
    rows = [
        {
            field: bool(c.get(field))
            if field in BOOL_FIELDS
            else " | ".join(c.get(field) or [])
            if field in LIST_FIELDS
            else c.get(field) or ""
            for field in CASE_FIELDS
        }
        | {ORIGIN: n}
        for n, c in enumerate(cases)
    ]
    return pd.DataFrame(rows, columns=[*CASE_FIELDS, ORIGIN]).astype(
        # "boolean" and "Int64" (nullable): an added row's cells arrive as None
        {f: "boolean" if f in BOOL_FIELDS else "object" for f in CASE_FIELDS} | {ORIGIN: "Int64"}
    )


def edited_cases(edited: pd.DataFrame, original: list[dict]) -> list[dict]:
    """The table back into cases; an added row's empty cells come back as None or NaN."""
    out = []
    for _, row in edited.iterrows():
        case: dict = {}
        kept = {} if pd.isna(row[ORIGIN]) else original[int(row[ORIGIN])]
        for field in CASE_FIELDS:
            value = row[field]
            if field in BOOL_FIELDS:
                if bool(value) if not pd.isna(value) else False:
                    case[field] = True
            elif field in LIST_FIELDS:
                items = [v.strip() for v in cell_text(value).split("|") if v.strip()]
                if items:
                    case[field] = items
            elif field == "question" or cell_text(value).strip():
                case[field] = cell_text(value)
        if kept.get("history"):
            case["history"] = kept["history"]
        out.append(case)
    return out


def cell_text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def answers_side_by_side(kind: str, items: list, run_a: str, run_b: str) -> None:
    """Each compared case opens on its two answers, before and after, words removed and
    added marked. The comparison does not carry the answers: both runs' details do."""
    answers = [run_answers(run_a), run_answers(run_b)]
    st.caption(t("cmp_diff_legend"))
    for item in items:
        key = (item.set, item.question)
        # The question may come from a customer's message: shown as text, not Markdown.
        with st.expander(escape_markdown(f"{item.set} · {item.question}")):
            old, new = (a.get(key) for a in answers)
            marked = word_diff(old or "", new or "")
            for column, heading, status, answer, text in zip(
                st.columns(2),
                ("cmp_answer_before", "cmp_answer_after"),
                (item.before, item.after),
                (old, new),
                marked,
                strict=True,
            ):
                column.markdown(f"**{escape_markdown(t(heading, status=case_status(status)))}**")
                if answer:
                    column.markdown(text)
                else:
                    column.caption(t("cmp_no_answer"))


def run_answers(run_id: str) -> dict[tuple[str, str], str]:
    """A run's answers by (set, question), the key the comparison matches cases on; fetched
    once per page run however many cases are opened."""
    cache = st.session_state.setdefault("_run_answers", {})
    if run_id not in cache:
        run = api.attempt(client.eval_run, bid, run_id)
        if run is None:
            return {}
        # A finished run does not change: kept for the session.
        cache[run_id] = {(c.set, c.question): c.answer for c in run.cases_detail}
    return cache[run_id]


def case_status(status: str) -> str:
    return t(f"case_{status}") if status in CASE_STATUSES else status


# ---- test sets ----
listing = api.attempt(client.test_sets, bid)
if listing is None:
    st.stop()
sets = listing.sets
st.subheader(t("tests_sets_n", n=len(sets)))
if not sets:
    st.info(t("tests_no_sets"))
else:
    st.dataframe(
        [
            {t("col_set"): s.name, t("col_cases"): s.cases, t("col_date"): s.updated_at[:16].replace("T", " ")}
            for s in sets
        ],
        hide_index=True,
        width="stretch",
        key=f"sets_table_{bid}",
    )
    names = [s.name for s in sets]
    shown = st.selectbox(t("tests_open_set"), names, key=f"set_pick_{bid}")
    exported = api.attempt(client.export_test_set, bid, shown)
    if exported:
        with st.expander(t("tests_cases_of", name=shown, n=len(exported.cases))):
            cases_editor(shown, exported.cases)
            st.download_button(
                t("tests_export"),
                "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in exported.cases),
                file_name=f"{shown}.jsonl",
                mime="application/jsonl",
                key=f"set_export_{bid}",
            )
    if saved := st.session_state.pop(f"cases_saved_{bid}", None):
        st.success(t("tests_cases_saved", name=saved[0], n=saved[1]))

with st.form(f"import_form_{bid}", clear_on_submit=True):
    st.markdown(f"**{t('tests_import')}**")
    upload = st.file_uploader(
        t("tests_import_file"), type=list(FORMATS), key=f"import_file_{bid}", help=t("tests_import_help")
    )
    set_name = st.text_input(
        t("tests_import_name"), key=f"import_name_{bid}", placeholder=t("tests_import_name_placeholder")
    )
    imported_now = st.form_submit_button(
        t("tests_import_go"), type="primary", key=f"import_submit_{bid}", disabled=READ_ONLY
    )
if imported_now:
    if not upload:
        st.warning(t("tests_choose_file"))
    else:
        stem, _, ext = upload.name.rpartition(".")
        name = set_name.strip() or stem or upload.name
        content: str | None
        try:
            content = upload.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            content = None
            st.error(t("tests_not_utf8", name=upload.name))
        if content is not None:
            # The server refuses the whole file when any line is bad, naming every line: shown as is.
            made = api.attempt(client.import_test_set, bid, name, content, FORMATS.get(ext.lower(), "jsonl"))
            if made:
                st.session_state[f"imported_{bid}"] = (made.set, made.cases)
                st.rerun()
if done := st.session_state.pop(f"imported_{bid}", None):
    st.success(t("tests_imported", name=done[0], n=done[1]))

if not sets:
    st.stop()

# ---- runs ----
st.subheader(t("tests_run"))
c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
ALL = "\u0000all"
which = c1.selectbox(
    t("tests_run_set"),
    [ALL, *names],
    key=f"run_set_{bid}",
    format_func=lambda n: t("tests_all_sets") if n == ALL else n,
)
versions = ["draft", "published"]
version = c2.selectbox(
    t("tests_run_version"), versions, key=f"run_version_{bid}", format_func=labeller("pg_mode_", versions)
)
if c3.button(t("tests_run_go"), type="primary", key=f"run_go_{bid}", icon=":material/play_arrow:", disabled=READ_ONLY):
    started = api.attempt(client.start_eval_run, bid, version, None if which == ALL else which)
    if started:
        st.session_state[f"run_shown_{bid}"] = started.run_id
        follow(started.run_id)

history = api.attempt(client.eval_runs, bid)
past = history.runs if history else []
shown_id = st.session_state.get(f"run_shown_{bid}") or next((r.run_id for r in past if r.status == "done"), None)
run = api.attempt(client.eval_run, bid, shown_id) if shown_id else None
if run:
    st.markdown(
        t(
            "run_header",
            id=run.run_id,
            version=t("pg_mode_draft") if run.version == "draft" else f"v{run.version}",
            status=t(f"run_status_{run.status}"),
            sets=", ".join(run.sets),
        )
    )
    if run.status not in RUN_FINISHED:
        # A run started earlier (or one we stopped waiting for): follow it without blocking
        # the page, and redraw everything once it ends.
        following = run.run_id

        @st.fragment(run_every=2)
        def running_run() -> None:
            fresh = api.attempt(client.eval_run, bid, following)
            if fresh is None or fresh.status in RUN_FINISHED:
                st.rerun(scope="app")
            elif fresh.cases:
                st.progress(
                    min(1.0, fresh.done / fresh.cases), text=t("run_progress", done=fresh.done, total=fresh.cases)
                )

        running_run()
    if run.error:
        st.error(run.error)
    m = st.columns(7)
    m[0].metric(t("m_pass_rate"), percent(run.pass_rate))
    m[1].metric(t("m_passed"), run.passed)
    m[2].metric(t("m_failed"), run.failed)
    m[3].metric(t("m_errored"), run.errored)
    m[4].metric("recall@1", score(run.retrieval.get("recall@1")))
    m[5].metric("recall@5", score(run.retrieval.get("recall@5")))
    m[6].metric("MRR@10", score(run.retrieval.get("mrr@10")))
    if run.judge.get("used"):
        j = st.columns(7)
        j[0].metric(t("m_judge_groundedness"), score(run.judge.get("groundedness")))
        j[1].metric(t("m_judge_agreement"), score(run.judge.get("agreement")))
        if run.judge.get("unusable") or run.judge.get("errored"):
            st.caption(t("judge_problems", unusable=run.judge.get("unusable", 0), errored=run.judge.get("errored", 0)))
    else:
        st.caption(t("judge_not_used"))
    # Failed and errored cases first: they are what needs looking at.
    order = {"errored": 0, "failed": 1, "passed": 2}
    st.dataframe(
        [
            {
                t("col_result"): t(f"case_{c.status}"),
                t("col_set"): c.set,
                t("col_question"): c.question,
                t("col_why"): c.error or failed_checks(c.checks),
                t("col_answer"): c.answer,
            }
            for c in sorted(run.cases_detail, key=lambda c: order.get(c.status, 3))
        ],
        hide_index=True,
        width="stretch",
        key=f"run_cases_{bid}",
    )

finished = [r for r in past if r.status == "done" and r.pass_rate is not None]
if finished:
    st.caption(t("tests_history"))
    # Oldest first, one bar per run labelled by its time: reads right with one run or fifty.
    # Drawn with Altair for what st.bar_chart cannot say: labels upright (they were turned
    # and cut), the axis 0-100 % whatever the rates, and each rate written on its bar (a run
    # at 0 % has no bar to see).
    ordered = sorted(finished, key=lambda r: r.created_at)
    history = pd.DataFrame(
        {
            "run": [f"{r.created_at[5:16].replace('T', ' ')}" for r in ordered],
            "id": [r.run_id for r in ordered],
            "rate": [r.pass_rate for r in ordered],
        }
    )
    history["run"] = [
        f"{label} ({n})" if (history["run"] == label).sum() > 1 else label for n, label in enumerate(history["run"], 1)
    ]
    base = alt.Chart(history).encode(
        x=alt.X("run:N", sort=None, title=None, axis=alt.Axis(labelAngle=0, labelLimit=200)),
        y=alt.Y("rate:Q", title=t("m_pass_rate"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("id:N", title="run"), alt.Tooltip("rate:Q", format=".0%")],
    )
    text = base.mark_text(dy=-8).encode(text=alt.Text("rate:Q", format=".0%"))
    st.altair_chart(base.mark_bar(size=36) + text, height=220)

# ---- compare ----
if len(finished) >= 2:
    st.subheader(t("tests_compare"))
    labels = {
        r.run_id: f"{r.created_at[:16].replace('T', ' ')} · {r.run_id} · {percent(r.pass_rate)}" for r in finished
    }
    newest_first = [r.run_id for r in sorted(finished, key=lambda r: r.created_at, reverse=True)]
    c1, c2 = st.columns(2)
    before = c1.selectbox(
        t("tests_compare_a"), newest_first, index=1, key=f"cmp_a_{bid}", format_func=labels.__getitem__
    )
    after = c2.selectbox(
        t("tests_compare_b"), newest_first, index=0, key=f"cmp_b_{bid}", format_func=labels.__getitem__
    )
    if before != after and (cmp := api.attempt(client.compare_runs, bid, before, after)):
        for kind, items in (("regressions", cmp.regressions), ("fixes", cmp.fixes), ("unchanged", cmp.unchanged)):
            st.markdown(f"**{t('cmp_' + kind, n=len(items))}**")
            if items:
                st.dataframe(
                    [
                        {
                            t("col_set"): i.set,
                            t("col_question"): i.question,
                            t("col_before"): t(f"case_{i.before}") if i.before in CASE_STATUSES else i.before,
                            t("col_after"): t(f"case_{i.after}") if i.after in CASE_STATUSES else i.after,
                            t("col_why"): "; ".join(f"{n}: {why}" for n, why in i.reasons.items()),
                        }
                        for i in items
                    ],
                    hide_index=True,
                    width="stretch",
                    key=f"cmp_{kind}_{bid}",
                )
                if kind != "unchanged" or st.toggle(t("cmp_show_unchanged"), key=f"cmp_show_unchanged_{bid}"):
                    answers_side_by_side(kind, items, before, after)

experiments_section(client, bid, [s.name for s in sets])

# ---- the publish gate ----
st.subheader(t("gate_title"))
gate = api.attempt(client.gate, bid)
if gate:
    with st.form(f"gate_form_{bid}"):
        enabled = st.toggle(t("gate_enabled"), gate.enabled, key=f"gate_on_{bid}", help=t("gate_enabled_help"))
        every = st.checkbox(t("gate_every_set"), gate.set_names is None, key=f"gate_every_{bid}")
        chosen = st.multiselect(
            t("gate_sets"),
            names,
            default=[n for n in (gate.set_names or []) if n in names],
            key=f"gate_sets_{bid}",
            help=t("gate_sets_help"),
        )
        minimum = st.slider(
            t("gate_min"), 0, 100, round(gate.min_pass_rate * 100), step=5, key=f"gate_min_{bid}", format="%d%%"
        )
        if st.form_submit_button(t("save"), key=f"gate_save_{bid}", disabled=READ_ONLY):
            if api.attempt(client.save_gate, bid, None if every else chosen, minimum / 100, enabled):
                st.toast(t("saved"))
