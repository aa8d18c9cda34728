"""Publishing is atomic, keeps the last N snapshots and never leaves readers on a broken file."""

from __future__ import annotations

import duckdb
import pytest

from huikuan.publish import NoSnapshotError, connect_published, current_snapshot, publish, snapshots


def _build(path, value):
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE OR REPLACE TABLE t AS SELECT ? AS v", [value])


def test_publish_switches_pointer_and_keeps_last_n(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    for v in range(4):
        _build(wh, v)
        publish(wh, pub, keep=2)
    assert len(snapshots(pub)) == 2
    with connect_published(pub) as con:
        assert con.execute("SELECT v FROM t").fetchone()[0] == 3


def test_reader_keeps_its_snapshot_while_a_new_one_is_published(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    _build(wh, 1)
    publish(wh, pub)
    reader = connect_published(pub)
    _build(wh, 2)  # the pipeline rewrites the build file while a reader is open
    publish(wh, pub)
    assert reader.execute("SELECT v FROM t").fetchone()[0] == 1
    reader.close()
    with connect_published(pub) as con:
        assert con.execute("SELECT v FROM t").fetchone()[0] == 2


def test_read_only(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    _build(wh, 1)
    publish(wh, pub)
    with connect_published(pub) as con, pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE x (a INT)")


def test_nothing_published_is_a_clear_error(tmp_path):
    with pytest.raises(NoSnapshotError, match="nothing published yet"):
        current_snapshot(tmp_path)


def test_failed_publish_leaves_previous_snapshot(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    _build(wh, 1)
    first = publish(wh, pub).path
    with pytest.raises(FileNotFoundError):
        publish(tmp_path / "missing.duckdb", pub)
    assert current_snapshot(pub) == first


def test_publish_by_link_shares_the_finished_file(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    _build(wh, 7)
    snap = publish(wh, pub, link=True)
    assert snap.path.stat().st_ino == wh.stat().st_ino  # no copy of a multi-gigabyte file
    with connect_published(pub) as con:
        assert con.execute("SELECT v FROM t").fetchone()[0] == 7
