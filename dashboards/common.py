"""What every page does first: the language, the signed-in user and their scope, the snapshot check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards import data
from dashboards.auth import User
from dashboards.data import Scope
from dashboards.i18n import t
from dashboards.state import current_language, current_scope, current_user
from huikuan.publish import NoSnapshotError
from huikuan.settings import load_settings


@dataclass(frozen=True)
class PageContext:
    lang: str
    user: User
    scope: Scope
    currency: str
    snapshot: Path


def start_page(title_key: str) -> PageContext:
    """Title the page; stop it when nobody is signed in or nothing is published yet."""
    lang = current_language()
    st.title(t(title_key, lang))
    user = current_user()
    if user is None:  # the router shows only the login page then; this guards direct runs
        st.warning(t("please_log_in", lang))
        st.stop()
    try:
        snapshot = data.snapshot_path()
    except NoSnapshotError:
        st.info(t("no_snapshot", lang))
        st.stop()
    return PageContext(lang, user, current_scope(user), load_settings().reporting_currency, snapshot)


NEEDS = {
    "pipeline": "not_available_pipeline",
    "reconciliation": "not_available_reconciliation",
    "models": "not_available_models",
}


def require(ctx: PageContext, requirements: dict[str, tuple[str, ...]], produced_by: str = "pipeline",
            stop: bool = True) -> bool:
    """Show a translated 'not available yet' note when the snapshot lacks what a section needs."""
    absent = data.missing(requirements)
    if not absent:
        return True
    st.info(t(NEEDS[produced_by], ctx.lang) + "\n\n" + t("missing_tables", ctx.lang, tables=", ".join(absent)))
    if stop:
        st.stop()
    return False


def footer(ctx: PageContext) -> None:
    st.caption(f"{t('snapshot', ctx.lang)}: {ctx.snapshot.name} · {t('reporting_currency_note', ctx.lang, ccy=ctx.currency)}")
