"""Per-session UI state: the chosen language (URL ?lang=, then the session, then configuration)."""

from __future__ import annotations

import streamlit as st

from dashboards.i18n import LANGUAGES
from huikuan.settings import load_settings


def current_language() -> str:
    from_url = st.query_params.get("lang")
    if from_url in LANGUAGES and "lang" not in st.session_state:
        st.session_state["lang"] = from_url
    lang = st.session_state.get("lang") or load_settings().language
    return lang if lang in LANGUAGES else "zh"
