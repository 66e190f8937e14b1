"""Publish: versions and rollback, allowed origins, widget appearance with the real widget as a
preview, embed snippets and code examples, API keys."""

import copy
import json

import streamlit as st
import streamlit.components.v1 as components
from pydantic import ValidationError

from bots.cli.client import ClientError
from bots.core.spec import BotSpec, public_config
from bots.schemas.keys import Snippets
from builder import api, sign_in
from builder.i18n import labeller, t

# Viewers see the page, not the buttons that change things (the server refuses them anyway).
READ_ONLY = not sign_in.can_change()

st.header(t("page_publish"))
bot = api.selected_bot()
if not bot:
    st.info(t("pick_a_bot"))
    st.stop()
client = api.client()
bid, server = bot.id, client.base_url
raw = {**copy.deepcopy(bot.spec), "name": bot.name}
created_keys = st.session_state.setdefault(f"new_keys_{bid}", {})

# ---- publishing ----
listing = api.attempt(client.versions, bid)
live = listing.published_version if listing else None
st.markdown(t("pub_live", version=live) if live else t("pub_not_live"))
gate, test_sets = api.attempt(client.gate, bid), api.attempt(client.test_sets, bid)
if gate and test_sets:
    gating = [s for s in test_sets.sets if gate.set_names is None or s.name in gate.set_names]
    if not gate.enabled:
        st.caption(t("pub_gate_off"))
    elif not sum(s.cases for s in gating):
        st.caption(t("pub_gate_none"))
    else:
        st.info(
            t(
                "pub_gate_sets",
                sets=", ".join(s.name for s in gating),
                n=sum(s.cases for s in gating),
                rate=f"{gate.min_pass_rate:.0%}",
            ),
            icon=":material/fact_check:",
        )
refused_key = f"pub_refused_{bid}"


def publish(note: str, override: str | None = None) -> None:
    try:
        published = client.publish(bid, note, override=override)
    except ClientError as err:
        if err.code != "publish_gate_refused":
            st.error(str(err))
            return
        # Kept across reruns so the override form stays up while its reason is typed.
        st.session_state[refused_key] = {"note": note, "message": str(err), "gate": err.details.get("gate") or {}}
        st.rerun()
    st.session_state.pop(refused_key, None)
    st.session_state[f"pub_done_{bid}"] = published.number
    st.rerun()


with st.form(f"publish_form_{bid}", clear_on_submit=True):
    note = st.text_input(t("pub_note"), key=f"pub_note_{bid}", placeholder=t("pub_note_placeholder"))
    if st.form_submit_button(
        t("pub_publish"), type="primary", key=f"pub_submit_{bid}", icon=":material/rocket_launch:", disabled=READ_ONLY
    ):
        publish(note)
if refused := st.session_state.get(refused_key):
    st.error(f"**{t('pub_gate_refused')}** {refused['message']}")
    # The refusal names its run: its failing cases say what regressed, check by check.
    run_id = refused["gate"].get("run_id")
    run = api.attempt(client.eval_run, bid, run_id) if run_id else None
    failing = [c for c in run.cases_detail if c.status != "passed"] if run else []
    if failing:
        st.markdown(f"**{t('pub_gate_failing')}**")
        st.dataframe(
            [
                {
                    t("col_result"): t(f"case_{c.status}"),
                    t("col_question"): c.question,
                    t("col_why"): c.error
                    or "; ".join(f"{name}: {v.reason}" for name, v in c.checks.items() if not v.passed),
                }
                for c in failing
            ],
            hide_index=True,
            width="stretch",
            key=f"pub_failing_{bid}",
        )
    with st.form(f"override_form_{bid}"):
        reason = st.text_area(
            t("pub_override"), key=f"pub_override_{bid}", placeholder=t("pub_override_placeholder"), height=80
        )
        if st.form_submit_button(t("pub_override_go"), key=f"pub_override_go_{bid}", icon=":material/warning:"):
            if reason.strip():
                publish(refused["note"], reason.strip())
            else:
                st.warning(t("pub_override_need_reason"))
if done := st.session_state.pop(f"pub_done_{bid}", None):
    st.success(t("pub_done", version=done))

