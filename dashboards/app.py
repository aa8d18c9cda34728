"""Dashboard entry point: language switch and page router (one file per page)."""

from __future__ import annotations

import streamlit as st

from dashboards.i18n import LANGUAGES, t
from dashboards.state import current_language

st.set_page_config(page_title="Huikuan 回款", page_icon="💴", layout="wide")

lang = current_language()
with st.sidebar:
    chosen = st.selectbox(
        t("language", lang),
        list(LANGUAGES),
        index=list(LANGUAGES).index(lang),
        format_func=LANGUAGES.get,
        key="lang_select",
    )
    if chosen != lang:
        st.session_state["lang"] = chosen
        st.query_params["lang"] = chosen
        st.rerun()

pages = [
    st.Page("pages/aging.py", title=t("page_aging", lang), icon="📊", url_path="aging", default=True),
]
st.navigation(pages).run()
