"""Sending dunning emails through SMTP, logged in the operational store so none goes out twice.

Crash safety: for each message the log rows are first claimed (status `pending`, with the
Message-ID and recipient) in one committed transaction, then the email is sent, then the rows are
set to `sent` or `failed`. A crash after the claim leaves `pending` rows, which block a resend:
a customer may miss one reminder (a person sees the pending rows and resolves them with
`resolve_pending`), but is never reminded twice for the same invoice and stage. The UNIQUE
(invoice_no, stage, channel) constraint backs this up if two senders race.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path

from huikuan import opstore
from huikuan.dunning.render import Message, safe_filename

log = logging.getLogger("huikuan.dunning")

EMAIL = "email"
DRY_RUN = "dry_run"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    sender: str = "huikuan@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False  # implicit TLS (SMTPS, usually port 465)
    timeout: float = 10.0
    reply_to: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "SmtpConfig":
        """From HUIKUAN_SMTP_HOST, _PORT, _FROM, _USER, _PASSWORD, _STARTTLS, _SSL, _TIMEOUT, _REPLY_TO.

        Explicit keyword arguments win over the environment; the port defaults to 465 with SSL,
        587 with STARTTLS, else 25.
        """
        env = os.environ if environ is None else environ
        get = lambda k: (env.get(f"HUIKUAN_SMTP_{k}") or "").strip() or None  # noqa: E731
        use_ssl = _flag(get("SSL"))
        use_starttls = _flag(get("STARTTLS"))
        values = {
            "host": get("HOST") or cls.host,
            "port": int(get("PORT") or (465 if use_ssl else 587 if use_starttls else 25)),
            "sender": get("FROM") or cls.sender,
            "user": get("USER"),
            "password": get("PASSWORD"),
            "starttls": use_starttls,
            "ssl": use_ssl,
            "timeout": float(get("TIMEOUT") or cls.timeout),
            "reply_to": get("REPLY_TO"),
        }
        values.update(overrides)
        return cls(**values)

    def __repr__(self) -> str:  # keep the password out of logs
        shown = replace(self, password="***" if self.password else None)
        return "SmtpConfig(" + ", ".join(f"{k}={v!r}" for k, v in vars(shown).items()) + ")"


@dataclass(frozen=True)
class SendResult:
    customer_id: str
    stage: str
    invoice_nos: tuple[str, ...]
    recipient: str | None
    status: str  # sent, failed, dry_run, skipped
    message_id: str | None = None
    error: str | None = None
    eml_path: Path | None = None


def open_smtp(cfg: SmtpConfig) -> smtplib.SMTP:
    """A connected (and, if configured, encrypted and logged-in) SMTP session."""
    if cfg.ssl:
        server: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                                context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    try:
        server.ehlo()
        if cfg.starttls and not cfg.ssl:
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if cfg.user:
            server.login(cfg.user, cfg.password or "")
    except BaseException:
        server.close()
        raise
    return server


def _addresses(text: str | None) -> list[str]:
    return [addr for _, addr in getaddresses([text or ""]) if addr]


def _domain(sender: str) -> str | None:
    addrs = _addresses(sender)
    return addrs[0].rpartition("@")[2] or None if addrs and "@" in addrs[0] else None


def _claim(con: sqlite3.Connection, message: Message, channel: str, status: str, message_id: str
           ) -> tuple[str, ...]:
    """Insert (or, for a failed earlier try, re-open) one log row per invoice; the invoices claimed."""
    claimed = []
    now = opstore.now_utc()
    con.execute("BEGIN IMMEDIATE")  # one writer at a time: the check and the insert are atomic
    try:
        for inv in message.invoice_nos:
            row = con.execute(
                "SELECT status FROM dunning_log WHERE invoice_no = ? AND stage = ? AND channel = ?",
                (inv, message.stage.key, channel),
            ).fetchone()
            if row is None:
                try:
                    con.execute(
                        "INSERT INTO dunning_log (invoice_no, customer_id, stage, channel, recipient,"
                        " message_id, status, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (inv, message.customer_id, message.stage.key, channel, message.recipient,
                         message_id, status, now),
                    )
                except sqlite3.IntegrityError:
                    continue  # another sender claimed it first: the constraint is the last word
                claimed.append(inv)
            elif row[0] == "failed" and channel == EMAIL:
                con.execute(
                    "UPDATE dunning_log SET status = ?, recipient = ?, message_id = ?, sent_at = ?"
                    " WHERE invoice_no = ? AND stage = ? AND channel = ? AND status = 'failed'",
                    (status, message.recipient, message_id, now, inv, message.stage.key, channel),
                )
                claimed.append(inv)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return tuple(claimed)


def _finish(con: sqlite3.Connection, message: Message, invoices, channel: str, status: str) -> None:
    con.executemany(
        "UPDATE dunning_log SET status = ?, sent_at = ? WHERE invoice_no = ? AND stage = ? AND channel = ?",
        [(status, opstore.now_utc(), inv, message.stage.key, channel) for inv in invoices],
    )


def _write_eml(folder: Path, message: Message, email: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{message.as_of:%Y%m%d}_{safe_filename(message.customer_id)}_{message.stage.key}.eml"
    tmp = path.with_suffix(".eml.tmp")
    tmp.write_bytes(email.as_bytes())
    tmp.replace(path)  # a reader never sees half a file
    return path


def send_messages(
    messages: list[Message], smtp: SmtpConfig, ops_path: str | Path, dry_run_dir: Path | None = None
) -> list[SendResult]:
    """Send each message once per invoice and stage, logging every attempt in `dunning_log`.

    With `dry_run_dir`, nothing is sent: each message is written there as an .eml file and logged
    with channel and status `dry_run` (a dry run never blocks the real send later).
    """
    senders = _addresses(smtp.sender)
    if not senders:
        raise ValueError(f"SMTP sender address is missing or invalid: {smtp.sender!r} (HUIKUAN_SMTP_FROM)")
    envelope_from = senders[0]
    domain = envelope_from.rpartition("@")[2] or None
    results: list[SendResult] = []
    server: smtplib.SMTP | None = None
    connect_error: str | None = None
    with closing(opstore.connect(ops_path)) as con:
        try:
            for message in messages:
                message_id = make_msgid(domain=domain)
                if dry_run_dir is not None:
                    # Previews are rewritten every time; the log keeps the first dry run per invoice.
                    email = message.to_email(smtp.sender, message_id, smtp.reply_to)
                    path = _write_eml(Path(dry_run_dir), message, email)
                    _claim(con, message, DRY_RUN, DRY_RUN, message_id)
                    results.append(SendResult(message.customer_id, message.stage.key, message.invoice_nos,
                                              message.recipient, DRY_RUN, message_id, None, path))
                    continue

                claimed = _claim(con, message, EMAIL, "pending", message_id)
                if not claimed:
                    results.append(SendResult(message.customer_id, message.stage.key, message.invoice_nos,
                                              message.recipient, "skipped", None,
                                              "already sent or pending for every invoice"))
                    continue

                def fail(error: str, message=message, claimed=claimed, message_id=message_id) -> None:
                    _finish(con, message, claimed, EMAIL, "failed")
                    log.warning("dunning %s/%s to %s failed: %s", message.customer_id, message.stage.key,
                                message.recipient, error)
                    results.append(SendResult(message.customer_id, message.stage.key, claimed,
                                              message.recipient, "failed", message_id, error))

                # Everything that can go wrong before the hand-over to SMTP marks the claim failed, so
                # no row is left pending by an ordinary error (only a crash can leave one).
                try:
                    if claimed != message.invoice_nos:
                        message = message.restricted_to(claimed)
                    to = _addresses(message.recipient)
                    email = message.to_email(smtp.sender, message_id, smtp.reply_to) if to else None
                except Exception as exc:  # noqa: BLE001 - recorded as failed, retried next run
                    fail(f"cannot build the message: {type(exc).__name__}: {exc}")
                    continue
                if email is None:
                    fail("no recipient address")
                    continue
                if connect_error is not None:
                    fail(connect_error)  # don't wait for the same timeout once per message
                    continue
                try:
                    if server is None:
                        server = open_smtp(smtp)
                except (OSError, smtplib.SMTPException) as exc:
                    where = f"{smtp.host}:{smtp.port}"
                    connect_error = f"cannot connect to SMTP {where}: {type(exc).__name__}: {exc}"
                    fail(connect_error)
                    continue
                try:
                    refused = server.send_message(email, from_addr=envelope_from, to_addrs=to)
                except (OSError, smtplib.SMTPException) as exc:
                    fail(f"{type(exc).__name__}: {exc}")
                    # The session may be broken: reconnect for the next message.
                    try:
                        server.close()
                    finally:
                        server = None
                    continue
                _finish(con, message, claimed, EMAIL, "sent")
                if refused:
                    log.warning("dunning %s/%s: some recipients refused: %s", message.customer_id,
                                message.stage.key, refused)
                log.info("dunning %s/%s sent to %s (%s)", message.customer_id, message.stage.key,
                         message.recipient, ", ".join(claimed))
                results.append(SendResult(message.customer_id, message.stage.key, claimed,
                                          message.recipient, "sent", message_id))
        finally:
            if server is not None:
                try:
                    server.quit()
                except (OSError, smtplib.SMTPException):
                    server.close()
    return results


def resolve_pending(ops_path: str | Path, *, invoice_no: str, stage: str, sent: bool) -> int:
    """Settle a `pending` row left by a crash: `sent=True` marks it sent, False lets the next run retry."""
    with closing(opstore.connect(ops_path)) as con:
        cur = con.execute(
            "UPDATE dunning_log SET status = ?, sent_at = ? WHERE invoice_no = ? AND stage = ?"
            " AND channel = ? AND status = 'pending'",
            ("sent" if sent else "failed", opstore.now_utc(), invoice_no, stage, EMAIL),
        )
        return cur.rowcount


def notify_failure(subject: str, body: str, smtp: SmtpConfig, recipients: list[str]) -> bool:
    """Email a run-failure notice; logs and returns False if it cannot be delivered. Never raises."""
    try:
        to = [a for r in recipients for a in _addresses(r)]
        if not to:
            log.warning("failure notice not emailed: no recipients (%s)", subject)
            return False
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = smtp.sender
        msg["To"] = ", ".join(to)
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain=_domain(smtp.sender))
        msg.set_content(body)
        server = open_smtp(smtp)
        try:
            server.send_message(msg, from_addr=_addresses(smtp.sender)[0], to_addrs=to)
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
        return True
    except Exception as exc:  # noqa: BLE001 - a notice about a failure must not fail in turn
        log.warning("failure notice %r not emailed via %s:%s: %s", subject, smtp.host, smtp.port, exc)
        return False
