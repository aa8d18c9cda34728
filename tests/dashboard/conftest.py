"""Fixtures for the dashboard tests: an instance with a published snapshot and one user per role."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.auth import User, hash_password, save_users
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


def write_users(home, users: dict[str, User] | None = None) -> None:
    # Few iterations keep the tests fast; verify_password reads the count from each hash.
    save_users(home / "users.yml", {
        name: {"display_name": u.display_name, "role": u.role,
               "password_hash": hash_password(PASSWORDS[name], iterations=1000),
               **({"salesperson_id": u.salesperson_id} if u.salesperson_id else {})}
        for name, u in (users or USERS).items()
    })


def app_as(user: str | User | None, page: str | None = None, lang: str = "en") -> AppTest:
    """An AppTest of the whole app with `user` signed in the way the login page does it."""
    # A guard against a hung script, not a speed check (page speed is measured in bench/dashboard.py):
    # a shared machine under memory pressure has taken over a minute for one run.
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    if user:
        at.session_state[USER_KEY] = (USERS[user] if isinstance(user, str) else user).to_session()
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

    data.clear_caches()
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


def clear_caches() -> None:
    from dashboards import data

    data.clear_caches()


@pytest.fixture(scope="session")
def real_instance(tmp_path_factory, generated_small):
    """One instance built by the real pipeline steps from the small generated dataset."""
    from bench.dashboard import build_instance

    home = tmp_path_factory.mktemp("dash_real") / "home"
    home.mkdir()
    build_instance(home, generated_small, ml=False)  # ML pages: fixture snapshots, test_pipeline_e2e
    write_users(home, real_users(home))
    return home


def real_salespeople(home) -> list[str]:
    import duckdb

    from huikuan.publish import current_snapshot

    with duckdb.connect(str(current_snapshot(home / "published")), read_only=True) as con:
        return [r[0] for r in con.execute(
            "select salesperson_id from marts.dim_customer where salesperson_id is not null "
            "group by 1 order by count(*) desc, 1"
        ).fetchall()]


def real_users(home) -> dict[str, User]:
    """The role users, with sales1/sales2 mapped to the two salespeople with most customers."""
    sp = real_salespeople(home)
    return {**USERS, "sales1": User("sales1", "Sales One", "sales", sp[0]),
            "sales2": User("sales2", "Sales Two", "sales", sp[1])}


@pytest.fixture
def real_home(real_instance, monkeypatch):
    monkeypatch.setenv("HUIKUAN_HOME", str(real_instance))
    monkeypatch.setenv("HUIKUAN_LANGUAGE", "en")
    clear_caches()
    return real_instance


def snapshot_con(home):
    """A read-only connection to the instance's current snapshot, for expected values."""
    import duckdb

    from huikuan.publish import current_snapshot

    return duckdb.connect(str(current_snapshot(home / "published")), read_only=True)
