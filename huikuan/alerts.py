"""Alerts for unattended runs: always logged (and kept in alerts.log), emailed when recipients are set."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from huikuan.settings import Settings

log = logging.getLogger("huikuan.alerts")


def raise_alert(settings: Settings, subject: str, body: str) -> bool:
    """Record an alert; returns True if it was also emailed. Never raises: alerts must not fail runs."""
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    log.error("%s\n%s", subject, body)
    try:
        settings.alerts_log.parent.mkdir(parents=True, exist_ok=True)
        with open(settings.alerts_log, "a", encoding="utf-8") as f:
            f.write(f"[{stamp}] {subject}\n{body.rstrip()}\n\n")
    except OSError as exc:
        log.error("could not write %s: %s", settings.alerts_log, exc)
    if not settings.alert_recipients:
        return False
    try:
        from huikuan.dunning import SmtpConfig, notify_failure

        return bool(notify_failure(subject, body, SmtpConfig.from_env(), settings.alert_recipients))
    except Exception as exc:  # noqa: BLE001 - an unreachable mail server must not break the run
        log.error("alert email not sent: %s", exc)
        return False
