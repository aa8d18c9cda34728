"""Tables for the pages: translated headers, locale-formatted numbers, CSV and XLSX export."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from dashboards.i18n import t


def to_xlsx(df: pd.DataFrame, sheet: str = "data") -> bytes:
    """The frame as an Excel workbook (dates stay dates, numbers stay numbers)."""
    buf = io.BytesIO()
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        out.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buf.getvalue()


def to_csv(df: pd.DataFrame) -> bytes:
    # BOM so Excel on Chinese Windows opens the UTF-8 file with the right encoding.
    return df.to_csv(index=False).encode("utf-8-sig")


def show_table(
    df: pd.DataFrame, lang: str, headers: dict[str, str], *, amounts: list[str] = (), percents: list[str] = (),
    key: str, export: bool = False, height: int | None = None, **kwargs,
):
    """A dataframe with headers translated from i18n keys; returns Streamlit's element (selection)."""
    renamed = df.rename(columns={c: t(k, lang) for c, k in headers.items()})
    config = {t(headers.get(c, c), lang): st.column_config.NumberColumn(format="accounting") for c in amounts}
    config.update({t(headers.get(c, c), lang): st.column_config.NumberColumn(format="percent") for c in percents})
    # Dates arrive as midnight timestamps; show them as dates.
    config.update({t(headers.get(c, c), lang): st.column_config.DateColumn(format="YYYY-MM-DD")
                   for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c]) and c not in amounts})
    if df.empty:
        st.caption(t("no_rows", lang))
    shown = st.dataframe(renamed, hide_index=True, width="stretch", column_config=config,
                         key=key, height=height or "auto", **kwargs)
    if export and not df.empty:
        c1, c2, _ = st.columns([1, 1, 4])
        # Callables: the file is built only when someone clicks, not on every rerun.
        c1.download_button(t("download_csv", lang), lambda: to_csv(renamed), f"{key}.csv", "text/csv",
                           key=f"{key}_csv")
        c2.download_button(
            t("download_xlsx", lang), lambda: to_xlsx(renamed, key), f"{key}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}_xlsx",
        )
    return shown
