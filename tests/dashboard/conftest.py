"""Fixtures for the dashboard tests: an instance with a published snapshot and one user per role."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.auth import ACTING_ROLES, User, hash_password, save_users
from dashboards.state import USER_KEY
from tests.conftest import ROOT

APP = str(ROOT / "dashboards" / "app.py")
PASSWORDS = {"cfo": "cfo-pass", "finance": "fin-pass", "collector": "col-pass", "sales1": "s1-pass",
             "sales2": "s2-pass", "analyst": "an-pass"}
USERS = {
    "cfo": User("cfo", "Chief Financial Officer", "cfo"),
    "finance": User("finance", "Finance", "finance"),
    "collector": User("collector", "Collector", "collector"),
    "sales1": User("sales1", "Sales One", "sales", "S01"),
    "sales2": User("sales2", "Sales Two", "sales", "S02"),
    "analyst": User("analyst", "Analyst", "analyst"),
}
assert ACTING_ROLES


def write_users(home) -> None:
    # Few iterations keep the tests fast; verify_password reads the count from each hash.
    save_users(home / "users.yml", {
        name: {"display_name": u.display_name, "role": u.role,
               "password_hash": hash_password(PASSWORDS[name], iterations=1000),
               **({"salesperson_id": u.salesperson_id} if u.salesperson_id else {})}
        for name, u in USERS.items()
    })


def app_as(username: str | None, page: str | None = None, lang: str = "en") -> AppTest:
    """An AppTest of the whole app with `username` signed in the way the login page does it."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    if username:
        at.session_state[USER_KEY] = USERS[username].to_session()
    if page:
        at.switch_page(f"views/{page}.py")
    return at


@pytest.fixture
def fixture_home(tmp_path, monkeypatch):
    """An instance whose snapshot is the small hand-made warehouse of tests/dashboard/snapshot.py."""
    from tests.dashboard.snapshot import build

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HUIKUAN_HOME", str(home))
    monkeypatch.setenv("HUIKUAN_LANGUAGE", "en")
    build(home)
    write_users(home)
    from dashboards import data

    data._cached_query.clear()
    data._catalog.clear()
    return home


RENDERED_TYPES = ("dataframe", "arrow_vega_lite_chart", "selectbox", "multiselect", "markdown", "caption",
                  "metric", "text", "table", "header", "subheader", "title", "radio")


def rendered_bytes(at: AppTest) -> bytes:
    """Everything the page sent to the browser (tables, charts, options, text) as bytes to search."""
    out = []
    for kind in RENDERED_TYPES:
        for el in at.get(kind):
            proto = getattr(el, "proto", None)
            if proto is not None:
                out.append(proto.SerializeToString())
    return b"\n".join(out)
