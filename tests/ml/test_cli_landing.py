"""`huikuan backtest --landing`: real ingest, real dbt build, then the backtest and the registry."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from models_ml.data import history_from_tables, history_from_warehouse


@pytest.mark.slow
def test_backtest_from_a_landing_folder(generated_small, tmp_path, capsys):
    from huikuan.cli import main

    work = tmp_path / "work"
    models = tmp_path / "models"
    args = ["backtest", "--landing", str(generated_small / "landing"), "--work-dir", str(work),
            "--folds", "2", "--models-dir", str(models), "--json"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    names = [m["model"] for m in out["metrics"]]
    assert names == ["gradient_boosting", "baseline_due_date", "baseline_customer_median", "baseline_global_median"]
    assert out["metrics"][0]["mae_days"] < out["metrics"][1]["mae_days"]
    assert out["registered"]["promoted"] is True
    assert (models / "payment" / "current.json").exists()
    # the history came from the warehouse the command built, with every left-out row counted
    load = history_from_warehouse(work / "warehouse.duckdb")
    assert len(load.history) == out["n_invoices"] and "credit_note" in load.excluded
    # the lean read (no lineage columns, only the events it uses, strings shared, fct_invoice joined
    # in the warehouse) gives the frame that every column read with `.df()` and matched in pandas gives
    import duckdb

    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        def t(name):
            return con.execute(f"select * from raw.{name}").df()

        assert con.execute("select count(*) from raw.invoice_events where event_type = 'disputed'").fetchone()[0]
        full = history_from_tables(t("invoices"), t("customers"), t("projects"), t("salespeople"),
                                   t("payment_milestones"), t("invoice_events"), t("contracts"))
        fct = con.execute("select invoice_no, settled_date, gross_amount_rpt from marts.fct_invoice").df()
    assert fct["settled_date"].notna().any()
    fct = fct.set_index("invoice_no")
    h = full.history
    settled = h["invoice_no"].map(fct["settled_date"]).astype("datetime64[ns]")
    h["paid_date"] = settled.where(settled.notna(), h["paid_date"])
    amount = h["invoice_no"].map(fct["gross_amount_rpt"].astype(float))
    h["amount"] = amount.where(amount.notna() & (amount > 0), h["amount"])
    full.observed_until = max(full.observed_until, h["paid_date"].max().normalize())
    pd.testing.assert_frame_equal(load.history, h)
    pd.testing.assert_frame_equal(load.milestones, full.milestones)
    assert load.excluded == full.excluded and load.observed_until == full.observed_until


def test_backtest_from_extract_csvs(tmp_path, capsys, synth_tables):
    from huikuan.cli import main
    from tests.ml.synth import write_landing

    write_landing(synth_tables, tmp_path / "landing")
    assert main(["backtest", "--extracts", str(tmp_path / "landing"), "--folds", "2"]) == 0
    out = capsys.readouterr().out
    for name in ("gradient_boosting", "baseline_due_date", "baseline_customer_median", "baseline_global_median"):
        assert name in out
    assert "cash forecast weekly: WAPE model" in out


def test_history_from_a_warehouse_takes_the_latest_version_of_a_key(generated_small, tmp_path):
    """Raw tables are append-only: a key delivered again is a newer version (the staging models
    keep the latest). The ML read must do the same, not fail on the repeated key or count it twice."""
    import duckdb

    from huikuan.ingest import ingest_paths

    land = generated_small / "landing"
    wh = tmp_path / "wh.duckdb"
    ingest_paths([land], wh, landing_root=land)
    before = history_from_warehouse(wh)
    h0 = before.history.set_index("invoice_no")
    inv = h0.index[h0["milestone_id"].notna()][0]
    cust, milestone = h0.at[inv, "customer_id"], h0.at[inv, "milestone_id"]
    with duckdb.connect(str(wh)) as con:
        for table, key, value, change in (
            ("customers", "customer_id", cust, "region = 'Newregion'"),
            ("payment_milestones", "milestone_id", milestone, "milestone_type = 'retention'"),
            ("invoices", "invoice_no", inv, "due_date = due_date + 7"),
        ):
            con.execute(
                f"insert into raw.{table} select * replace (loaded_at + interval 1 day as loaded_at) "
                f"from raw.{table} where {key} = ?",
                [value],
            )
            con.execute(f"update raw.{table} set {change} where {key} = ? and loaded_at = "
                        f"(select max(loaded_at) from raw.{table} where {key} = ?)", [value, value])  # fmt: skip
    after = history_from_warehouse(wh)
    h1 = after.history.set_index("invoice_no")
    assert len(h1) == len(h0) and h1.index.is_unique
    assert after.excluded == before.excluded
    assert (h1.loc[h1["customer_id"] == cust, "region"] == "Newregion").all()
    assert h1.at[inv, "milestone_type"] == "retention"
    assert h1.at[inv, "due_date"] == h0.at[inv, "due_date"] + pd.Timedelta(days=7)
    assert len(after.milestones) == len(before.milestones)


def test_history_from_a_warehouse_equals_the_frame_built_in_pandas(generated_small, tmp_path):
    """`history_from_warehouse` builds the frame in SQL; `history_from_tables` builds it in pandas
    from the same rows. They must agree, also on the cases the generated data rarely has: no
    lifecycle events at all, written off by status alone, no due date, a non-positive amount."""
    import duckdb

    from huikuan.ingest import ingest_paths

    land = generated_small / "landing"
    wh = tmp_path / "wh.duckdb"
    ingest_paths([land], wh, landing_root=land)

    def reference():
        with duckdb.connect(str(wh), read_only=True) as con:
            t = {n: con.execute(f"select * from raw.{n}").df() for n in (
                "invoices", "customers", "projects", "salespeople", "payment_milestones", "invoice_events", "contracts")}  # fmt: skip
        return history_from_tables(*t.values())

    def same():
        got, want = history_from_warehouse(wh), reference()
        pd.testing.assert_frame_equal(got.history, want.history)
        pd.testing.assert_frame_equal(got.milestones, want.milestones)
        assert got.excluded == want.excluded and got.observed_until == want.observed_until
        return got

    assert "written_off_date" in same().history.columns
    with duckdb.connect(str(wh)) as con:
        con.execute("delete from raw.invoice_events")
        kept = "invoice_type = 'standard' and coalesce(status, '') not in ('cancelled', 'written_off')"
        off = [r[0] for r in con.execute(
            f"select invoice_no from raw.invoices where {kept} order by invoice_no limit 3").fetchall()]
        con.execute("update raw.invoices set status = 'written_off' where list_contains(?, invoice_no)", [off])
        con.execute(f"update raw.invoices set due_date = null where invoice_no in "
                    f"(select invoice_no from raw.invoices where {kept} order by invoice_no limit 2)")  # fmt: skip
        con.execute(f"update raw.invoices set gross_amount = 0 where invoice_no in "
                    f"(select invoice_no from raw.invoices where {kept} order by invoice_no desc limit 1)")  # fmt: skip
    load = same()
    assert "first_dispute_date" not in load.history.columns
    h = load.history.set_index("invoice_no")
    assert (h.loc[off, "written_off_date"] == load.observed_until).all()  # undated: off as of the data's end
    assert load.excluded["due_date_missing_set_to_issue_date"] == 2 and load.excluded["non_positive_amount"] == 1
