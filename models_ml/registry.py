"""Model registry: versioned payment models on disk (skops), with metadata, a model card and promotion.

Layout under `models_dir` (the product passes `huikuan.settings.load_settings().models_dir`):

    payment/<version>/model.skops     the trained models (a dict of scikit-learn objects + arrays)
    payment/<version>/metadata.json   version, training window, features, library versions, metrics, backtest
    payment/<version>/model_card.md   the same, for people
    payment/current.json              which version is promoted, since when, and why

Loading trusts only scikit-learn, numpy and builtin types (`TRUSTED_PREFIXES`): a file that
needs anything else is refused. A candidate is promoted only if it beats the current model on the
same backtest (both evaluated on the candidate's test rows by `compare_on_backtest`).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio

from models_ml.models import PaymentModel

FAMILY = "payment"
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "builtins.", "scipy.", "collections.OrderedDict", "functools.partial")
PROMOTION_METRIC = "mae_days"  # lower is better; default-risk Brier must not get worse either
BRIER_TOLERANCE = 0.002


@dataclass(frozen=True)
class RegisteredModel:
    version: str
    path: Path
    metadata: dict


def library_versions() -> dict[str, str]:
    import sklearn
    import skops

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


def new_version(model_bytes: bytes, now: datetime | None = None) -> str:
    """`YYYYmmddTHHMMSSZ-<8 hex of the model's bytes>`: sortable and tied to the content."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + hashlib.sha256(model_bytes).hexdigest()[:8]


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (pd.Timestamp, datetime)):
        return obj.isoformat()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def model_card(meta: dict) -> str:
    """Markdown card: what the model predicts, on what data, how well, against which baselines."""
    lines = [
        f"# Payment model {meta['version']}",
        "",
        (
            "Predicts, per receivable invoice at its issue date (refreshed daily for open items): days to "
            "pay with an 80 % split-conformal interval, P(paid late) and P(default = unpaid 90 days after "
            "due), both calibrated on the latest slice of the training window."
        ),
        "",
        (
            f"- Training window: {meta['training_window']['from']} to {meta['training_window']['to']} "
            f"({meta['n_train']} invoices to fit, {meta['n_calibration']} to calibrate, "
            f"latest of {meta.get('n_available')} with a closed outcome window)"
        ),
        "- Censoring: only invoices whose 90-day-after-due window had closed at the cutoff are used",
        f"- Calibration: late {meta['calibration']['late']}, default {meta['calibration']['default']}",
        f"- Interval residual bounds (days): {meta['interval'][0]:.1f} to {meta['interval'][1]:.1f}",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in meta["library_versions"].items()),
        f"- Features ({len(meta['features'])}): " + ", ".join(meta["features"]),
        "",
        "## Backtest (rolling origin, split by time)",
        "",
    ]
    bt = meta.get("backtest") or {}
    if bt.get("origins"):
        lines.append(f"Origins {', '.join(bt['origins'])}; horizon {bt.get('horizon_days')} days; "
                     f"outcomes observed until {bt.get('observed_until')}.")  # fmt: skip
        lines.append("")
    metrics = meta.get("metrics") or []
    if metrics:
        keys = ["mae_days", "median_ae_days", "bucket_accuracy", "auc_late", "auc_default", "brier_default",
                "interval_coverage", "interval_width_days"]  # fmt: skip
        lines.append("| model | " + " | ".join(keys) + " |")
        lines.append("|---|" + "---|" * len(keys))
        for m in metrics:
            lines.append(f"| {m['model']} | " + " | ".join("-" if m.get(k) is None else str(m.get(k)) for k in keys) + " |")
        lines.append("")
        cal = next((m.get("calibration_default") for m in metrics if m["model"] == "gradient_boosting"), None)
        if cal:
            lines += ["## Calibration of P(default) on the backtest", "", "| bin | n | mean predicted | observed |",
                      "|---|---|---|---|"]  # fmt: skip
            lines += [f"| {c['bin']} | {c['n']} | {c['mean_predicted']} | {c['observed_rate']} |" for c in cal]
            lines.append("")
    if meta.get("forecast_backtest"):
        lines += ["## Cash forecast backtest (WAPE)", "", "```", json.dumps(meta["forecast_backtest"], indent=2), "```", ""]
    lines += [
        "## Limits",
        "",
        (
            "Trained on this company's own history; a customer without settled invoices gets the "
            "population's behaviour. Intervals are marginal (80 % over all invoices), not per customer. "
            "Disputes raised after issue are unknown at the issue-date decision."
        ),
    ]
    return "\n".join(lines) + "\n"


