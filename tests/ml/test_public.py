"""The public cassandra22 dataset with its README protocol: MAE at most 18.5 days."""

from __future__ import annotations

import json

import pytest

from tests.conftest import require_shared


def test_cassandra_protocol_and_target():
    from models_ml.public import cassandra_backtest

    folder = require_shared("data", "public", "cassandra22")
    result = cassandra_backtest(folder)
    m = {r["model"]: r for r in result.metrics}
    assert m["gradient_boosting"]["n_paid"] == 1751  # last 20 % of 8,753 rows
    # the README's global-median row, reproduced: the same split
    assert m["baseline_global_median_days_to_pay"]["mae_days"] == pytest.approx(21.48, abs=0.01)
    assert m["gradient_boosting"]["mae_days"] <= 18.5
    assert m["gradient_boosting"]["mae_days"] < min(r["mae_days"] for k, r in m.items() if k != "gradient_boosting")
    assert 0.75 <= m["gradient_boosting"]["interval_coverage"] <= 0.85


def test_cli_prints_the_table_and_json(capsys):
    from huikuan.cli import main

    folder = require_shared("data", "public", "cassandra22")
    assert main(["backtest", "--public", "cassandra22", "--public-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "gradient_boosting" in out and "baseline_customer_median" in out and "19.32" in out
    assert main(["backtest", "--public", "cassandra22", "--public-dir", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"][0]["model"] == "gradient_boosting" and data["metrics"][0]["mae_days"] <= 18.5