if listing and listing.versions:
    with st.expander(t("pub_history", n=len(listing.versions))):
        versions = sorted(listing.versions, key=lambda v: -v.number)
        st.dataframe(
            [
                {
                    t("col_version"): f"v{v.number}" + (" ●" if v.published else ""),
                    t("col_note"): v.note,
                    t("col_date"): v.created_at[:16].replace("T", " "),
                }
                for v in versions
            ],
            hide_index=True,
            width="stretch",
        )
        older = [v.number for v in versions if not v.published]
        if older:
            back = st.selectbox(t("pub_rollback_to"), older, format_func=lambda n: f"v{n}", key=f"rb_pick_{bid}")
            if st.button(t("pub_rollback"), key=f"rb_go_{bid}", help=t("pub_rollback_help"), disabled=READ_ONLY):
                if api.attempt(client.rollback, bid, back):
                    st.rerun()

# ---- where it may run, and how it looks ----
st.subheader(t("pub_appearance"))
widget = {**(raw.get("widget") or {})}
left, right = st.columns([3, 2], gap="large")
with left:
    origins = st.text_area(
        t("pub_origins"),
        "\n".join(raw.get("allowed_origins") or []),
        key=f"pub_origins_{bid}",
        height=90,
        placeholder="https://www.example.com",
        help=t("pub_origins_help"),
    )
    title = st.text_input(t("w_title"), widget.get("title", ""), key=f"w_title_{bid}", placeholder=bot.name)
    # The welcome message has one home, the persona's greeting: a spec that still carries a
    # widget welcome of its own keeps it (it wins in the widget) until the Persona page saves.
    st.caption(t("w_welcome_is_greeting"))
    starters = st.text_area(
        t("w_starters"),
        "\n".join(widget.get("starters") or []),
        key=f"w_starters_{bid}",
        height=100,
        help=t("w_starters_help"),
    )
    avatar = st.text_input(
        t("w_avatar"), widget.get("avatar_url") or "", key=f"w_avatar_{bid}", placeholder="https://…/avatar.png"
    )
    c1, c2 = st.columns(2)
    color = c1.color_picker(t("w_color"), widget.get("primary_color", "#2563eb"), key=f"w_color_{bid}")
    positions = ["right", "left"]
    position = c2.radio(
        t("w_position"),
        positions,
        index=positions.index(widget.get("position", "right")),
        key=f"w_position_{bid}",
        horizontal=True,
        format_func=labeller("w_position_", positions),
    )

draft = copy.deepcopy(raw)
draft["allowed_origins"] = [o.strip() for o in origins.splitlines() if o.strip()]
draft["widget"] = {
    **widget,
    "title": title,
    "avatar_url": avatar.strip() or None,
    "starters": [s.strip() for s in starters.splitlines() if s.strip()],
    "primary_color": color,
    "position": position,
}
checked: BotSpec | None
try:
    checked = BotSpec.model_validate(draft)
    problem = None
except ValidationError as err:
    checked, problem = None, "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()[:4])

with left:
    if problem:
        st.error(t("draft_invalid", problems=problem))
    if st.button(t("pub_save_appearance"), key=f"w_save_{bid}", disabled=READ_ONLY or bool(problem)):
        if api.attempt(client.update_bot, bid, spec=draft):
            st.toast(t("pub_saved_draft"))
            st.rerun()
with right:
    st.caption(t("w_preview_help"))
    if checked:
        # The real widget script, fed this unsaved appearance in place of the server's
        # published config, so what you see is what customers will get once you publish.
        # Escaped for a <script> block: a welcome text containing "</script>" stays text.
        config = json.dumps(json.dumps(public_config(checked, bid))).replace("</", "<\\/")
        components.html(
            f"""<!doctype html><html><body style="margin:0;background:#f5f5f4;font-family:sans-serif">
<script>
try {{ sessionStorage.setItem('prompteur:{bid}:open', '1'); }} catch (e) {{ /* sandboxed: starts closed */ }}
const realFetch = window.fetch.bind(window);
window.fetch = (url, opts) => String(url).endsWith('/v1/bots/{bid}/config')
  ? Promise.resolve(new Response({config}, {{status: 200, headers: {{'Content-Type': 'application/json'}}}}))
  : realFetch(url, opts);
</script>
<script src="{server}/widget.js" data-bot="{bid}" async></script></body></html>""",
            height=620,
        )