def save_model(
    model: PaymentModel,
    models_dir: Path,
    *,
    training_window: tuple[pd.Timestamp, pd.Timestamp],
    metrics: list[dict] | None = None,
    backtest: dict | None = None,
    forecast_backtest: dict | None = None,
    now: datetime | None = None,
) -> RegisteredModel:
    """Write the model, its metadata and its card under a new version; does not promote it."""
    blob = sio.dumps(model)
    version = new_version(blob, now)
    path = Path(models_dir) / FAMILY / version
    path.mkdir(parents=True, exist_ok=False)
    (path / "model.skops").write_bytes(blob)
    meta = {
        "version": version,
        "family": FAMILY,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "training_window": {"from": str(pd.Timestamp(training_window[0]).date()), "to": str(pd.Timestamp(training_window[1]).date())},
        "features": model["feature_columns"],
        "categorical_features": model["categorical"],
        "n_available": model.get("n_available"),
        "n_train": model["n_train"],
        "n_calibration": model["n_calibration"],
        "calibration": model["calibration"],
        "interval": [float(x) for x in model["interval"]],
        "interval_level": model["interval_level"],
        "library_versions": library_versions(),
        "metrics": metrics or [],
        "backtest": backtest or {},
        "forecast_backtest": forecast_backtest or {},
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    meta = _jsonable(meta)
    (path / "metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (path / "model_card.md").write_text(model_card(meta), encoding="utf-8")
    return RegisteredModel(version, path, meta)


def list_versions(models_dir: Path) -> list[str]:
    root = Path(models_dir) / FAMILY
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "model.skops").exists())


def current_version(models_dir: Path) -> str | None:
    pointer = Path(models_dir) / FAMILY / "current.json"
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8"))["version"]


def current_training_cutoff(models_dir: Path) -> pd.Timestamp | None:
    """The end of the current model's training window (the date its outcomes were known until)."""
    version = current_version(models_dir)
    if version is None:
        return None
    return pd.Timestamp(_metadata(Path(models_dir) / FAMILY / version)["training_window"]["to"])


def _metadata(path: Path) -> dict:
    return json.loads((path / "metadata.json").read_text(encoding="utf-8"))


def load_model(models_dir: Path, version: str | None = None) -> tuple[PaymentModel, dict]:
    """The model and its metadata (default: the promoted version). Refuses untrusted types."""
    version = version or current_version(models_dir)
    if version is None:
        raise FileNotFoundError(f"{models_dir}: no promoted {FAMILY} model yet (train and promote one first)")
    path = Path(models_dir) / FAMILY / version
    blob = (path / "model.skops").read_bytes()
    meta = _metadata(path)
    if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
        raise ValueError(f"{path / 'model.skops'}: content does not match its recorded sha256")
    untrusted = sio.get_untrusted_types(data=blob)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ValueError(f"{path / 'model.skops'}: refuses to load types {refused}")
    return sio.loads(blob, trusted=untrusted), meta


def _better(candidate: dict, current: dict) -> tuple[bool, str]:
    c, k = candidate.get(PROMOTION_METRIC), current.get(PROMOTION_METRIC)
    if c is None:
        return False, f"candidate has no {PROMOTION_METRIC}"
    if k is not None and not c < k:
        return False, f"{PROMOTION_METRIC} {c} not below current {k}"
    cb, kb = candidate.get("brier_default"), current.get("brier_default")
    if cb is not None and kb is not None and cb > kb + BRIER_TOLERANCE:
        return False, f"brier_default {cb} worse than current {kb}"
    return True, f"{PROMOTION_METRIC} {c} < current {k}" if k is not None else "first model"


def promote_if_better(
    models_dir: Path,
    candidate_version: str,
    candidate_metrics: dict,
    current_metrics_same_backtest: dict | None,
    now: datetime | None = None,
) -> tuple[bool, str]:
    """Promote the candidate when it beats the current model on the same backtest (or none exists).

    `current_metrics_same_backtest` is the current model's `evaluate()` result on exactly the rows
    the candidate was scored on (see `compare_on_backtest`); None only when there is no current model.
    """
    current = current_version(models_dir)
    if current is not None and current_metrics_same_backtest is None:
        raise ValueError("a current model exists: pass its metrics on the same backtest to compare")
    ok, why = _better(candidate_metrics, current_metrics_same_backtest or {}) if current else (True, "first model")
    if ok:
        pointer = Path(models_dir) / FAMILY / "current.json"
        record = {
            "version": candidate_version,
            "previous": current,
            "promoted_at": (now or datetime.now(UTC)).isoformat(),
            "reason": why,
        }
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        tmp.replace(pointer)  # atomic: readers see the old or the new pointer, never half of one
    return ok, why


def compare_on_backtest(models_dir: Path, test_features: pd.DataFrame, test_frame: pd.DataFrame) -> dict | None:
    """The current model's metrics on the candidate's test rows: `test_frame` holds the labels
    (days_late, is_late, is_default, terms_days) for `test_features`' rows."""
    from models_ml.evaluate import evaluate
    from models_ml.models import predict

    if current_version(models_dir) is None:
        return None
    model, meta = load_model(models_dir)
    preds = predict(model, test_features)
    return evaluate(test_frame[["days_late", "is_late", "is_default", "terms_days"]].join(preds), meta["version"])
