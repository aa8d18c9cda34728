"""The dbt feature mart (marts.ml_invoice_features), built by the real dbt on a real DuckDB file from the
generated extracts: point in time (facts after a date never change features decided before it) and
equal, feature by feature, to models_ml.features on the same warehouse."""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from huikuan.dbt import run_dbt
from models_ml.data import history_from_warehouse
from models_ml.features import feature_set, point_in_time_features
from tests.conftest import AS_OF

pytestmark = pytest.mark.slow

CUTOFF = date(2025, 12, 31)  # facts dated after it are changed in the perturbed warehouse
KEY = ["invoice_no", "decision_kind"]


def _build(wh: Path, target: Path, select: str = "+ml_invoice_features") -> None:
    from huikuan.reconcile.warehouse import reconcile_warehouse

    reconcile_warehouse(wh, write=True)
    run_dbt(["build", "--select", *select.split(), "--indirect-selection", "cautious"], wh, target_path=target,
            vars={"as_of_date": AS_OF.isoformat()})


def _perturb_after(wh: Path, cutoff: date) -> None:
    """Change every fact dated after `cutoff`: payments move later or never come, bank receipts
    vanish, later invoices are larger and due later, later events are replaced by new disputes."""
    with duckdb.connect(str(wh)) as con:
        d = cutoff.isoformat()
        con.execute(f"""update raw.invoices set cleared_date = null, cleared_amount = null
                        where cleared_date > date '{d}' and hash(invoice_no) % 3 = 0""")
        con.execute(f"update raw.invoices set cleared_date = cleared_date + 20 where cleared_date > date '{d}'")
        con.execute(f"""update raw.invoices set gross_amount = gross_amount * 3, net_amount = net_amount * 3,
                            tax_amount = tax_amount * 3, due_date = due_date + 15
                        where issue_date > date '{d}'""")
        con.execute(f"delete from raw.bank_transactions where booking_date > date '{d}'")
        con.execute(f"delete from raw.invoice_events where cast(event_at as date) > date '{d}'")
        con.execute(f"""insert into raw.invoice_events by name
                        select invoice_no, 'disputed' as event_type,
                               cast(date '{d}' + 10 as timestamp) as event_at,
                               'perturbation' as actor, 'pit.csv' as source_file, 1 as source_row,
                               'pit' as file_hash, now() as loaded_at
                        from raw.invoices where issue_date <= date '{d}' order by invoice_no limit 40""")


@pytest.fixture(scope="module")
def warehouses(generated_small, tmp_path_factory):
    from huikuan.ingest.load import ingest_paths

    root = tmp_path_factory.mktemp("feature_mart")
    landing = generated_small / "landing"
    base = root / "base.duckdb"
    assert ingest_paths([landing], base, landing_root=landing)
    changed = root / "changed.duckdb"
    shutil.copy(base, changed)
    _perturb_after(changed, CUTOFF)
    _build(base, root / "target_base", "+ml_invoice_features +collections_worklist")
    _build(changed, root / "target_changed")
    return base, changed


def _mart(wh: Path) -> pd.DataFrame:
    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute("select * from marts.ml_invoice_features").df().sort_values(KEY).reset_index(drop=True)


def _equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
        return np.isclose(x, y, rtol=1e-9, atol=1e-9) | (np.isnan(x) & np.isnan(y))
    return (a.astype(object).where(a.notna(), "<null>") == b.astype(object).where(b.notna(), "<null>")).to_numpy()


def test_features_decided_before_a_date_ignore_every_fact_after_it(warehouses):
    base, changed = _mart(warehouses[0]), _mart(warehouses[1])
    before = base[base["decision_date"] <= pd.Timestamp(CUTOFF)]
    assert len(before) > 200
    other = changed.set_index(KEY).loc[before.set_index(KEY).index].reset_index()
    features = [c for c in base.columns if c not in ("as_of_date",)]
    for c in features:
        same = _equal(before[c].reset_index(drop=True), other[c])
        assert same.all(), (c, before.loc[~same, KEY + [c]].head(3).to_dict("records"))
    # the perturbation is real: decisions after the cutoff see different histories
    after = base[base["decision_date"] > pd.Timestamp(CUTOFF)].set_index(KEY)
    moved = changed.set_index(KEY).loc[after.index.intersection(changed.set_index(KEY).index)]
    diff = sum((~_equal(after.loc[moved.index, c], moved[c])).sum() for c in
               ("cust_n_settled", "cust_mean_days_late", "cust_n_disputes", "amount_log", "cust_open_amount_log"))
    assert diff > 50


