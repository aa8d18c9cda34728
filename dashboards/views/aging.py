"""Aging page: total and overdue AR and the age buckets (which always sum to the total), by group, with drill-down."""

import streamlit as st

from dashboards import data
from dashboards.charts import aging_bars, stacked_aging
from dashboards.common import footer, require, start_page
from dashboards.i18n import format_amount, format_date, format_pct, t
from dashboards.tables import show_table

ctx = start_page("aging_title")
lang, scope, ccy = ctx.lang, ctx.scope, ctx.currency
require(ctx, data.AGING_TABLES)

dates = data.aging_as_of_dates()
c_date, c_basis, c_group = st.columns([1, 1, 2])
as_of = c_date.selectbox(
    t("as_of", lang), dates, index=0, key="aging_as_of",
    format_func=lambda d: format_date(d, lang) + (f" ({t('today', lang)})" if d == dates[0] else ""),
)
basis = c_basis.radio(
    t("basis", lang), ["due_date", "invoice_date"], format_func=lambda b: t(f"basis_{b}", lang),
    horizontal=True, key="aging_basis",
)
group = c_group.radio(
    t("group_by", lang), list(data.GROUPINGS), format_func=lambda g: t(f"group_{g}", lang),
    horizontal=True, key="aging_group",
)
totals = data.aging_totals(scope, basis, as_of)
buckets = data.aging_buckets(scope, basis, as_of)

total_ar = float(totals["total_ar"] or 0)
overdue = float(totals["overdue_ar"] or 0)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("total_ar", lang), format_amount(total_ar, lang, ccy))
c2.metric(t("overdue_ar", lang), format_amount(overdue, lang, ccy))
c3.metric(t("overdue_share", lang), format_pct(overdue / total_ar if total_ar else None, lang))
c4.metric(t("open_invoices", lang), f"{int(totals['open_invoices'] or 0):,}")
st.caption(f"{t('as_of', lang)}: {format_date(as_of, lang)} · " + t("reporting_currency_note", lang, ccy=ccy))

label = "bucket_label_zh" if lang == "zh" else "bucket_label_en"
left, right = st.columns([2, 3])
with left:
    st.subheader(t("by_bucket", lang))
    if buckets.empty:
        st.info(t("no_rows", lang))
    else:
        st.altair_chart(aging_bars(buckets, label, t("amount", lang), t("bucket", lang)),
                        width="stretch")
    table = buckets[[label, "amount", "invoices"]].copy()
    table["share"] = table["amount"] / total_ar if total_ar else 0.0
    show_table(table, lang, {label: "bucket", "amount": "amount", "invoices": "count", "share": "share"},
               amounts=["amount"], percents=["share"], key="aging_buckets")
    bucket_sum = float(buckets["amount"].sum())
    st.caption(
        f"✓ {t('totals_reconcile', lang)}: {format_amount(bucket_sum, lang, ccy)}"
        if abs(bucket_sum - total_ar) < 0.005
        else f"✗ {format_amount(bucket_sum, lang, ccy)} ≠ {format_amount(total_ar, lang, ccy)}"
    )
with right:
    group_name = t(f"group_{group}", lang)
    st.subheader(t("by_group", lang, group=group_name))
    grouped = data.aging_by_group(scope, basis, as_of, group)
    if not grouped.empty:
        chart = stacked_aging(grouped, label, group_name, t("amount", lang), t("bucket", lang))
        st.altair_chart(chart, width="stretch")

st.subheader(t("drill_down", lang))
members = grouped[grouped["group_key"] != "…"][["group_key", "group_label"]].drop_duplicates()
d1, d2 = st.columns(2)
member = d1.selectbox(
    group_name, [None, *members["group_key"].tolist()], key="aging_member",
    format_func=lambda k: t("all", lang) if k is None else str(members.set_index("group_key").at[k, "group_label"]),
)
bucket = d2.selectbox(
    t("bucket", lang), [None, *buckets["bucket_key"].tolist()], key="aging_bucket",
    format_func=lambda k: t("all", lang) if k is None else buckets.set_index("bucket_key").at[k, label],
)
invoices = data.aging_invoices(scope, basis, as_of, group if member else None, member, bucket)
show_table(
    invoices[["invoice_no", "customer_name", "project_id", label, "age_days", "currency", "open_amount",
              "open_amount_rpt"]],
    lang,
    {"invoice_no": "invoice_no", "customer_name": "customer", "project_id": "project", label: "bucket",
     "age_days": "age_days", "currency": "currency", "open_amount": "open_amount_doc",
     "open_amount_rpt": "open_amount_rpt"},
    amounts=["open_amount", "open_amount_rpt"], key="aging_invoices", export=True,
)

st.subheader(t("top_customers", lang))
top = data.aging_top_customers(scope, basis, as_of=as_of)
show_table(top.drop(columns=["customer_id"]), lang,
           {"customer_name": "customer", "total_ar": "total_ar", "overdue_ar": "overdue_ar"},
           amounts=["total_ar", "overdue_ar"], key="aging_top")
footer(ctx)
