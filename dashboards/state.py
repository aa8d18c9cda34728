"""Per-session UI state: the chosen language (URL ?lang=, then the session, then configuration) and the user."""

from __future__ import annotations

import streamlit as st

from dashboards.auth import User
from dashboards.data import Scope
from dashboards.i18n import LANGUAGES
from huikuan.settings import load_settings

USER_KEY = "auth_user"


def current_language() -> str:
    from_url = st.query_params.get("lang")
    if from_url in LANGUAGES and "lang" not in st.session_state:
        st.session_state["lang"] = from_url
    lang = st.session_state.get("lang") or load_settings().language
    return lang if lang in LANGUAGES else "zh"


def sign_in(user: User) -> None:
    """What the login page does on success (tests set the same key to sign a user in)."""
    st.session_state[USER_KEY] = user.to_session()


def sign_out() -> None:
    if USER_KEY in st.session_state:
        del st.session_state[USER_KEY]


def current_user() -> User | None:
    value = st.session_state.get(USER_KEY)
    return User.from_session(value) if value else None


def current_scope(user: User) -> Scope:
    """The rows this user may read; every query gets it."""
    return Scope.for_role(user.role, user.salesperson_id)
