"""Rendering of dunning emails: subject, HTML and plain-text bodies, and the statement attachments."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate
from functools import cache, lru_cache
from importlib import resources
from string import Template

from huikuan.dunning.policy import Stage

LANGUAGES = ("zh", "en")
CSV_MIME = ("text", "csv")
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ATTACHMENT_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class CompanyProfile:
    """The sending company: its name and the bank account customers pay into."""

    name: str = "Huikuan"
    account_name: str = ""
    bank_name: str = ""
    bank_account: str = ""
    swift: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "CompanyProfile":
        """From HUIKUAN_COMPANY_NAME, _ACCOUNT_NAME, _BANK_NAME, _BANK_ACCOUNT, _SWIFT."""
        env = os.environ if environ is None else environ
        get = lambda k, d="": (env.get(f"HUIKUAN_COMPANY_{k}") or d).strip()  # noqa: E731
        return cls(
            name=get("NAME", cls.name),
            account_name=get("ACCOUNT_NAME"),
            bank_name=get("BANK_NAME"),
            bank_account=get("BANK_ACCOUNT"),
            swift=get("SWIFT"),
        )

    @property
    def has_bank_details(self) -> bool:
        return bool(self.bank_account and self.bank_name)


@dataclass(frozen=True)
class InvoiceLine:
    """One open item as it appears in an email table or a statement."""

    invoice_no: str
    issue_date: date | None
    due_date: date
    days_overdue: int  # negative: days until the due date
    open_amount: Decimal
    currency: str
    project_id: str | None = None
    stage_key: str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


@dataclass(frozen=True)
class Message:
    """One reminder to one customer at one stage, covering that customer's invoices at that stage."""

    customer_id: str
    customer_name: str
    stage: Stage
    language: str
    as_of: date
    recipient: str | None
    recipient_source: str  # customer, salesperson, fallback, none
    invoices: tuple[InvoiceLine, ...]
    statement: tuple[InvoiceLine, ...]  # all the customer's open items, for the attachment
    company: CompanyProfile
    subject: str = ""
    text: str = ""
    html: str = ""
    attachments: tuple[Attachment, ...] = ()
    metadata: dict = field(default_factory=dict)

    @property
    def invoice_nos(self) -> tuple[str, ...]:
        return tuple(line.invoice_no for line in self.invoices)

    @property
    def totals(self) -> dict[str, Decimal]:
        return totals_by_currency(self.invoices)

    def restricted_to(self, invoice_nos) -> "Message":
        """The same message re-rendered for a subset of its invoices (others were sent meanwhile)."""
        keep = set(invoice_nos)
        lines = tuple(line for line in self.invoices if line.invoice_no in keep)
        if not lines:
            raise ValueError("a message needs at least one invoice")
        formats = tuple(self.metadata.get("attachment_formats", ATTACHMENT_FORMATS))
        return render(replace(self, invoices=lines), formats)

    def to_email(self, sender: str, message_id: str, reply_to: str | None = None) -> EmailMessage:
        """The MIME message: plain text with an HTML alternative, plus the statement attachments."""
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = sender
        msg["To"] = self.recipient or "undisclosed-recipients:;"
        if reply_to:
            msg["Reply-To"] = reply_to
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = message_id
        msg["Content-Language"] = "zh-CN" if self.language == "zh" else "en"
        msg["X-Huikuan-Customer"] = self.customer_id
        msg["X-Huikuan-Stage"] = self.stage.key
        msg["X-Huikuan-Invoices"] = ", ".join(self.invoice_nos)
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        for a in self.attachments:
            msg.add_attachment(a.content, maintype=a.maintype, subtype=a.subtype, filename=a.filename)
        return msg


def totals_by_currency(lines) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.open_amount
    return dict(sorted(totals.items()))


def format_amount(amount: Decimal, currency: str) -> str:
    """`CNY 1,234,567.89`: the ISO code rather than a symbol, since ¥ is both CNY and JPY."""
    return f"{currency} {Decimal(amount).quantize(Decimal('0.01')):,.2f}"


