"""Projects: contract value against billed and collected, unbilled milestones due, retention held."""

import altair as alt
import streamlit as st

from dashboards import data
from dashboards.common import footer, require, start_page
from dashboards.i18n import format_amount, format_pct, t
from dashboards.tables import show_table

ctx = start_page("page_projects")
lang, scope, ccy = ctx.lang, ctx.scope, ctx.currency
require(ctx, data.PROJECT_TABLES)

df = data.projects(scope)
tot = data.project_totals(scope)
c1, c2, c3 = st.columns(3)
c4, c5, _ = st.columns(3)
c1.metric(t("contract_value", lang), format_amount(tot["contract_value_rpt"], lang, ccy))
c2.metric(t("billed", lang), format_amount(tot["billed_rpt"], lang, ccy))
c3.metric(t("collected", lang), format_amount(tot["collected_rpt"], lang, ccy))
c4.metric(t("unbilled_due", lang), format_amount(tot["unbilled_due_rpt"], lang, ccy))
c5.metric(t("retention_held", lang), format_amount(tot["retention_held_rpt"], lang, ccy))
billed = float(tot["billed_rpt"])
rate = format_pct(float(tot["collected_rpt"]) / billed if billed else None, lang)
shown_note = t("rows_shown", lang, n=f"{len(df):,}", total=f"{int(tot['projects']):,}")
st.caption(f"{t('collection_rate', lang)}: {rate}" + (f" · {shown_note}" if len(df) < tot["projects"] else ""))

top = df.nlargest(15, "contract_value_rpt").assign(
    project_label=lambda d: d["project_name"].fillna("") + " (" + d["project_id"] + ")")
long = top.melt(id_vars=["project_label"], value_vars=["contract_value_rpt", "billed_rpt", "collected_rpt"],
                var_name="measure", value_name="amount")
long["measure"] = long["measure"].map({"contract_value_rpt": t("contract_value", lang),
                                       "billed_rpt": t("billed", lang), "collected_rpt": t("collected", lang)})
measures = [t("contract_value", lang), t("billed", lang), t("collected", lang)]
st.subheader(t("projects_top", lang))
st.altair_chart(
    alt.Chart(long).mark_bar().encode(
        y=alt.Y("project_label:N", title=None, sort=top["project_label"].tolist(), axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("measure:N", sort=measures),
        x=alt.X("amount:Q", title=t("amount", lang), axis=alt.Axis(format="~s")),
        color=alt.Color("measure:N", title=None, sort=measures, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=measures, range=["#1565c0", "#90caf9", "#2e7d32"])),
        tooltip=["project_label:N", "measure:N", alt.Tooltip("amount:Q", format=",.0f")],
    ).properties(height=max(240, 48 * len(top))),
    width="stretch",
)
show_table(df.drop(columns=["customer_id"]), lang,
           {"project_id": "project", "project_name": "project_name", "customer_name": "customer",
            "contract_value_rpt": "contract_value", "billed_rpt": "billed", "collected_rpt": "collected",
            "open_ar_rpt": "total_ar", "unbilled_due_milestones": "unbilled_milestones",
            "unbilled_due_rpt": "unbilled_due", "retention_held_rpt": "retention_held",
            "collection_rate": "collection_rate"},
           amounts=["contract_value_rpt", "billed_rpt", "collected_rpt", "open_ar_rpt", "unbilled_due_rpt",
                    "retention_held_rpt"], percents=["collection_rate"], key="projects", export=True)
footer(ctx)
