"""A CSV load commits its rows before numbering them (see tabular._load_direct); a load that fails or
dies after that commit must leave the warehouse as if it had never started."""

from __future__ import annotations

import duckdb
import pytest

from huikuan.ingest import ingest_paths, tabular
from tests.ingest.test_load import CUSTOMERS, INV_HEADER, accounting_holds, query

ROWS = "".join(f"I{n},standard,C1,2024-03-{1 + n % 28:02d},,CNY,{n}.50\n" for n in range(1, 201))


def _landing(tmp_path, files: dict[str, str]):
    land = tmp_path / "landing"
    for name, text in files.items():
        (land / name).parent.mkdir(parents=True, exist_ok=True)
        (land / name).write_text(text, encoding="utf-8")
    return land, tmp_path / "wh.duckdb"


def _fail_after_commit_point(monkeypatch, exc: BaseException, seen: list[int]):
    """Make the step after the rows' first commit fail, noting what another cursor sees then."""

    def failing(con, entity, file_hash):
        seen.append(
            con.cursor()
            .execute(f"SELECT count(*) FROM raw.{entity} WHERE file_hash = ?", [file_hash])
            .fetchone()[0]
        )
        raise exc

    monkeypatch.setattr(tabular, "_number_by_rowid", failing)


def test_a_load_failing_after_its_first_commit_leaves_no_row(tmp_path, monkeypatch):
    land, wh = _landing(tmp_path, {"customers.csv": CUSTOMERS})
    ingest_paths([land], wh, landing_root=land)
    (land / "invoices.csv").write_text(INV_HEADER + ROWS, encoding="utf-8")
    seen: list[int] = []
    _fail_after_commit_point(monkeypatch, duckdb.IOException("disk full"), seen)
    [r] = [r for r in ingest_paths([land], wh, landing_root=land) if r.file == "invoices.csv"]
    assert seen == [200]  # the rows were committed (visible to another cursor) before the failure
    assert r.status == "rejected" and "disk full" in r.reasons[0]
    assert query(wh, "SELECT count(*) FROM raw.invoices") == [(0,)]
    assert accounting_holds(wh)

    monkeypatch.undo()
    [r] = ingest_paths([land / "invoices.csv"], wh, landing_root=land)
    assert (r.status, r.rows_loaded) == ("loaded", 200)
    assert query(wh, "SELECT count(*), min(source_row), max(source_row) FROM raw.invoices") == [(200, 1, 200)]


def test_rows_left_by_a_process_that_died_are_removed_by_the_next_load(tmp_path, monkeypatch):
    land, wh = _landing(tmp_path, {"customers.csv": CUSTOMERS, "invoices.csv": INV_HEADER + ROWS})
    seen: list[int] = []
    _fail_after_commit_point(monkeypatch, KeyboardInterrupt(), seen)  # not handled: like a kill
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([land], wh, landing_root=land)
    assert seen == [200]
    # What the dead process left: its committed rows, unnumbered, and no registry entry for them.
    assert query(wh, "SELECT count(*), count(source_row) FROM raw.invoices") == [(200, 0)]
    assert query(wh, "SELECT count(*) FROM raw.file_registry WHERE source_file = 'invoices.csv'") == [(0,)]

    monkeypatch.undo()
    results = {r.file: r for r in ingest_paths([land], wh, landing_root=land)}
    assert results["customers.csv"].status == "unchanged"
    assert (results["invoices.csv"].status, results["invoices.csv"].rows_loaded) == ("loaded", 200)
    assert query(wh, "SELECT count(*), count(DISTINCT source_row), max(source_row) FROM raw.invoices") == [
        (200, 200, 200)
    ]
    assert accounting_holds(wh)


def test_a_resubmission_stays_one_transaction(tmp_path, monkeypatch):
    """Its deletions of the earlier file's rows must not be committed before its own rows are in."""
    land, wh = _landing(tmp_path, {"customers.csv": CUSTOMERS, "invoices_202403.csv": INV_HEADER + ROWS})
    ingest_paths([land], wh, landing_root=land)
    (land / "invoices_202403_v2.csv").write_text(
        INV_HEADER + ROWS.replace(".50\n", ".75\n"), encoding="utf-8"
    )
    seen: list[int] = []
    _fail_after_commit_point(monkeypatch, duckdb.IOException("disk full"), seen)
    [r] = ingest_paths([land / "invoices_202403_v2.csv"], wh, landing_root=land)
    assert r.status == "rejected" and seen == [0]  # the new rows were never committed
    assert query(wh, "SELECT count(*), sum(gross_amount) FROM raw.invoices") == [
        (200, sum(n + 0.5 for n in range(1, 201)))
    ]
    assert query(wh, "SELECT source_file, status FROM raw.file_registry WHERE entity = 'invoices'") == [
        ("invoices_202403.csv", "loaded")
    ]
