"""Team: your account (name, password, API tokens) for everyone; for owners, the people and
their roles, everyone's tokens, and the audit log with filters."""

from __future__ import annotations

import streamlit as st

from bots.core.roles import Role
from builder import api, sign_in
from builder.i18n import labeller, t

ROLES = [r.value for r in Role]

st.header(t("page_team"))
client = api.client()
me = sign_in.me()
if me is None:
    st.stop()


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


# ---- your account ----
st.subheader(t("team_you"))
if not me.user.has_password:
    st.warning(t("team_no_password"), icon=":material/password:")
with st.form("team_account", clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input(t("signin_name"), value=me.user.name, key="team_my_name")
    new_password = c2.text_input(t("team_new_password"), type="password", key="team_my_password")
    current = c3.text_input(
        t("team_current_password"), type="password", key="team_my_current", disabled=not me.user.has_password
    )
    if st.form_submit_button(t("team_save_account"), key="team_save_account"):
        fields: dict = {}
        if name.strip() and name.strip() != me.user.name:
            fields["name"] = name.strip()
        if new_password:
            fields |= {"password": new_password, "current_password": current or None}
        if fields and api.attempt(client.change_me, **fields):
            st.session_state["team_flash"] = t("team_saved")
            st.rerun()
if flash := st.session_state.pop("team_flash", None):
    st.success(flash)

st.markdown(f"**{t('team_tokens')}**")
st.caption(t("team_tokens_help"))
with st.form("team_token_form", clear_on_submit=True):
    c1, c2 = st.columns([2, 1])
    token_name = c1.text_input(t("team_token_name"), key="team_token_name", placeholder="laptop")
    if c2.form_submit_button(t("team_token_create"), key="team_token_create") and token_name.strip():
        made = api.attempt(client.create_token, token_name.strip())
        if made:
            st.session_state["team_token_shown"] = made.token
            st.rerun()
if shown := st.session_state.pop("team_token_shown", None):
    st.warning(t("team_token_once"))
    st.code(shown, language=None)


def _token_table(tokens, with_user: bool) -> None:
    rows = []
    for x in tokens:
        row = {t("col_name"): x.name, t("col_kind"): x.kind}
        if with_user:
            row[t("col_who")] = x.user_name
        state = "revoked" if x.revoked else "active"
        row |= {
            t("col_date"): _when(x.created_at),
            t("col_last_used"): _when(x.last_used_at),
            t("col_expires"): _when(x.expires_at),
            t("col_status"): t(f"team_state_{state}"),
        }
        rows.append(row)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")


def _revoke_picker(tokens, key: str) -> None:
    live = {x.id: x for x in tokens if not x.revoked}
    if not live:
        return
    c1, c2 = st.columns([2, 1])
    victim = c1.selectbox(
        t("team_token_pick"),
        list(live),
        key=f"{key}_pick",
        format_func=lambda i: f"{live[i].user_name} · {live[i].name}",
    )
    if c2.button(t("team_token_revoke"), key=f"{key}_revoke") and api.succeeded(client.revoke_token, victim):
        st.rerun()


mine = api.attempt(client.tokens) or []
_token_table(mine, with_user=False)
_revoke_picker([x for x in mine if x.kind == "api"], "team_mine")

if me.user.role != Role.OWNER:
    st.stop()

# ---- people (owners) ----
st.subheader(t("team_people"))
people = api.attempt(client.users) or []
st.dataframe(
    [
        {
            t("col_name"): u.name,
            t("col_role"): t(f"role_{u.role}"),
            t("col_status"): t("team_state_disabled") if u.disabled else t("team_state_active"),
            t("col_date"): _when(u.created_at),
        }
        for u in people
    ],
    hide_index=True,
    width="stretch",
)
c1, c2 = st.columns(2)
with c1, st.form("team_add_person", clear_on_submit=True):
    st.markdown(f"**{t('team_add_person')}**")
    new_name = st.text_input(t("signin_name"), key="team_new_name")
    new_role = st.selectbox(t("team_role"), ROLES, index=1, key="team_new_role", format_func=labeller("role_", ROLES))
    if st.form_submit_button(t("team_add"), key="team_add") and new_name.strip():
        made_user = api.attempt(client.create_user, new_name.strip(), new_role)
        if made_user:
            st.session_state["team_one_time"] = (made_user.name, made_user.one_time_password)
            st.rerun()
if one_time := st.session_state.pop("team_one_time", None):
    c1.warning(t("team_one_time", name=one_time[0], password=one_time[1]))
if people:
    by_id = {u.id: u for u in people}
    with c2, st.container(border=True):
        st.markdown(f"**{t('team_change_person')}**")
        # Outside the form, so the role and state below start from the chosen person's own.
        who = st.selectbox(t("team_person"), list(by_id), key="team_who", format_func=lambda i: by_id[i].name)
        person = by_id[who]
        with st.form(f"team_change_{who}", border=False):
            role = st.selectbox(
                t("team_role"),
                ROLES,
                index=ROLES.index(person.role),
                key=f"team_who_role_{who}",
                format_func=labeller("role_", ROLES),
            )
            disabled = st.checkbox(t("team_disabled"), value=person.disabled, key=f"team_who_disabled_{who}")
            if st.form_submit_button(t("team_apply"), key=f"team_apply_{who}") and api.attempt(
                client.update_user, who, role=role, disabled=disabled
            ):
                st.rerun()

st.markdown(f"**{t('team_all_tokens')}**")
everyone = api.attempt(client.tokens, everyone=True) or []
_token_table(everyone, with_user=True)
_revoke_picker(everyone, "team_all")

# ---- audit log (owners) ----
st.subheader(t("team_audit"))
any_label = t("team_audit_any")
bots = api.attempt(client.bots) or []
bot_names = {b.id: b.name for b in bots}
c1, c2, c3 = st.columns(3)
user_filter = c1.selectbox(
    t("team_audit_user"), ["", *[u.name for u in people]], key="audit_user", format_func=lambda v: v or any_label
)
action_filter = c2.text_input(t("team_audit_action"), key="audit_action", placeholder="bot.publish")
bot_filter = c3.selectbox(
    t("team_audit_bot"), ["", *bot_names], key="audit_bot", format_func=lambda v: bot_names.get(v, v) or any_label
)
filters = {"user": user_filter or None, "action": action_filter.strip() or None, "bot_id": bot_filter or None}
page = api.attempt(lambda: client.audit(**filters, limit=200))
if page and page.entries:
    st.dataframe(
        [
            {
                t("col_when"): f"{e.at:%Y-%m-%d %H:%M:%S}",
                t("col_who"): e.user_name,
                t("col_action"): e.action,
                t("col_target"): f"{e.target_type} {e.target_id or ''}".strip(),
                t("team_audit_bot"): bot_names.get(e.bot_id or "", e.bot_id or ""),
            }
            for e in page.entries
        ],
        hide_index=True,
        width="stretch",
    )
    st.caption(t("team_audit_count", shown=len(page.entries), total=page.total))
elif page:
    st.caption(t("team_audit_empty"))
