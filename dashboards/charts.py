"""Altair chart builders shared by the pages (no queries here)."""

from __future__ import annotations

import altair as alt
import pandas as pd

# Not-yet-due in green, then warmer as items age.
BUCKET_COLORS = ["#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#e53935", "#b71c1c", "#6a1b9a"]


def aging_bars(df: pd.DataFrame, label_col: str, amount_title: str, bucket_title: str) -> alt.Chart:
    """Horizontal bars per age bucket, ordered as the buckets are ordered."""
    order = df.sort_values("bucket_order")[label_col].tolist()
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(f"{label_col}:N", sort=order, title=bucket_title),
            x=alt.X("amount:Q", title=amount_title, axis=alt.Axis(format="~s")),
            color=alt.Color(
                f"{label_col}:N",
                sort=order,
                scale=alt.Scale(domain=order, range=BUCKET_COLORS[: len(order)]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip(f"{label_col}:N", title=bucket_title),
                alt.Tooltip("amount:Q", title=amount_title, format=",.2f"),
                alt.Tooltip("invoices:Q", format=","),
            ],
        )
        .properties(height=260)
    )
