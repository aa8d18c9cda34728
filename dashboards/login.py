"""Login form: checks the users file and signs the user into this browser session."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from dashboards.auth import authenticate, ensure_users_file, user_for_email, users_path
from dashboards.i18n import t
from dashboards.state import current_language, sign_in

MAX_FREE_ATTEMPTS = 5


def sso_configured() -> bool:
    """Whether Streamlit's secrets hold an [auth] section (OIDC through st.login)."""
    try:
        return "auth" in st.secrets
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return False


def _sso(lang: str, path) -> None:
    if st.user.get("is_logged_in", False):
        user = user_for_email(path, st.user.get("email"))
        if user is not None:
            sign_in(user)
            st.rerun()
        st.error(t("sso_unknown", lang, email=st.user.get("email") or "?"))
        st.button(t("logout", lang), on_click=st.logout, key="sso_logout")
    else:
        st.button(t("login_sso", lang), on_click=st.login, key="sso_login", type="primary")
    st.divider()


def login_page() -> None:
    lang = current_language()
    path = users_path()
    ensure_users_file(path)
    st.title(t("app_title", lang))
    st.subheader(t("login", lang))
    if sso_configured():
        _sso(lang, path)
    with st.form("login", clear_on_submit=False):
        username = st.text_input(t("username", lang), key="login_username")
        password = st.text_input(t("password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_button", lang), type="primary")
    if submitted:
        failures = st.session_state.get("login_failures", 0)
        if failures >= MAX_FREE_ATTEMPTS:
            time.sleep(min(2 * (failures - MAX_FREE_ATTEMPTS + 1), 10))  # slow down guessing
        user = authenticate(path, username, password)
        if user is None:
            st.session_state["login_failures"] = failures + 1
            st.error(t("login_failed", lang))
        else:
            st.session_state["login_failures"] = 0
            sign_in(user)
            st.rerun()
    st.caption(t("login_hint", lang, path=str(path)))
