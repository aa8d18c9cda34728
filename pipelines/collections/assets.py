"""Dunning asset: plan and send (or dry-run) reminders for the published snapshot's open items."""

from datetime import date

import dagster as dg

from pipelines.resources import HuikuanResource

OPEN_ITEMS_SQL = """
select invoice_no, customer_id, project_id, currency, open_amount, issue_date, due_date
from marts.fct_invoice
where is_in_ar and open_amount > 0
"""
CUSTOMERS_SQL = """
select c.customer_id, c.customer_name, c.customer_type, c.salesperson_id, s.email as salesperson_email
from marts.dim_customer c left join marts.dim_salesperson s using (salesperson_id)
"""


def send_reminders(settings, as_of: date) -> dict:
    """Plan reminders on the current snapshot and send them (or write .eml files); returns counts."""
    from huikuan.dunning import SmtpConfig, plan_dunning, send_messages
    from huikuan.publish import connect_published

    with connect_published(settings.published_dir) as con:
        open_items = con.execute(OPEN_ITEMS_SQL).df()
        customers = con.execute(CUSTOMERS_SQL).df()
    messages = plan_dunning(open_items, customers, settings.ops_path, as_of)
    dry_run_dir = None if settings.dunning_mode == "send" else settings.home / "outbox"
    results = send_messages(messages, SmtpConfig.from_env(), settings.ops_path, dry_run_dir=dry_run_dir)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"messages": len(messages), **counts, "mode": settings.dunning_mode}


@dg.asset(
    name="dunning_reminders",
    group_name="collections",
    deps=[dg.AssetKey(["published_warehouse"])],
    description="Reminders per dunning stage, at most once per invoice and stage, paused by promises and "
    "open disputes. Dry run (.eml files in outbox/) unless dunning_mode is 'send'.",
)
def dunning_reminders(context: dg.AssetExecutionContext, huikuan: HuikuanResource):
    settings = huikuan.settings()
    if settings.dunning_mode == "off":
        return dg.MaterializeResult(metadata={"mode": "off"})
    counts = send_reminders(settings, settings.as_of)
    if counts.get("failed"):
        context.log.warning(f"{counts['failed']} reminder(s) failed and will be retried on the next run")
    return dg.MaterializeResult(metadata=counts)
