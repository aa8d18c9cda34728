"""Registry: skops round trip, metadata and card, promotion only when better, refusal of untrusted files."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import skops.io as sio

from models_ml.models import predict
from models_ml.registry import (
    current_version,
    list_versions,
    load_model,
    promote_if_better,
    save_model,
)


def _save(model, d, report):
    return save_model(model, d, training_window=(pd.Timestamp("2023-07-01"), pd.Timestamp("2026-06-15")),
                      metrics=report.backtest.metrics, backtest=report.backtest.summary(),
                      forecast_backtest=report.forecast)  # fmt: skip


def test_round_trip_and_metadata(tmp_path, synth_report):
    model = synth_report.backtest.model
    reg = _save(model, tmp_path, synth_report)
    meta = json.loads((reg.path / "metadata.json").read_text())
    assert meta["version"] == reg.version and meta["features"] == model["feature_columns"]
    assert {"scikit-learn", "skops", "numpy", "pandas"} <= set(meta["library_versions"])
    assert meta["training_window"] == {"from": "2023-07-01", "to": "2026-06-15"}
    assert meta["metrics"][0]["model"] == "gradient_boosting" and meta["backtest"]["origins"]
    card = (reg.path / "model_card.md").read_text()
    assert reg.version in card and "Calibration of P(default)" in card and "baseline_due_date" in card
    loaded, _ = load_model(tmp_path, reg.version)
    feats = synth_report.backtest.features.tail(200)
    pd.testing.assert_frame_equal(predict(model, feats), predict(loaded, feats))


def test_promotion_only_when_better(tmp_path, synth_report):
    model = synth_report.backtest.model
    first = _save(model, tmp_path, synth_report)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path)
    assert promote_if_better(tmp_path, first.version, {"mae_days": 10.0, "brier_default": 0.05}, None)[0]
    assert current_version(tmp_path) == first.version
    second = _save(model, tmp_path, synth_report)
    with pytest.raises(ValueError, match="same backtest"):
        promote_if_better(tmp_path, second.version, {"mae_days": 9.0}, None)
    ok, why = promote_if_better(tmp_path, second.version, {"mae_days": 10.5, "brier_default": 0.05},
                                {"mae_days": 10.0, "brier_default": 0.05})  # fmt: skip
    assert not ok and "not below" in why and current_version(tmp_path) == first.version
    ok, why = promote_if_better(tmp_path, second.version, {"mae_days": 9.5, "brier_default": 0.08},
                                {"mae_days": 10.0, "brier_default": 0.05})  # fmt: skip
    assert not ok and "brier" in why
    ok, _ = promote_if_better(tmp_path, second.version, {"mae_days": 9.5, "brier_default": 0.05},
                              {"mae_days": 10.0, "brier_default": 0.05})  # fmt: skip
    assert ok and current_version(tmp_path) == second.version
    assert list_versions(tmp_path) == sorted([first.version, second.version])
    assert load_model(tmp_path)[1]["version"] == second.version


def test_tampered_or_untrusted_files_are_refused(tmp_path, synth_report):
    reg = _save(synth_report.backtest.model, tmp_path, synth_report)
    blob = (reg.path / "model.skops").read_bytes()
    (reg.path / "model.skops").write_bytes(blob[:-10] + b"0123456789")
    with pytest.raises(ValueError, match="sha256"):
        load_model(tmp_path, reg.version)
    # a file whose content needs a non-library type is refused even with a matching hash
    from sklearn.preprocessing import FunctionTransformer

    from tests.ml import synth

    evil = sio.dumps({"t": FunctionTransformer(func=synth.write_landing)})
    (reg.path / "model.skops").write_bytes(evil)
    meta = json.loads((reg.path / "metadata.json").read_text())
    import hashlib

    meta["sha256"] = hashlib.sha256(evil).hexdigest()
    (reg.path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="refuses"):
        load_model(tmp_path, reg.version)


def test_retrained_model_is_compared_on_rows_neither_model_trained_on(tmp_path, synth_load, synth_report):
    """The current model is scored only on last-fold invoices whose outcome came after its own
    training cutoff: on rows it trained on it would look better than it is and never be replaced."""
    from models_ml.backtest import MODEL_NAME
    from models_ml.pipeline import train_and_register
    from models_ml.registry import compare_on_backtest

    h, obs, bt = synth_load.history, synth_load.observed_until, synth_report.backtest
    first, promoted, why = train_and_register(synth_load, tmp_path, synth_report)
    assert promoted and why == "first model"
    # Retrained on the same data: every last-fold outcome was known to the current model.
    _, promoted, why = train_and_register(synth_load, tmp_path, synth_report)
    assert not promoted and "no outcome on the last backtest fold became known" in why
    assert current_version(tmp_path) == first.version
    # A current model trained 60 days earlier has not seen the invoices whose window closed since.
    older_cutoff = obs - pd.Timedelta(days=60)
    older = save_model(bt.model, tmp_path, training_window=(h["issue_date"].min(), older_cutoff))
    (tmp_path / "payment" / "current.json").write_text(json.dumps({"version": older.version}))
    last = bt.predictions[bt.predictions[f"{MODEL_NAME}:origin"] == bt.origins[-1]]
    unseen = last.index[(h.loc[last.index, "due_date"] + pd.Timedelta(days=90) >= older_cutoff).to_numpy()]
    assert 0 < len(unseen) < len(last)
    frame = last.loc[unseen, [f"{MODEL_NAME}:{c}" for c in ("days_late", "is_late", "is_default", "terms_days")]]
    expected = compare_on_backtest(tmp_path, bt.features.loc[unseen], frame.rename(columns=lambda c: c.split(":")[1]))
    _, promoted, why = train_and_register(synth_load, tmp_path, synth_report)
    # The current model here is the candidate's own last-fold model: the same figures on both sides
    # show both were judged on the same rows, and an equal candidate is not promoted.
    assert why == (f"mae_days {expected['mae_days']} not below current {expected['mae_days']} "
                   f"(on the {len(unseen):,} last-fold invoices neither model trained on)")
    assert not promoted and current_version(tmp_path) == older.version