def format_totals(totals: dict[str, Decimal], sep: str = "; ") -> str:
    return sep.join(format_amount(v, k) for k, v in totals.items())


@cache
def _template(name: str) -> str:
    return resources.files("huikuan.dunning").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def wording(language: str) -> dict:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; supported: {LANGUAGES}")
    return json.loads(_template(f"{language}.json"))


def _stage_text(language: str, stage: Stage) -> dict:
    """Text for a stage: by its key if the template has one, else by its tone (stage order)."""
    stages = wording(language)["stages"]
    return stages.get(stage.key) or stages[stage.tone]


def safe_filename(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", text).strip("_") or "customer"


def _fmt_date(d: date | None) -> str:
    return d.isoformat() if d else ""


def _columns(language: str) -> list[tuple[str, str]]:
    labels = wording(language)["labels"]
    keys = ("invoice_no", "issue_date", "due_date", "days_overdue", "amount", "currency")
    return [(k, labels[k]) for k in keys]


def _row_values(line: InvoiceLine, language: str) -> list[str]:
    days = str(line.days_overdue) if line.days_overdue > 0 else wording(language)["labels"]["not_due"]
    amount = f"{line.open_amount.quantize(Decimal('0.01')):,.2f}"
    return [line.invoice_no, _fmt_date(line.issue_date), _fmt_date(line.due_date), days, amount,
            line.currency]


def _text_table(lines, language: str) -> str:
    header = [label for _, label in _columns(language)]
    rows = [_row_values(line, language) for line in lines]
    # East Asian characters take two columns in a fixed-width font; pad by display width.
    width = lambda s: sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)  # noqa: E731
    widths = [max(width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {3, 4}

    def fmt(row):
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - width(cell))
            cells.append(pad + cell if i in right else cell + pad)
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(r) for r in rows)])


