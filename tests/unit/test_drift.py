"""Feature drift (PSI) between the invoices a model learned from and the recent ones."""

import numpy as np
import pandas as pd

from pipelines.ml.tables import drift_rows


def test_drift_compares_recent_rows_with_the_rest_column_by_column():
    rng = np.random.default_rng(0)
    n = 4000
    recent = pd.Series(np.arange(n) >= 3000)
    features = pd.DataFrame({
        "steady": rng.normal(size=n),
        "moved": np.where(recent, rng.normal(3.0, 1.0, n), rng.normal(0.0, 1.0, n)),
        "region": ["east"] * n,  # not numeric: no PSI
    })  # fmt: skip
    d = drift_rows(features, recent, "v1").set_index("feature")
    assert list(d.index) == ["steady", "moved"] and (d["model_version"] == "v1").all()
    assert d.at["steady", "status"] == "stable" and d.at["steady", "psi"] < 0.1
    assert d.at["moved", "status"] == "shifted" and d.at["moved", "psi"] > 1.0
    # the mask decides which rows are recent: swapped, the reference changes and so does the PSI
    swapped = drift_rows(features, ~recent, "v1").set_index("feature")
    assert swapped.at["moved", "psi"] != d.at["moved", "psi"]
