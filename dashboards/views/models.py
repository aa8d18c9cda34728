"""Models: the current model version, its backtest metrics beside the baselines, calibration and drift."""

import streamlit as st

from dashboards import data
from dashboards.charts import calibration_chart, simple_bars
from dashboards.common import footer, require, start_page
from dashboards.i18n import t
from dashboards.tables import show_table

ctx = start_page("page_models")
lang, scope = ctx.lang, ctx.scope
require(ctx, data.MODEL_TABLES, produced_by="models")

metrics = data.model_metrics(scope)
version = metrics["model_version"].iloc[0] if len(metrics) else "—"
st.metric(t("model_version", lang), str(version))
st.subheader(t("backtest_metrics", lang))
table = metrics.pivot_table(index="metric", columns="method", values="value").reset_index()
show_table(table, lang, {"metric": "metric"}, key="model_metrics")
st.caption(t("baselines_help", lang))

left, right = st.columns(2)
with left:
    st.subheader(t("calibration", lang))
    cal = data.model_calibration()
    if cal.empty:
        st.caption(t("not_available_models", lang))
    else:
        st.altair_chart(calibration_chart(cal, "predicted", "observed", t("predicted_prob", lang),
                                          t("observed_freq", lang)), width="stretch")
with right:
    st.subheader(t("drift", lang))
    drift = data.model_drift()
    if drift.empty:
        st.caption(t("not_available_models", lang))
    else:
        st.altair_chart(simple_bars(drift.head(15), "feature", "psi", t("feature", lang), "PSI", horizontal=True,
                                    fmt=".3f"), width="stretch")
        st.caption(t("psi_help", lang))
footer(ctx)
