"""Dashboard entry point: language switch, login, and the page router (one file per page, by role)."""

from __future__ import annotations

import streamlit as st

from dashboards.i18n import LANGUAGES, t
from dashboards.login import login_page, sso_configured
from dashboards.state import current_language, current_user, sign_out

st.set_page_config(page_title="Huikuan 回款", page_icon="💴", layout="wide")
st.set_option("client.toolbarMode", "viewer")  # no "Deploy" button for finance users

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

user = current_user()
if user is None:
    st.navigation([st.Page(login_page, title=t("login", lang), icon=":material/login:", url_path="login")],
                  position="hidden").run()
    st.stop()

with st.sidebar:
    st.caption(f":material/person: {user.display_name} · {t('role_' + user.role, lang)}")
    if st.button(t("logout", lang), key="logout"):
        sign_out()
        if sso_configured() and st.user.get("is_logged_in", False):
            st.logout()  # ends the identity-provider session too
        st.rerun()

PAGES = [
    # (file, title key, icon, url path, roles that see it; None = every role)
    ("views/overview.py", "page_overview", ":material/dashboard:", "overview", None),
    ("views/aging.py", "page_aging", ":material/stacked_bar_chart:", "aging", None),
    ("views/worklist.py", "page_worklist", ":material/call:", "worklist", None),
    ("views/forecast.py", "page_forecast", ":material/trending_up:", "forecast", None),
    ("views/customers.py", "page_customers", ":material/apartment:", "customers", None),
    ("views/projects.py", "page_projects", ":material/construction:", "projects", None),
    # Unmatched bank lines belong to no salesperson yet, so sales users do not review them.
    ("views/reconciliation.py", "page_reconciliation", ":material/account_balance:", "reconciliation",
     {"cfo", "finance", "collector", "analyst"}),
    ("views/models.py", "page_models", ":material/model_training:", "models", None),
]
pages = [
    st.Page(path, title=t(key, lang), icon=icon, url_path=url, default=(url == "overview"))
    for path, key, icon, url, roles in PAGES
    if roles is None or user.role in roles
]
st.navigation(pages).run()
