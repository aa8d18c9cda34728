"""Customers and credit: rating distribution, limit utilization, alerts, and one customer's full picture."""

import streamlit as st

from dashboards import actions, data
from dashboards.charts import simple_bars, trend_lines
from dashboards.common import footer, require, start_page
from dashboards.i18n import format_amount, format_days, t
from dashboards.tables import show_table

ctx = start_page("page_customers")
lang, scope, ccy, user = ctx.lang, ctx.scope, ctx.currency, ctx.user
require(ctx, {"marts.dim_customer": ("customer_id", "customer_name"),
              "marts.fct_invoice": ("invoice_no", "customer_id", "open_amount_rpt")})

search = st.text_input(t("customer_search", lang), key="cust_search")
listed = data.customers(scope, search=search, limit=data.PICKER_LIMIT + 1)
names = dict(zip(listed["customer_id"][:data.PICKER_LIMIT], listed["customer_name"][:data.PICKER_LIMIT]))
# ?customer= opens a customer directly; one outside the user's scope is simply not there.
wanted = st.query_params.get("customer")
if wanted and wanted not in names:
    found = data.customer_detail(scope, wanted)
    if found is not None:
        names = {wanted: found["customer_name"], **names}
choice = st.selectbox(
    t("customer_detail", lang), [None, *names], key="cust_pick",
    index=([None, *names].index(wanted) if wanted in names else 0),
    format_func=lambda c: t("choose_customer", lang) if c is None else f"{names[c]} ({c})",
)
if len(listed) > data.PICKER_LIMIT:
    st.caption(t("customers_first_n", lang, n=f"{data.PICKER_LIMIT:,}"))
if wanted and wanted not in names:
    st.warning(t("customer_not_found", lang, customer=wanted))

if choice is None:
    if require(ctx, data.CREDIT_TABLES, stop=False):
        credit = data.credit_overview(scope)
        dist = data.credit_summary(scope)
        c1, c2, c3 = st.columns(3)
        c1.metric(t("customers_count", lang), f"{int(dist['customers'].sum()):,}")
        c2.metric(t("customers_alerts", lang), f"{int(dist['alerts'].sum()):,}")
        c3.metric(t("total_ar", lang), format_amount(dist["open_ar"].sum(), lang, ccy))
        left, right = st.columns(2)
        with left:
            st.subheader(t("rating_distribution", lang))
            st.altair_chart(simple_bars(dist, "rating", "open_ar", t("rating", lang), t("total_ar", lang),
                                        sort=sorted(dist["rating"])), width="stretch")
        with right:
            st.subheader(t("limit_utilization", lang))
            top = credit.dropna(subset=["credit_utilization"]).nlargest(12, "credit_utilization")
            st.altair_chart(simple_bars(top, "customer_name", "credit_utilization", t("customer", lang),
                                        t("limit_utilization", lang), horizontal=True, fmt=".1%",
                                        axis_format="%"), width="stretch")
        show_table(
            credit.drop(columns=["customer_id", "salesperson_id", "is_utilization_alert", "is_consecutive_late_alert",
                                 "is_downgrade_alert"]),
            lang,
            {"customer_name": "customer", "rating": "rating", "previous_rating": "previous_rating",
             "weighted_days_late": "weighted_days_late", "late_share": "late_share",
             "consecutive_late_payments": "consecutive_late", "credit_limit_rpt": "credit_limit",
             "open_ar_rpt": "total_ar", "overdue_ar_rpt": "overdue_ar", "credit_utilization": "limit_utilization",
             "has_alert": "alert"},
            amounts=["credit_limit_rpt", "open_ar_rpt", "overdue_ar_rpt"], percents=["late_share", "credit_utilization"],
            key="credit_table", export=True,
        )
    st.stop()

detail = data.customer_detail(scope, choice)
st.header(f"{detail['customer_name']} ({choice})")
d1, d2, d3, d4 = st.columns(4)
d1.metric(t("region", lang), detail.get("region") or "—")
d2.metric(t("salesperson", lang), detail.get("salesperson_name") or detail.get("salesperson_id") or "—")
d3.metric(t("payment_terms", lang), format_days(detail.get("payment_terms_days"), lang))
d4.metric(t("credit_limit", lang), format_amount(detail.get("credit_limit"), lang, detail.get("currency") or ccy))

