"""Altair chart builders shared by the pages (no queries here)."""

from __future__ import annotations

import altair as alt
import pandas as pd

# Not-yet-due in green, then warmer as items age.
BUCKET_COLORS = ["#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#e53935", "#b71c1c", "#6a1b9a"]
ACCENT = "#1565c0"
MUTED = "#90a4ae"


def _bucket_scale(df: pd.DataFrame, label_col: str) -> tuple[list[str], alt.Scale]:
    order = (
        df[[label_col, "bucket_order"]].drop_duplicates().sort_values("bucket_order")[label_col].tolist()
    )
    return order, alt.Scale(domain=order, range=BUCKET_COLORS[: len(order)])


def aging_bars(df: pd.DataFrame, label_col: str, amount_title: str, bucket_title: str) -> alt.Chart:
    """Horizontal bars per age bucket, ordered as the buckets are ordered."""
    order, scale = _bucket_scale(df, label_col)
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(f"{label_col}:N", sort=order, title=bucket_title),
            x=alt.X("amount:Q", title=amount_title, axis=alt.Axis(format="~s")),
            color=alt.Color(f"{label_col}:N", sort=order, scale=scale, legend=None),
            tooltip=[
                alt.Tooltip(f"{label_col}:N", title=bucket_title),
                alt.Tooltip("amount:Q", title=amount_title, format=",.2f"),
                alt.Tooltip("invoices:Q", format=","),
            ],
        )
        .properties(height=260)
    )


def stacked_aging(df: pd.DataFrame, label_col: str, group_title: str, amount_title: str,
                  bucket_title: str) -> alt.Chart:
    """One horizontal bar per group, stacked by age bucket (oldest at the right end)."""
    order, scale = _bucket_scale(df, label_col)
    groups = df.sort_values("rank")["group_label"].drop_duplicates().tolist()
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("group_label:N", sort=groups, title=group_title, axis=alt.Axis(labelLimit=180)),
            x=alt.X("sum(amount):Q", title=amount_title, axis=alt.Axis(format="~s")),
            color=alt.Color(f"{label_col}:N", sort=order, scale=scale, title=bucket_title,
                            legend=alt.Legend(orient="bottom", columns=3)),
            order=alt.Order("bucket_order:Q"),
            tooltip=[
                alt.Tooltip("group_label:N", title=group_title),
                alt.Tooltip(f"{label_col}:N", title=bucket_title),
                alt.Tooltip("amount:Q", title=amount_title, format=",.2f"),
                alt.Tooltip("invoices:Q", format=","),
            ],
        )
        .properties(height=alt.Step(26))
    )


def trend_lines(df: pd.DataFrame, x: str, series: dict[str, str], y_title: str, fmt: str = ",.1f",
                height: int = 240) -> alt.Chart:
    """Monthly lines for a few measures, `series` mapping column → legend label."""
    long = df.melt(id_vars=[x], value_vars=list(series), var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(series)
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:T", title=None, axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format="~s")),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip(f"{x}:T", format="%Y-%m"), "measure:N", alt.Tooltip("value:Q", format=fmt)],
        )
        .properties(height=height)
    )


def bars_with_band(df: pd.DataFrame, x: str, actual: str | None, expected: str, low: str, high: str,
                   amount_title: str, labels: dict[str, str], time_format: str = "%Y-%m-%d") -> alt.LayerChart:
    """Expected amount per period with its interval as an error band, and actuals as points."""
    base = alt.Chart(df).encode(x=alt.X(f"{x}:T", title=None, axis=alt.Axis(format=time_format)))
    band = base.mark_area(opacity=0.25, color=ACCENT).encode(
        y=alt.Y(f"{low}:Q", title=amount_title, axis=alt.Axis(format="~s")), y2=f"{high}:Q",
        tooltip=[alt.Tooltip(f"{x}:T", format=time_format),
                 alt.Tooltip(f"{low}:Q", title=labels["low"], format=",.0f"),
                 alt.Tooltip(f"{high}:Q", title=labels["high"], format=",.0f")],
    )
    line = base.mark_line(point=True, color=ACCENT).encode(
        y=f"{expected}:Q",
        tooltip=[alt.Tooltip(f"{x}:T", format=time_format),
                 alt.Tooltip(f"{expected}:Q", title=labels["expected"], format=",.0f")],
    )
    layers = [band, line]
    if actual and actual in df and df[actual].notna().any():
        layers.append(
            base.mark_point(shape="diamond", size=80, filled=True, color="#e65100").encode(
                y=f"{actual}:Q",
                tooltip=[alt.Tooltip(f"{x}:T", format=time_format),
                         alt.Tooltip(f"{actual}:Q", title=labels["actual"], format=",.0f")],
            )
        )
    return alt.layer(*layers).properties(height=280)


def simple_bars(df: pd.DataFrame, x: str, y: str, x_title: str, y_title: str, color: str = ACCENT,
                horizontal: bool = False, fmt: str = ",.0f", sort: list | None = None,
                axis_format: str = "~s") -> alt.Chart:
    if horizontal:
        enc = dict(y=alt.Y(f"{x}:N", title=x_title, sort=sort or "-x", axis=alt.Axis(labelLimit=200)),
                   x=alt.X(f"{y}:Q", title=y_title, axis=alt.Axis(format=axis_format)))
    else:
        enc = dict(x=alt.X(f"{x}:N", title=x_title, sort=sort), y=alt.Y(f"{y}:Q", title=y_title))
    return (
        alt.Chart(df).mark_bar(color=color)
        .encode(**enc, tooltip=[f"{x}:N", alt.Tooltip(f"{y}:Q", format=fmt)])
        .properties(height=alt.Step(24) if horizontal else 240)
    )


def calibration_chart(df: pd.DataFrame, predicted: str, observed: str, title_x: str, title_y: str) -> alt.LayerChart:
    """Predicted probability against observed frequency, with the diagonal of perfect calibration."""
    diag = alt.Chart(pd.DataFrame({"p": [0.0, 1.0]})).mark_line(color=MUTED, strokeDash=[4, 4]).encode(
        x=alt.X("p:Q", title=title_x, scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("p:Q", title=title_y, scale=alt.Scale(domain=[0, 1])),
    )
    points = alt.Chart(df).mark_line(point=True, color=ACCENT).encode(
        x=f"{predicted}:Q", y=f"{observed}:Q",
        tooltip=[alt.Tooltip(f"{predicted}:Q", format=".2f"), alt.Tooltip(f"{observed}:Q", format=".2f")],
    )
    return alt.layer(diag, points).properties(height=280)
