"""Aging page: total and overdue AR and the age buckets, which always sum to the total."""

import streamlit as st

from dashboards import data
from dashboards.charts import aging_bars
from dashboards.i18n import format_amount, format_date, format_pct, t
from dashboards.state import current_language
from huikuan.publish import NoSnapshotError
from huikuan.settings import load_settings

lang = current_language()
ccy = load_settings().reporting_currency
st.title(t("aging_title", lang))

try:
    snapshot = data.snapshot_path()
except NoSnapshotError:
    st.info(t("no_snapshot", lang))
    st.stop()

basis = st.radio(
    t("basis", lang),
    ["due_date", "invoice_date"],
    format_func=lambda b: t(f"basis_{b}", lang),
    horizontal=True,
    key="aging_basis",
)
totals = data.aging_totals(basis)
buckets = data.aging_buckets(basis)

total_ar = float(totals["total_ar"] or 0)
overdue = float(totals["overdue_ar"] or 0)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("total_ar", lang), format_amount(total_ar, lang, ccy))
c2.metric(t("overdue_ar", lang), format_amount(overdue, lang, ccy))
c3.metric(t("overdue_share", lang), format_pct(overdue / total_ar if total_ar else None, lang))
c4.metric(t("open_invoices", lang), f"{int(totals['open_invoices'] or 0):,}")
st.caption(
    f"{t('as_of', lang)}: {format_date(totals['as_of_date'], lang)} · "
    + t("reporting_currency_note", lang, ccy=ccy)
)

label = "bucket_label_zh" if lang == "zh" else "bucket_label_en"
st.subheader(t("by_bucket", lang))
st.altair_chart(aging_bars(buckets, label, t("amount", lang), t("bucket", lang)), use_container_width=True)

table = buckets[[label, "amount", "invoices"]].copy()
table["share"] = table["amount"] / total_ar if total_ar else 0.0
st.dataframe(
    table.rename(
        columns={label: t("bucket", lang), "amount": t("amount", lang), "invoices": t("count", lang),
                 "share": t("share", lang)}
    ),
    hide_index=True,
    use_container_width=True,
    column_config={
        t("amount", lang): st.column_config.NumberColumn(format="%.2f"),
        t("share", lang): st.column_config.NumberColumn(format="percent"),
    },
)
bucket_sum = float(buckets["amount"].sum())
st.caption(
    f"✓ {t('totals_reconcile', lang)}: {format_amount(bucket_sum, lang, ccy)}"
    if abs(bucket_sum - total_ar) < 0.005
    else f"✗ {format_amount(bucket_sum, lang, ccy)} ≠ {format_amount(total_ar, lang, ccy)}"
)

st.subheader(t("top_customers", lang))
top = data.aging_top_customers(basis)
st.dataframe(
    top.rename(columns={"customer_name": t("customer", lang), "total_ar": t("total_ar", lang),
                        "overdue_ar": t("overdue_ar", lang)}).drop(columns=["customer_id"]),
    hide_index=True,
    use_container_width=True,
)
st.caption(f"{t('snapshot', lang)}: {snapshot.name}")
