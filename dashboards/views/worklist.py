"""Collections worklist: ranked open items with filters, and the actions a collector records on them."""

from datetime import date, timedelta

import streamlit as st

from dashboards import actions, data
from dashboards.common import footer, require, start_page
from dashboards.i18n import TEXT, format_amount, format_factors, t
from dashboards.tables import show_table

ctx = start_page("page_worklist")
lang, scope, ccy, user = ctx.lang, ctx.scope, ctx.currency, ctx.user
require(ctx, data.WORKLIST_TABLES)

with st.expander(t("filters", lang), expanded=False):
    f1, f2 = st.columns(2)
    search = f1.text_input(t("customer_search", lang), key="wl_customer_search")
    # The picker lists the first customers matching the search: a list of every customer with open
    # items (130,000 on a 10M-invoice warehouse) would cost more than the rest of the page.
    opts = data.worklist_options(scope, search=search, limit=data.PICKER_LIMIT + 1)
    names = dict(opts["customers"][:data.PICKER_LIMIT])
    customer = f2.selectbox(t("customer", lang), [None, *names], key="wl_customer",
                            format_func=lambda c: t("all", lang) if c is None else f"{names[c]} ({c})")
    if len(opts["customers"]) > data.PICKER_LIMIT:
        f2.caption(t("customers_first_n", lang, n=f"{data.PICKER_LIMIT:,}"))
    f3, f4, f5 = st.columns(3)
    stages = f3.multiselect(t("dunning_stage", lang), opts["stages"], key="wl_stages",
                            format_func=lambda s: t(f"stage_{s}", lang))
    promise_states = f4.multiselect(t("promise_state", lang), ["none", "open", "broken"], key="wl_promise",
                                    format_func=lambda s: t(f"promise_{s}", lang))
    min_overdue = f5.number_input(t("min_days_overdue", lang), value=None, step=1, key="wl_min_overdue")

filters = {"stages": stages or None, "customer_id": customer,
           "min_days_overdue": None if min_overdue is None else int(min_overdue)}
items = data.worklist(scope, **filters)
# Promises live in the operational store: join them here so a promise recorded a minute ago shows.
items = data.with_promise_state(items, actions.promises(), date.today())
if promise_states:
    items = items[items["promise_state"].isin(promise_states)]
# Top factors behind each prediction (ML scoring step), translated; absent before the first scoring.
explained = set(data.WORKLIST_FACTORS) <= set(items.columns) and not items.empty
if explained:
    for column, (prefix, unit) in data.FACTOR_KINDS.items():
        items[column] = [
            format_factors([r[f"{prefix}_{i}"] for i in (1, 2, 3)], [r[f"{prefix}_{i}_{unit}"] for i in (1, 2, 3)],
                           unit, lang)
            for r in items[list(data.WORKLIST_FACTORS)].to_dict("records")
        ]
if promise_states:
    # The promise filter is applied to the rows fetched (promises are not in the snapshot).
    totals = {"items": len(items), "open_amount_rpt": items["open_amount_rpt"].sum(),
              "expected_loss_rpt": items["expected_loss_rpt"].sum()}
else:
    totals = data.worklist_totals(scope, **filters)
c1, c2, c3 = st.columns(3)
c1.metric(t("worklist_items", lang), f"{int(totals['items']):,}")
c2.metric(t("worklist_open", lang), format_amount(totals["open_amount_rpt"], lang, ccy))
c3.metric(t("worklist_expected_loss", lang), format_amount(totals["expected_loss_rpt"], lang, ccy))
if int(totals["items"]) > len(items):
    st.caption(t("rows_shown", lang, n=f"{len(items):,}", total=f"{int(totals['items']):,}"))

action_col = "next_action_zh" if lang == "zh" else "next_action_en"
shown = items[["priority_rank", "invoice_no", "customer_name", "dunning_stage", action_col, "days_overdue",
               "currency", "open_amount", "open_amount_rpt", "predicted_pay_date", "probability_of_default",
               "expected_loss_rpt", "promise_state", "promised_date", "owner_role", "is_disputed",
               *(data.FACTOR_KINDS if explained else [])]].copy()
