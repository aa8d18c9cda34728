"""The dashboard keeps serving, without lock errors, while the pipeline publishes new snapshots."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest

from dashboards import data
from huikuan.publish import publish, snapshots
from tests.dashboard.conftest import app_as, clear_caches, snapshot_con

pytestmark = pytest.mark.slow


def _publisher(home, stop: threading.Event, published: list, errors: list) -> None:
    wh = home / "warehouse" / "warehouse.duckdb"
    while not stop.is_set():
        try:
            published.append(publish(wh, home / "published", keep=2))
        except Exception as exc:  # noqa: BLE001 — whatever breaks a publish must fail the test
            errors.append(exc)
            return


def test_pages_and_queries_keep_working_during_publishes(fixture_home):
    with snapshot_con(fixture_home) as con:
        total = float(con.execute(
            "select sum(open_amount_rpt) from marts.ar_aging where basis = 'due_date'").fetchone()[0])
    stop, published, errors = threading.Event(), [], []
    thread = threading.Thread(target=_publisher, args=(fixture_home, stop, published, errors), daemon=True)
    thread.start()
    try:
        deadline = time.time() + 12
        renders = queries = 0
        while time.time() < deadline and not errors:
            for page in ("overview", "aging", "worklist", "customers"):
                at = app_as("cfo", page)
                at.run()
                assert not at.exception, (page, at.exception)
                renders += 1
            for _ in range(20):
                clear_caches()  # force a fresh read-only open of whatever snapshot is current
                assert float(data.aging_totals()["total_ar"]) == pytest.approx(total)
                queries += 1
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert len(published) >= 3, "the publisher did not get to publish repeatedly"
    assert len(snapshots(fixture_home / "published")) <= 3  # old snapshots were pruned under the readers
    assert renders >= 4 and queries >= 20


def test_held_connection_follows_publishes_under_concurrent_readers(fixture_home):
    """Queries share one held connection: readers in several threads keep getting the same figures
    while snapshots are published and pruned under them, and the connection moves to the newest."""
    from huikuan.publish import current_snapshot

    with snapshot_con(fixture_home) as con:
        total = float(con.execute(
            "select sum(open_amount_rpt) from marts.ar_aging where basis = 'due_date'").fetchone()[0])
    clear_caches()
    stop, published, errors, answers = threading.Event(), [], [], []

    def reader(n: int) -> None:
        try:
            for i in range(60):  # a distinct comment per query so no answer comes from the result cache
                sql = f"select sum(open_amount_rpt) as s from marts.ar_aging where basis = 'due_date' -- {n}.{i}"
                answers.append(float(data.query(sql)["s"].iloc[0]))
        except Exception as exc:  # noqa: BLE001 — any failed read fails the test
            errors.append(exc)

    thread = threading.Thread(target=_publisher, args=(fixture_home, stop, published, errors), daemon=True)
    thread.start()
    readers = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    for r in readers:
        r.start()
    for r in readers:
        r.join(timeout=120)
    stop.set()
    thread.join(timeout=60)
    assert not errors, errors
    assert len(published) >= 3, "the publisher did not get to publish repeatedly"
    assert answers == [pytest.approx(total)] * 180
    newest = current_snapshot(fixture_home / "published")
    assert data.query("select current_database() as db -- after")["db"].iloc[0] == newest.stem


def test_http_server_answers_during_publishes(real_instance, tmp_path):
    """A real `streamlit run` keeps answering while snapshots are swapped underneath it."""
    from tests.dashboard.test_browser import start_server, stop_server

    proc, url = start_server(real_instance)
    stop, published, errors = threading.Event(), [], []
    thread = threading.Thread(target=_publisher, args=(real_instance, stop, published, errors), daemon=True)
    thread.start()
    try:
        for _ in range(30):
            with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as r:
                assert r.status == 200
            with urllib.request.urlopen(url + "/aging", timeout=10) as r:
                assert r.status == 200
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=60)
        stop_server(proc)
    assert not errors, errors
    assert published
    log = (real_instance / "streamlit.log").read_text()
    assert "lock" not in log.lower() and "Traceback" not in log, log[-3000:]
