"""Overview: the CFO's glance — AR, overdue, DSO against target, BPDSO, ADD, CEI, collections, trends, alerts."""

import os
from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.charts import trend_lines
from dashboards.common import footer, require, start_page
from dashboards.i18n import format_amount, format_date, format_days, format_pct, t
from dashboards.tables import show_table

ctx = start_page("page_overview")
lang, scope, ccy = ctx.lang, ctx.scope, ctx.currency
require(ctx, data.AGING_TABLES)
DSO_TARGET = float(os.environ.get("HUIKUAN_DSO_TARGET_DAYS", "60"))

totals = data.aging_totals(scope)
total_ar, overdue = float(totals["total_ar"] or 0), float(totals["overdue_ar"] or 0)
st.caption(f"{t('as_of', lang)}: {format_date(totals['as_of_date'], lang)}"
           + (f" · {t('scope_own', lang, sp=scope.salesperson_id)}" if scope.restricted else ""))

c1, c2, c3 = st.columns(3)
c1.metric(t("total_ar", lang), format_amount(total_ar, lang, ccy))
c2.metric(t("overdue_ar", lang), format_amount(overdue, lang, ccy),
          format_pct(overdue / total_ar if total_ar else None, lang) + " " + t("of_total", lang),
          delta_color="off", delta_arrow="off")
c3.metric(t("open_invoices", lang), f"{int(totals['open_invoices'] or 0):,}")

if require(ctx, data.KPI_TABLES, stop=False):
    trend = data.kpi_trend(scope)
    if trend.empty:
        st.info(t("no_rows", lang))
    else:
        last = trend.iloc[-1]
        prev = trend.iloc[-2] if len(trend) > 1 else None

        def delta(col):
            if prev is None or pd.isna(last[col]) or pd.isna(prev[col]):
                return None
            return float(last[col]) - float(prev[col])

        k1, k2, k3, k4 = st.columns(4)
        dso = None if pd.isna(last["countback_dso"]) else float(last["countback_dso"])
        k1.metric(t("dso_countback", lang), format_days(dso, lang),
                  t("vs_target", lang, target=format_days(DSO_TARGET, lang))
                  + (" ✓" if dso is not None and dso <= DSO_TARGET else " ✗"),
                  delta_color="off", delta_arrow="off", help=t("dso_help", lang))
        k2.metric(t("bpdso", lang), format_days(last["best_possible_dso"], lang), help=t("bpdso_help", lang))
        k3.metric(t("add", lang), format_days(last["average_days_delinquent"], lang),
                  None if delta("average_days_delinquent") is None else f"{delta('average_days_delinquent'):+.1f}",
                  delta_color="inverse",
                  help=t("add_help", lang))
        k4.metric(t("cei", lang), format_pct(None if pd.isna(last["cei_pct"]) else float(last["cei_pct"]) / 100, lang),
                  None if delta("cei_pct") is None else f"{delta('cei_pct'):+.1f} pp", help=t("cei_help", lang))

        # Cash of the last four weeks against what the forecast made four weeks ago expected for them;
        # until such a forecast exists, what the current one expects for the next four weeks.
        as_of = pd.Timestamp(totals["as_of_date"]).date()
        window_start = as_of - timedelta(days=27)
        collected = data.collected_between(scope, window_start, as_of)
        earlier = data.forecast_made(scope, window_start - timedelta(days=1), weeks=4)
        m1, m2 = st.columns(2)
        m1.metric(t("collected_4w", lang), format_amount(collected, lang, ccy))
        if earlier is not None:
            made_on, expected = earlier
            m2.metric(t("forecast_4w_then", lang, date=format_date(made_on, lang)), format_amount(expected, lang, ccy),
                      format_pct(collected / expected - 1 if expected and collected is not None else None, lang),
                      delta_color="normal")
        else:
            ahead = data.forecast_next_weeks(scope, weeks=4)
            m2.metric(t("forecast_4w_next", lang),
                      format_amount(ahead, lang, ccy) if ahead is not None else t("no_forecast", lang),
                      help=t("forecast_history_help", lang))

        st.subheader(t("trends_24m", lang))
        left, right = st.columns(2)
        with left:
            st.altair_chart(
                trend_lines(trend, "month_end",
                            {"countback_dso": t("dso_countback", lang), "best_possible_dso": t("bpdso", lang),
                             "average_days_delinquent": t("add", lang)}, t("days", lang)),
                width="stretch",
            )
        with right:
            st.altair_chart(
                trend_lines(trend, "month_end",
                            {"ending_ar_rpt": t("total_ar", lang), "overdue_ar_rpt": t("overdue_ar", lang),
                             "collected_rpt": t("collected", lang)}, t("amount", lang), ",.0f"),
                width="stretch",
            )

st.subheader(t("alerts", lang))
if require(ctx, data.CREDIT_TABLES, stop=False):
    al = data.alerts(scope)
    if al.empty:
        st.success(t("no_alerts", lang))
    else:
        al["alert"] = [
            " · ".join(t(k, lang) for k, flag in (("alert_utilization", u), ("alert_consecutive", c),
                                                   ("alert_downgrade", d)) if flag)
            for u, c, d in zip(al["is_utilization_alert"], al["is_consecutive_late_alert"], al["is_downgrade_alert"])
        ]
        show_table(al[["customer_name", "rating", "alert", "credit_utilization", "open_ar_rpt"]], lang,
                   {"customer_name": "customer", "rating": "rating", "alert": "alert",
                    "credit_utilization": "limit_utilization", "open_ar_rpt": "total_ar"},
                   amounts=["open_ar_rpt"], percents=["credit_utilization"], key="overview_alerts")
footer(ctx)