shown["dunning_stage"] = shown["dunning_stage"].map(lambda s: t(f"stage_{s}", lang))
shown["promise_state"] = shown["promise_state"].map(lambda s: t(f"promise_{s}", lang))
shown["owner_role"] = shown["owner_role"].map(lambda r: t(f"owner_{r}", lang) if f"owner_{r}" in TEXT else r)
show_table(
    shown, lang,
    {"priority_rank": "rank", "invoice_no": "invoice_no", "customer_name": "customer",
     "dunning_stage": "dunning_stage", action_col: "next_action", "days_overdue": "days_overdue",
     "currency": "currency", "open_amount": "open_amount_doc", "open_amount_rpt": "open_amount_rpt",
     "predicted_pay_date": "predicted_pay_date", "probability_of_default": "risk",
     "expected_loss_rpt": "expected_loss", "promise_state": "promise_state", "promised_date": "promised_date",
     "owner_role": "owner", "is_disputed": "disputed", "delay_factors": "delay_factors",
     "risk_factors": "risk_factors"},
    amounts=["open_amount", "open_amount_rpt", "expected_loss_rpt"], percents=["probability_of_default"],
    key="worklist", export=True, height=420,
)
if explained:
    st.caption(t("factors_help", lang))

st.subheader(t("record_action", lang))
if flash := st.session_state.pop("wl_flash", None):
    st.success(flash)
if not user.can_act:
    st.info(t("read_only_role", lang))
elif items.empty:
    st.caption(t("no_rows", lang))
else:
    labels = {r.invoice_no: f"{r.invoice_no} · {r.customer_name} · {format_amount(r.open_amount, lang, r.currency)}"
              for r in items.head(300).itertuples()}
    invoice_no = st.selectbox(t("invoice_no", lang), list(labels), format_func=labels.get, key="wl_invoice")
    row = items.set_index("invoice_no").loc[invoice_no]
    tab_p, tab_d, tab_n, tab_c = st.tabs([t("promise", lang), t("dispute", lang), t("note", lang),
                                          t("contact", lang)])
    done = None
    with tab_p, st.form("wl_promise_form", clear_on_submit=True):
        p_date = st.date_input(t("promised_date", lang), value=date.today() + timedelta(days=7), key="wl_p_date")
        p_amount = st.number_input(t("promised_amount", lang) + f" ({row['currency']})",
                                   value=float(row["open_amount"]), min_value=0.0, step=100.0, key="wl_p_amount")
        p_note = st.text_input(t("note", lang), key="wl_p_note")
        if st.form_submit_button(t("save_promise", lang)):
            done = actions.promise_to_pay(user, scope, invoice_no=invoice_no, customer_id=row["customer_id"],
                                          promised_date=p_date, promised_amount=p_amount, note=p_note)
    with tab_d, st.form("wl_dispute_form", clear_on_submit=True):
        d_reason = st.text_area(t("dispute_reason", lang), key="wl_d_reason")
        if st.form_submit_button(t("save_dispute", lang)):
            done = actions.dispute(user, scope, invoice_no=invoice_no, reason=d_reason)
    with tab_n, st.form("wl_note_form", clear_on_submit=True):
        n_text = st.text_area(t("note", lang), key="wl_n_text")
        if st.form_submit_button(t("save_note", lang)):
            if n_text.strip():
                done = actions.note(user, scope, invoice_no=invoice_no, text=n_text)
            else:
                st.warning(t("text_required", lang))
    with tab_c, st.form("wl_contact_form", clear_on_submit=True):
        channel = st.selectbox(t("channel", lang), ["phone", "email", "wechat", "visit", "letter"],
                               format_func=lambda c: t(f"channel_{c}", lang), key="wl_c_channel")
        c_text = st.text_area(t("contact_summary", lang), key="wl_c_text")
        if st.form_submit_button(t("save_contact", lang)):
            if c_text.strip():
                done = actions.note(user, scope, invoice_no=invoice_no, text=c_text, kind="contact", channel=channel)
            else:
                st.warning(t("text_required", lang))
    if done is not None:
        # Rerun so the table shows the new promise state at once; the message survives the rerun.
        st.session_state["wl_flash"] = t("action_saved", lang, user=user.username)
        st.rerun()
    recent = actions.notes_for(scope, invoice_nos=[invoice_no])
    if len(recent):
        st.caption(t("history", lang))
        show_table(recent[["recorded_at", "kind", "channel", "text", "recorded_by"]], lang,
                   {"recorded_at": "recorded_at", "kind": "kind", "channel": "channel", "text": "note",
                    "recorded_by": "recorded_by"}, key="wl_history")
footer(ctx)
