"""Reconciliation review: unmatched receipts with suggestions; accept, reject or split; match-rate figures."""

import pandas as pd
import streamlit as st

from dashboards import actions, data
from dashboards.common import footer, require, start_page
from dashboards.i18n import TEXT, format_amount, format_date, format_pct, t
from dashboards.tables import show_table

ctx = start_page("page_reconciliation")
lang, scope, ccy, user = ctx.lang, ctx.scope, ctx.currency, ctx.user
if scope.restricted:  # unmatched bank lines belong to no salesperson yet
    st.info(t("recon_company_only", lang))
    st.stop()
require(ctx, data.RECON_TABLES, produced_by="reconciliation")

stats = data.reconciliation_stats(scope)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("auto_rate", lang), format_pct(stats["auto_rate"], lang))
c2.metric(t("auto_lines", lang), f"{int(stats['auto_lines']):,}")
c3.metric(t("manual_lines", lang), f"{int(stats['manual_lines']):,}")
c4.metric(t("review_lines", lang), f"{int(stats['review_lines']):,}",
          format_amount(stats["review_amount"], lang, ccy), delta_color="off")
st.caption(t("decisions_next_run", lang))

lines = data.unmatched_receipts(scope)
reason_text = lines["reason"].map(lambda r: t(f"reason_{r}", lang) if f"reason_{r}" in TEXT else r)
show_table(lines.assign(reason=reason_text).drop(columns=["detail"]), lang,
           {"bank_txn_key": "bank_ref", "booking_date": "booking_date", "amount": "amount", "currency": "currency",
            "counterparty_name": "payer", "reason": "reason"}, amounts=["amount"], key="recon_lines", export=True,
           height=320)
if lines.empty:
    st.stop()

labels = {r.bank_txn_key: f"{format_date(r.booking_date, lang)} · {r.counterparty_name or '—'} · "
                          f"{format_amount(r.amount, lang, r.currency)}" for r in lines.itertuples()}
key = st.selectbox(t("receipt", lang), list(labels), format_func=labels.get, key="recon_line")
line = lines.set_index("bank_txn_key").loc[key]
st.caption(f"{t('bank_ref', lang)}: {key} · {line['detail']}")
props = data.proposals_for(scope, key)
st.subheader(t("suggestions", lang))
if props.empty:
    st.caption(t("no_suggestions", lang))
else:
    show_table(props, lang, {"rank": "rank", "invoice_no": "invoice_no", "customer_id": "customer_id",
                             "customer_name": "customer", "amount": "amount", "currency": "currency",
                             "rule": "rule", "score": "confidence"}, amounts=["amount"], key="recon_props")

if not user.can_act:
    st.info(t("read_only_role", lang))
    st.stop()

tab_a, tab_r, tab_s, tab_n = st.tabs([t("accept", lang), t("reject", lang), t("split", lang),
                                      t("not_receivable", lang)])
with tab_a:
    if props.empty:
        st.caption(t("no_suggestions", lang))
    else:
        ranks = sorted(props["rank"].unique().tolist())
        rank = st.selectbox(t("suggestion", lang), ranks, key="recon_accept_rank",
                            format_func=lambda r: " + ".join(props[props["rank"] == r]["invoice_no"]))
        chosen = props[props["rank"] == rank]
        if st.button(t("accept", lang), key="recon_accept", type="primary"):
            actions.accept_match(user, scope, bank_txn_key=key,
                                 allocations=list(zip(chosen["invoice_no"], chosen["amount"])),
                                 customer_id=chosen["customer_id"].iloc[0], payer_name=line["counterparty_name"])
            st.success(t("action_saved", lang, user=user.username))
with tab_r:
    if props.empty:
        st.caption(t("no_suggestions", lang))
    else:
        reason = st.text_input(t("reason", lang), key="recon_reject_reason")
        if st.button(t("reject_all", lang), key="recon_reject"):
            actions.reject_match(user, scope, bank_txn_key=key, invoice_nos=sorted(set(props["invoice_no"])),
                                 reason=reason)
            st.success(t("action_saved", lang, user=user.username))
with tab_s:
    candidates = data.open_invoices_in_currency(scope, line["currency"])
    default = props[props["rank"] == props["rank"].min()][["invoice_no", "amount"]] if len(props) else \
        pd.DataFrame({"invoice_no": pd.Series(dtype=str), "amount": pd.Series(dtype=float)})
    edited = st.data_editor(
        default.reset_index(drop=True), num_rows="dynamic", key="recon_split_editor", width="stretch",
        column_config={
            "invoice_no": st.column_config.SelectboxColumn(t("invoice_no", lang),
                                                           options=candidates["invoice_no"].tolist()),
            "amount": st.column_config.NumberColumn(t("amount", lang), min_value=0.0, format="%.2f"),
        },
    )
    st.caption(t("split_help", lang, amount=format_amount(line["amount"], lang, line["currency"])))
    if st.button(t("save_split", lang), key="recon_split"):
        try:
            actions.split_match(user, scope, bank_txn_key=key, line_amount=float(line["amount"]),
                                allocations=list(zip(edited["invoice_no"], edited["amount"])))
            st.success(t("action_saved", lang, user=user.username))
        except ValueError as exc:
            st.error(str(exc))
with tab_n:
    why = st.text_input(t("reason", lang), key="recon_nr_reason")
    if st.button(t("mark_not_receivable", lang), key="recon_nr"):
        if why.strip():
            actions.not_receivable(user, scope, bank_txn_key=key, reason=why)
            st.success(t("action_saved", lang, user=user.username))
        else:
            st.warning(t("text_required", lang))
footer(ctx)