# ---- snippets and examples ----
st.subheader(t("pub_embed"))
if not sign_in.can_change():
    # Viewers may not read keys, and every snippet holds one: the server refuses both anyway.
    st.info(t("viewer_no_keys"), icon=":material/key_off:")
    st.stop()
keys = api.attempt(client.keys, bid) or []
pk = next((v for k, v in created_keys.items() if v.startswith("pk_")), None)
sk = next((v for k, v in created_keys.items() if v.startswith("sk_")), None)
if not pk:
    st.info(t("pub_need_pk"))
# The server writes the snippets (one source of truth for the builder, the API and docs).
embed = api.attempt(client.embed, bid, key=pk)
# When the server could not be asked (its error is shown), the tabs stay empty.
snippets = embed.model_dump() if embed else dict.fromkeys(Snippets.model_fields, "")
if sk:  # a secret key created in this session: fill it into the server-side examples
    snippets = {k: v.replace("sk_YOUR_SECRET_KEY", sk) for k, v in snippets.items()}
tabs = st.tabs([t("pub_tab_script"), t("pub_tab_iframe"), t("pub_tab_link"), "curl", "Python (openai)"])
with tabs[0]:
    st.caption(t("pub_script_help"))
    # Wrapped: on one scrolling line, the key (the part that differs per bot) is out of sight.
    st.code(snippets["script"], language="html", wrap_lines=True)
with tabs[1]:
    st.caption(t("pub_iframe_help"))
    st.code(snippets["iframe"], language="html", wrap_lines=True)
with tabs[2]:
    st.code(snippets["hosted_url"], language=None, wrap_lines=True)
with tabs[3]:
    st.code(snippets["curl"], language="bash")
with tabs[4]:
    st.code(snippets["python"], language="python")

# ---- keys ----
st.subheader(t("pub_keys"))
with st.form(f"key_form_{bid}", clear_on_submit=True):
    c1, c2 = st.columns([1, 2])
    kinds = ["publishable", "secret"]
    kind = c1.selectbox(
        t("key_kind"), kinds, key=f"key_kind_{bid}", format_func=labeller("key_kind_", kinds), help=t("key_kind_help")
    )
    label = c2.text_input(t("key_label"), key=f"key_label_{bid}", placeholder=t("key_label_placeholder"))
    if st.form_submit_button(t("key_create"), key=f"key_create_{bid}"):
        made = api.attempt(client.create_key, bid, kind, label)
        if made:
            created_keys[made.id] = made.key
            st.session_state[f"key_shown_{bid}"] = made.key
            st.rerun()
if shown := st.session_state.pop(f"key_shown_{bid}", None):
    st.warning(t("key_once"))
    st.code(shown, language=None)
active = [k for k in keys if not k.revoked_at]
if keys:
    st.dataframe(
        [
            {
                t("col_key"): k.masked,
                t("key_kind"): t(f"key_kind_{k.kind}"),
                t("key_label"): k.label,
                t("col_date"): k.created_at[:16].replace("T", " "),
                t("col_status"): t("key_revoked") if k.revoked_at else t("key_active"),
            }
            for k in keys
        ],
        hide_index=True,
        width="stretch",
    )
if active:
    by_id = {k.id: k for k in active}
    c1, c2 = st.columns([2, 1])
    victim = c1.selectbox(
        t("key_revoke_pick"),
        list(by_id),
        key=f"key_pick_{bid}",
        format_func=lambda i: f"{by_id[i].masked} {by_id[i].label}",
    )
    sure = c2.checkbox(t("key_revoke_confirm"), key=f"key_sure_{bid}_{victim}")
    if c2.button(t("key_revoke"), key=f"key_revoke_{bid}", disabled=not sure):
        if api.succeeded(client.revoke_key, bid, victim):
            created_keys.pop(victim, None)
            st.rerun()
