"""Dunning: collection reminder emails per stage, rendered in Chinese or English, sent once via SMTP.

`plan_dunning` decides who gets which reminder (pure apart from reading the operational store);
`send_messages` sends and logs them; `notify_failure` emails a run-failure notice.
"""

from huikuan.dunning.plan import assess_open_items, paused_invoices, plan_dunning
from huikuan.dunning.policy import DEFAULT_POLICY, DunningPolicy, Stage, load_policy, stage_for
from huikuan.dunning.render import CompanyProfile, InvoiceLine, Message, format_amount, render
from huikuan.dunning.send import SendResult, SmtpConfig, notify_failure, resolve_pending, send_messages

__all__ = [
    "DEFAULT_POLICY",
    "CompanyProfile",
    "DunningPolicy",
    "InvoiceLine",
    "Message",
    "SendResult",
    "SmtpConfig",
    "Stage",
    "assess_open_items",
    "format_amount",
    "load_policy",
    "notify_failure",
    "paused_invoices",
    "plan_dunning",
    "render",
    "resolve_pending",
    "send_messages",
    "stage_for",
]