invoices = data.customer_invoices(scope, choice)
open_inv = invoices[invoices["open_amount"] != 0]
e1, e2, e3 = st.columns(3)
e1.metric(t("total_ar", lang), format_amount(open_inv["open_amount_rpt"].sum(), lang, ccy))
e2.metric(t("open_invoices", lang), f"{len(open_inv):,}")
paid = invoices.dropna(subset=["settled_date"])
e3.metric(t("avg_days_late", lang), format_days(paid["days_late"].mean() if len(paid) else None, lang))

tab_h, tab_i, tab_p, tab_m, tab_n = st.tabs([t("history", lang), t("invoices", lang), t("payments", lang),
                                            t("predictions", lang), t("notes", lang)])
with tab_h:
    hist = data.customer_history(scope, choice)
    if hist.empty:
        st.caption(t("no_rows", lang))
    else:
        st.altair_chart(trend_lines(hist, "month_end", {"ending_ar_rpt": t("total_ar", lang),
                                                        "credit_sales_rpt": t("billed", lang),
                                                        "collected_rpt": t("collected", lang)},
                                    t("amount", lang), ",.0f"), width="stretch")
with tab_i:
    show_table(invoices, lang, {"invoice_no": "invoice_no", "invoice_type": "kind", "project_id": "project",
                                "issue_date": "issue_date", "due_date": "due_date", "currency": "currency",
                                "gross_amount": "gross_amount", "gross_amount_rpt": "gross_amount_rpt",
                                "paid_amount": "paid", "open_amount": "open_amount_doc",
                                "open_amount_rpt": "open_amount_rpt", "settled_date": "settled_date",
                                "days_late": "days_late", "status": "status", "is_disputed": "disputed"},
               amounts=["gross_amount", "gross_amount_rpt", "paid_amount", "open_amount", "open_amount_rpt"],
               key="cust_invoices", export=True)
with tab_p:
    payments = data.customer_payments(scope, choice)
    if payments.empty:
        st.caption(t("no_payments", lang))
    else:
        show_table(payments, lang, {"applied_date": "booking_date", "bank_txn_key": "bank_ref",
                                    "invoice_no": "invoice_no", "application_method": "rule",
                                    "confidence": "confidence", "currency": "currency",
                                    "applied_amount": "amount_doc", "applied_amount_rpt": "amount_rpt"},
                   amounts=["applied_amount", "applied_amount_rpt"], key="cust_payments")
with tab_m:
    preds = data.customer_predictions(scope, choice) if data.has(
        "marts.collections_worklist", "predicted_pay_date", "probability_of_default", "model_version") else None
    if preds is None or preds.empty:
        st.info(t("not_available_models", lang))
    else:
        show_table(preds, lang, {"invoice_no": "invoice_no", "due_date": "due_date",
                                 "predicted_pay_date": "predicted_pay_date", "probability_of_default": "risk",
                                 "model_version": "model_version"},
                   percents=["probability_of_default"], key="cust_preds")
with tab_n:
    notes = actions.notes_for(scope, customer_id=choice, invoice_nos=invoices["invoice_no"].tolist())
    if user.can_act:
        with st.form("cust_note_form", clear_on_submit=True):
            text = st.text_area(t("note", lang), key="cust_note_text")
            if st.form_submit_button(t("save_note", lang)) and text.strip():
                actions.note(user, scope, customer_id=choice, text=text)
                st.success(t("action_saved", lang, user=user.username))
                notes = actions.notes_for(scope, customer_id=choice, invoice_nos=invoices["invoice_no"].tolist())
    show_table(notes[["recorded_at", "invoice_no", "kind", "channel", "text", "recorded_by"]], lang,
               {"recorded_at": "recorded_at", "invoice_no": "invoice_no", "kind": "kind", "channel": "channel",
                "text": "note", "recorded_by": "recorded_by"}, key="cust_notes")
footer(ctx)
