"""Signing in to the builder (team use, issue #15 item 10): nobody sees a page before the
server knows who they are.

A person signs in with their name and password (a builder session that expires), or, the first
time, with the admin token (the first owner's credential, in PROMPTEUR_HOME/admin_token on the
server's machine). When the server refuses the session (it expired, was revoked, or the user
was disabled), the person is sent back here with a sentence saying so.

For automation only (tests, a demo on one's own machine): PROMPTEUR_BUILDER_TOKEN=<token> signs
every session in with that token, and PROMPTEUR_BUILDER_AUTO_SIGN_IN=1 with the credential the
CLI would find on this machine (PROMPTEUR_TOKEN, `prompteur login`'s, else the admin token).
Anyone who can reach such a builder is that user: never set them on a shared server."""

from __future__ import annotations

import os

import streamlit as st

from bots.cli.client import AdminClient, ClientError, discover
from bots.core.roles import Role
from bots.schemas.team import Me
from builder.i18n import t

TOKEN_ENV = "PROMPTEUR_BUILDER_TOKEN"
AUTO_ENV = "PROMPTEUR_BUILDER_AUTO_SIGN_IN"
_TOKEN = "_credential"  # the session's secret, in this browser session's state only
_ME = "_me"
_NOTICE = "_sign_in_notice"


def automation_token() -> str | None:
    if token := os.environ.get(TOKEN_ENV, "").strip():
        return token
    if os.environ.get(AUTO_ENV, "").strip().lower() in ("1", "true", "yes"):
        return discover()[1]
    return None


def new_client() -> AdminClient:
    """The builder's client: the server's address as the CLI finds it, but no credential until
    someone signs in (unlike the CLI, the builder never picks up the admin token by itself)."""
    url, _ = discover()
    client = AdminClient(url, None)
    if token := st.session_state.get(_TOKEN) or automation_token():
        st.session_state[_TOKEN] = token
        client.use_token(token)
    return client


def me() -> Me | None:
    return st.session_state.get(_ME)


def role() -> Role | None:
    found = me()
    return found.user.role if found else None


def can_change() -> bool:
    found = role()
    return found is not None and found.allows(Role.EDITOR)


def require(client: AdminClient) -> Me:
    """Who is signed in, asked of the server on every run (so an expired or revoked session is
    noticed at once); draws the sign-in page and stops the run when nobody is."""
    if st.session_state.get(_TOKEN):
        try:
            found = client.me()
            st.session_state[_ME] = found
            return found
        except ClientError as err:
            if err.status != 401:
                st.error(str(err))  # the server is down: say so, and do not pretend to sign out
                st.stop()
            _forget(client)
            st.session_state[_NOTICE] = t("signin_expired")
    _page(client)
    st.stop()
    raise AssertionError("st.stop() ends the run")  # for type checkers


def sign_out(client: AdminClient) -> None:
    try:
        client.logout()
    except ClientError:
        pass  # already over on the server: forgetting it here is what matters
    _forget(client)
    st.session_state[_NOTICE] = t("signin_signed_out")


def _forget(client: AdminClient) -> None:
    for key in (_TOKEN, _ME):
        st.session_state.pop(key, None)
    client.use_token(None)


def _page(client: AdminClient) -> None:
    # A narrow middle column: the wide layout of the pages would stretch two fields across the screen.
    with st.columns([1, 2, 1])[1]:
        _form(client)


def _form(client: AdminClient) -> None:
    st.title(t("signin_title"))
    if notice := st.session_state.pop(_NOTICE, None):
        st.info(notice, icon=":material/logout:")
    password_tab, token_tab = st.tabs([t("signin_with_password"), t("signin_with_token")])
    with password_tab, st.form("sign_in_form"):
        name = st.text_input(t("signin_name"), key="sign_in_name", autocomplete="username")
        password = st.text_input(
            t("signin_password"), type="password", key="sign_in_password", autocomplete="current-password"
        )
        if st.form_submit_button(t("signin_button"), type="primary", key="sign_in_submit"):
            _try(client, lambda: client.login(name, password).token)
    with token_tab, st.form("sign_in_token_form"):
        st.caption(t("signin_token_help"))
        token = st.text_input(t("signin_token"), type="password", key="sign_in_token")
        if st.form_submit_button(t("signin_button"), key="sign_in_token_submit"):
            _try(client, lambda: token.strip())


def _try(client: AdminClient, credential) -> None:
    try:
        token = credential()
        if not token:
            raise ClientError(t("signin_token_missing"))
        client.use_token(token)
        st.session_state[_ME] = client.me()
    except ClientError as err:
        client.use_token(None)
        st.error(t("signin_failed") if err.status == 401 else str(err))
        return
    st.session_state[_TOKEN] = token
    st.rerun()
