"""Chinese and English UI text and locale-aware number and date formatting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

LANGUAGES = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "回款 · 应收账款", "en": "Huikuan · Receivables"},
    "language": {"zh": "语言", "en": "Language"},
    "page_aging": {"zh": "账龄分析", "en": "Aging"},
    "aging_title": {"zh": "应收账款账龄", "en": "Receivables aging"},
    "as_of": {"zh": "截至日期", "en": "As of"},
    "basis": {"zh": "账龄口径", "en": "Basis"},
    "basis_due_date": {"zh": "按到期日", "en": "By due date"},
    "basis_invoice_date": {"zh": "按开票日", "en": "By invoice date"},
    "total_ar": {"zh": "应收余额", "en": "Total AR"},
    "overdue_ar": {"zh": "逾期金额", "en": "Overdue AR"},
    "overdue_share": {"zh": "逾期占比", "en": "Overdue share"},
    "open_invoices": {"zh": "未清发票", "en": "Open invoices"},
    "bucket": {"zh": "账龄区间", "en": "Age bucket"},
    "amount": {"zh": "金额", "en": "Amount"},
    "share": {"zh": "占比", "en": "Share"},
    "count": {"zh": "发票数", "en": "Invoices"},
    "by_bucket": {"zh": "按账龄区间", "en": "By age bucket"},
    "top_customers": {"zh": "逾期最多的客户", "en": "Customers with most overdue"},
    "customer": {"zh": "客户", "en": "Customer"},
    "reporting_currency_note": {
        "zh": "金额以报告货币 {ccy} 列示；外币按截至日汇率折算。",
        "en": "Amounts in reporting currency {ccy}; foreign currency at the as-of date's rate.",
    },
    "no_snapshot": {
        "zh": "尚无已发布的数据。请先运行数据管道（huikuan run）。",
        "en": "Nothing has been published yet. Run the pipeline first (huikuan run).",
    },
    "snapshot": {"zh": "数据快照", "en": "Data snapshot"},
    "totals_reconcile": {"zh": "各区间合计等于应收余额", "en": "Buckets sum to total AR"},
}


def t(key: str, lang: str, **fmt) -> str:
    """The text for `key` in `lang` (falls back to English, then to the key itself)."""
    entry = TEXT.get(key, {})
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**fmt) if fmt else text


def format_amount(value, lang: str, currency: str = "CNY") -> str:
    """Amounts as finance people read them: 万/亿 in Chinese, thousands separators in English."""
    if value is None:
        return "—"
    v = float(value) if isinstance(value, Decimal) else float(value)
    if lang == "zh":
        if abs(v) >= 1e8:
            return f"{v / 1e8:,.2f} 亿元" if currency == "CNY" else f"{v / 1e8:,.2f} 亿 {currency}"
        if abs(v) >= 1e4:
            return f"{v / 1e4:,.2f} 万元" if currency == "CNY" else f"{v / 1e4:,.2f} 万 {currency}"
        return f"{v:,.2f} 元" if currency == "CNY" else f"{v:,.2f} {currency}"
    return f"{currency} {v:,.0f}" if abs(v) >= 1000 else f"{currency} {v:,.2f}"


def format_pct(value, lang: str) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def format_date(value: date | None, lang: str) -> str:
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else value.strftime("%d %b %Y")
