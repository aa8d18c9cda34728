"""Fixtures for the ML tests: small synthetic contract-shaped tables and their history frame."""

from __future__ import annotations

import pytest

from models_ml.data import history_from_tables
from tests.ml.synth import synthetic_tables


@pytest.fixture(scope="session")
def synth_tables():
    return synthetic_tables(n_invoices=2500, seed=3)


@pytest.fixture(scope="session")
def synth_load(synth_tables):
    t = synth_tables
    return history_from_tables(
        t["invoices"], t["customers"], t["projects"], t["salespeople"], t["payment_milestones"],
        t["invoice_events"], t["contracts"],
    )  # fmt: skip


@pytest.fixture(scope="session")
def synth_report(synth_load):
    from models_ml.pipeline import backtest_report

    return backtest_report(synth_load, n_folds=2, horizon_days=91)
