"""The Tests page's Experiments section: variants of the draft (YAML, one spec section per key)
measured on a test set, one table and a bar chart per experiment, and promoting a variant to
the draft in one click."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
import yaml

from bots.cli.client import AdminClient
from bots.schemas.experiments import Experiment
from builder import api, sign_in
from builder.i18n import t

EXAMPLE = """\
- name: baseline
- name: strict
  retrieval: {min_relevance: 0.6}
- name: more-passages
  retrieval: {k: 8}
- name: formal
  persona: {tone: formal and precise}
"""


def experiments_section(client: AdminClient, bot_id: str, set_names: Sequence[str]) -> None:
    st.subheader(t("exp_title"))
    st.caption(t("exp_intro"))
    if not set_names:
        st.info(t("exp_no_sets"))
        return
    with st.form(f"exp_form_{bot_id}"):
        chosen = st.selectbox(t("exp_set"), list(set_names), key=f"exp_set_{bot_id}")
        text = st.text_area(t("exp_variants"), EXAMPLE, key=f"exp_variants_{bot_id}", height=180)
        if st.form_submit_button(
            t("exp_go"),
            key=f"exp_go_{bot_id}",
            type="primary",
            icon=":material/science:",
            disabled=not sign_in.can_change(),
        ):
            try:
                variants = yaml.safe_load(text)
            except yaml.YAMLError as err:
                st.error(t("exp_bad_yaml", error=str(err).replace("\n", " ")))
                variants = None
            if variants is not None:
                made = api.attempt(client.start_experiment, bot_id, chosen, variants)
                if made:
                    st.session_state[f"exp_shown_{bot_id}"] = made.experiment_id
    listing = api.attempt(client.experiments, bot_id)
    past = listing.experiments if listing else []
    shown_id = st.session_state.get(f"exp_shown_{bot_id}") or (past[0].experiment_id if past else None)
    shown = next((e for e in past if e.experiment_id == shown_id), None)
    if shown is None:
        return
    if shown.status == "running":

        @st.fragment(run_every=2)
        def running() -> None:
            fresh = api.attempt(client.experiment, bot_id, shown.experiment_id)
            if fresh is None or fresh.status != "running":
                st.rerun(scope="app")
            else:
                done, total = sum(v.done for v in fresh.variants), sum(v.cases for v in fresh.variants)
                st.progress(min(1.0, done / (total or 1)), text=t("run_progress", done=done, total=total))

        running()
    _table(shown)
    _promote(client, bot_id, shown)


def _table(shown: Experiment) -> None:
    st.markdown(t("exp_header", id=shown.experiment_id, set=shown.set, status=t(f"exp_status_{shown.status}")))
    st.dataframe(
        [
            {
                t("exp_col_variant"): v.variant,
                t("m_pass_rate"): v.pass_rate,
                "recall@1": v.recall_at_1,
                "recall@5": v.recall_at_5,
                "MRR@10": v.mrr_at_10,
                t("m_judge_groundedness"): v.judge_groundedness,
                t("m_judge_agreement"): v.judge_agreement,
                "p50 ms": v.latency_p50_ms,
                "p95 ms": v.latency_p95_ms,
                t("exp_col_tokens"): (v.prompt_tokens or 0) + (v.completion_tokens or 0),
                t("exp_col_cost"): v.cost,
                t("exp_col_changes"): yaml.safe_dump(v.overrides, default_flow_style=True).strip()
                if v.overrides
                else "–",
            }
            for v in shown.variants
        ],
        hide_index=True,
        width="stretch",
        key=f"exp_table_{shown.experiment_id}",
    )
    measured = {v.variant: v.pass_rate for v in shown.variants if v.pass_rate is not None}
    if measured:
        st.bar_chart({t("m_pass_rate"): measured}, y_label=t("m_pass_rate"), height=220)


def _promote(client: AdminClient, bot_id: str, shown: Experiment) -> None:
    if shown.promoted:
        st.success(t("exp_promoted", variant=shown.promoted))
    names = [v.variant for v in shown.variants]
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    best = max(shown.variants, key=lambda v: v.pass_rate if v.pass_rate is not None else -1)
    variant = c1.selectbox(t("exp_promote_which"), names, index=names.index(best.variant), key=f"exp_pick_{bot_id}")
    if c2.button(
        t("exp_promote"), key=f"exp_promote_{bot_id}", icon=":material/upgrade:", disabled=not sign_in.can_change()
    ):
        if api.attempt(client.promote_variant, bot_id, shown.experiment_id, variant):
            st.session_state[f"exp_shown_{bot_id}"] = shown.experiment_id
            st.rerun()