def _html_rows(lines, language: str) -> str:
    out = []
    for line in lines:
        cells = []
        for i, value in enumerate(_row_values(line, language)):
            align = ' style="text-align: right;"' if i in (3, 4) else ""
            cells.append(f"<td{align}>{html.escape(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out)


def _bank_lines(company: CompanyProfile, language: str) -> list[str]:
    labels = wording(language)["labels"]
    if not company.has_bank_details:
        return [labels["bank_missing"]]
    pairs = [
        ("bank_account_name", company.account_name or company.name),
        ("bank_name", company.bank_name),
        ("bank_account", company.bank_account),
        ("bank_swift", company.swift),
    ]
    sep = "：" if language == "zh" else ": "  # full-width colon in Chinese text
    return [f"{labels[k]}{sep}{v}" for k, v in pairs if v]


def statement_csv(lines, language: str) -> bytes:
    """All open items as CSV in UTF-8 with a BOM, so Excel shows Chinese correctly on double-click."""
    labels = wording(language)["labels"]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([labels[k] for k in ("invoice_no", "project_id", "issue_date", "due_date",
                                    "days_overdue", "currency", "amount", "stage")])
    for line in lines:
        w.writerow([line.invoice_no, line.project_id or "", _fmt_date(line.issue_date),
                    _fmt_date(line.due_date), line.days_overdue, line.currency,
                    f"{line.open_amount.quantize(Decimal('0.01'))}", line.stage_key or ""])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def statement_xlsx(lines, language: str, title: str) -> bytes:
    """All open items as an Excel workbook: real dates and numbers, amounts with thousands separators."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    labels = wording(language)["labels"]
    wb = Workbook(write_only=True)  # streaming mode: several times faster to build and save
    ws = wb.create_sheet(labels["statement_title"])
    for col, w in zip("ABCDEFGH", (18, 14, 12, 12, 10, 8, 16, 14)):
        ws.column_dimensions[col].width = w
    bold = Font(bold=True)

    def cell(value, number_format=None, font=None):
        c = WriteOnlyCell(ws, value=value)
        if number_format:
            c.number_format = number_format
        if font:
            c.font = font
        return c

    ws.append([cell(title, font=bold)])
    ws.append([cell(labels[k], font=bold) for k in ("invoice_no", "project_id", "issue_date", "due_date",
                                                     "days_overdue", "currency", "amount", "stage")])
    for line in lines:
        ws.append([line.invoice_no, line.project_id or "", cell(line.issue_date, "yyyy-mm-dd"),
                   cell(line.due_date, "yyyy-mm-dd"), line.days_overdue, line.currency,
                   cell(float(line.open_amount), "#,##0.00"), line.stage_key or ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@lru_cache(maxsize=64)
def statement_attachments(
    statement: tuple[InvoiceLine, ...], language: str, stem: str, title: str, formats: tuple[str, ...]
) -> tuple[Attachment, ...]:
    """The statement files; cached because a customer at several stages gets the same statement."""
    out = []
    if "csv" in formats:
        out.append(Attachment(f"{stem}.csv", statement_csv(statement, language), *CSV_MIME))
    if "xlsx" in formats:
        out.append(Attachment(f"{stem}.xlsx", statement_xlsx(statement, language, title), *XLSX_MIME))
    return tuple(out)


def render(message: Message, formats: tuple[str, ...] = ATTACHMENT_FORMATS) -> Message:
    """Fill subject, bodies and attachments of `message` from its data and the language's templates."""
    unknown = set(formats) - set(ATTACHMENT_FORMATS)
    if unknown:
        raise ValueError(f"unknown attachment formats {sorted(unknown)}; known: {ATTACHMENT_FORMATS}")
    lang = message.language
    words = wording(lang)
    labels = words["labels"]
    text = _stage_text(lang, message.stage)
    values = {
        "company_name": message.company.name,
        "customer_name": message.customer_name,
        "count": str(len(message.invoices)),
        "total": format_totals(message.totals),
        "as_of": message.as_of.isoformat(),
    }
    fill = lambda s: Template(s).substitute(values)  # noqa: E731 - a missing name must fail loudly
    subject = fill(text["subject"])
    greeting, intro, closing = fill(words["greeting"]), fill(text["intro"]), fill(text["closing"])
    signature = fill(words["signature"])
    note = fill(labels["statement_note"]) if formats else ""
    bank = _bank_lines(message.company, lang)
    colon = "：" if lang == "zh" else ": "

    plain = Template(_template("email.txt")).substitute(
        greeting=greeting, intro=intro, table=_text_table(message.invoices, lang),
        total_line=labels["total"] + colon + format_totals(message.totals),
        bank_title_line=labels["bank_title"] + colon.rstrip(),
        bank_block="\n".join(bank), statement_note=note, closing=closing, signature=signature,
    )
    esc = html.escape
    body = Template(_template("email.html")).substitute(
        lang="zh-CN" if lang == "zh" else "en", subject=esc(subject), greeting=esc(greeting),
        intro=esc(intro),
        header_cells="".join(f"<th>{esc(label)}</th>" for _, label in _columns(lang)),
        rows=_html_rows(message.invoices, lang), total_label=esc(labels["total"]),
        totals_html="<br>".join(esc(format_amount(v, k)) for k, v in message.totals.items()),
        bank_title=esc(labels["bank_title"]), bank_html="<br>\n".join(esc(b) for b in bank),
        statement_note=esc(note), closing=esc(closing), signature=esc(signature),
    )
    stem = f"{labels['statement_title']}_{safe_filename(message.customer_id)}_{message.as_of:%Y%m%d}"
    title = f"{message.company.name} — {message.customer_name} — {message.as_of.isoformat()}"
    attachments = statement_attachments(tuple(message.statement), lang, stem, title, tuple(formats))
    metadata = {**message.metadata, "attachment_formats": list(formats)}
    return replace(message, subject=subject, text=re.sub(r"\n{3,}", "\n\n", plain), html=body,
                   attachments=attachments, metadata=metadata)
