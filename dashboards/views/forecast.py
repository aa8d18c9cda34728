"""Cash forecast: expected receipts for 13 weeks and 12 months with intervals, actuals overlaid, backtest accuracy."""

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.charts import bars_with_band
from dashboards.common import footer, require, start_page
from dashboards.i18n import format_amount, t
from dashboards.tables import show_table

ctx = start_page("page_forecast")
lang, scope, ccy = ctx.lang, ctx.scope, ctx.currency
if scope.restricted:
    st.info(t("forecast_company_only", lang))
    st.stop()
require(ctx, data.FORECAST_TABLES, produced_by="models")

labels = {"expected": t("expected", lang), "low": t("interval_low", lang), "high": t("interval_high", lang),
          "actual": t("actual", lang)}
for granularity, title, fmt in (("week", "forecast_13w", "%m-%d"), ("month", "forecast_12m", "%Y-%m")):
    fc = data.forecast_periods(scope, granularity)
    st.subheader(t(title, lang))
    if fc.empty:
        st.caption(t("no_rows", lang))
        continue
    actual = data.collected_by_period(scope, granularity, since=pd.Timestamp(fc["period_start"].min()).date())
    fc = fc.merge(actual.rename(columns={"collected": "actual"}), on="period_start", how="left")
    c1, c2 = st.columns(2)
    c1.metric(t("expected_total", lang), format_amount(fc["expected"].sum(), lang, ccy))
    c2.metric(t("interval_total", lang),
              f"{format_amount(fc['lo'].sum(), lang, ccy)} – {format_amount(fc['hi'].sum(), lang, ccy)}")
    st.altair_chart(bars_with_band(fc, "period_start", "actual", "expected", "lo", "hi", t("amount", lang), labels,
                                   fmt), width="stretch")
    with st.expander(t("table", lang)):
        show_table(fc.drop(columns=["model_version"]), lang,
                   {"period_start": "period_start", "period_end": "period_end", "expected": "expected",
                    "lo": "interval_low", "hi": "interval_high", "actual": "actual"},
                   amounts=["expected", "lo", "hi", "actual"], key=f"fc_{granularity}", export=True)

st.subheader(t("backtest_accuracy", lang))
if require(ctx, data.MODEL_TABLES, produced_by="models", stop=False):
    m = data.model_metrics(scope)
    wape = m[m["metric"].str.contains("wape", case=False)]
    if wape.empty:
        st.caption(t("no_rows", lang))
    else:
        wape = wape.pivot_table(index="metric", columns="method", values="value").reset_index()
        show_table(wape, lang, {"metric": "metric"}, percents=[c for c in wape.columns if c != "metric"],
                   key="fc_wape")
        st.caption(t("wape_help", lang))
footer(ctx)