def test_mart_equals_the_python_features_on_the_same_warehouse(warehouses):
    wh = warehouses[0]
    a = pd.Timestamp(AS_OF)
    h = history_from_warehouse(wh, observed_until=a).history
    fs = feature_set(h)
    at_issue = point_in_time_features(h).assign(invoice_no=h["invoice_no"].to_numpy(), decision_kind="issue")
    op = h[(h["issue_date"] <= a) & (h["paid_date"].isna() | (h["paid_date"] > a))]
    scored = point_in_time_features(h, pd.Series(a + timedelta(days=1), index=op.index))
    scored = scored.assign(invoice_no=op["invoice_no"].to_numpy(), decision_kind="open_item")
    python = pd.concat([at_issue, scored]).sort_values(KEY).reset_index(drop=True)
    mart = _mart(wh)
    assert python[KEY].equals(mart[KEY])
    assert len(fs.columns) >= 45 and "cust_n_disputes" in fs.columns and "holiday_days_in_window" in fs.columns
    for c in fs.columns:
        same = _equal(python[c], mart[c])
        assert same.all(), (c, pd.DataFrame({"python": python[c], "mart": mart[c]})[~same].head(3).to_dict("records"))
    # not vacuous: the history features are populated for most rows
    assert (mart["cust_n_settled"] > 0).mean() > 0.5 and mart["cust_median_days_late"].notna().mean() > 0.5
    assert (mart["holiday_days_in_window"] > 0).any() and (mart["cust_n_disputes"] > 0).any()


def test_worklist_carries_the_explanations_of_the_scoring_model(warehouses, tmp_path):
    """Scored with explanations as the scoring asset does, the worklist mart carries the factors."""
    from models_ml.models import TrainConfig
    from models_ml.pipeline import backtest_report, train_and_register
    from models_ml.registry import current_version
    from pipelines.ml.tables import replace_tables, with_explanations

    wh = tmp_path / "scored.duckdb"
    shutil.copy(warehouses[0], wh)
    load = history_from_warehouse(wh, observed_until=pd.Timestamp(AS_OF))
    models = tmp_path / "models"
    cfg = TrainConfig(max_iter=60)  # a quick model: the test is about carrying its explanations
    train_and_register(load, models, backtest_report(load, n_folds=1, cfg=cfg), cfg)
    from models_ml.pipeline import score_and_forecast

    scored, _ = score_and_forecast(load, models, pd.Timestamp(AS_OF))
    scored = with_explanations(scored, load.history, models, pd.Timestamp(AS_OF))
    assert scored["delay_factor_1"].notna().all() and scored["risk_factor_1"].notna().any()
    with duckdb.connect(str(wh)) as con:
        replace_tables(con, {"invoice_predictions": scored})
    run_dbt(["build", "--select", "collections_worklist", "--indirect-selection", "cautious"], wh,
            target_path=tmp_path / "target", vars={"as_of_date": AS_OF.isoformat()})
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.execute(
            """select w.invoice_no, w.model_version, w.delay_factor_1, w.delay_factor_1_days, w.risk_factor_3_pp,
                      p.delay_factor_1, p.delay_factor_1_days, p.risk_factor_3_pp
               from marts.collections_worklist w join ml.invoice_predictions p using (invoice_no)"""
        ).fetchall()
    assert rows
    for _, version, f1, e1, r3, pf1, pe1, pr3 in rows:
        assert version == current_version(models)
        assert (f1, e1) == (pf1, pe1) and (r3 == pr3 or (_missing(r3) and _missing(pr3)))


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
