"""Chinese and English UI text and locale-aware number and date formatting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

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
    "login": {"zh": "登录", "en": "Sign in"},
    "login_button": {"zh": "登录", "en": "Sign in"},
    "logout": {"zh": "退出登录", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误。", "en": "Wrong username or password."},
    "login_hint": {
        "zh": "用户保存在 {path}；用 python -m dashboards.auth add 添加用户。",
        "en": "Users live in {path}; add one with python -m dashboards.auth add.",
    },
    "please_log_in": {"zh": "请先登录。", "en": "Please sign in."},
    "role_cfo": {"zh": "财务总监", "en": "CFO"},
    "role_finance": {"zh": "财务", "en": "Finance"},
    "role_collector": {"zh": "催收专员", "en": "Collector"},
    "role_sales": {"zh": "销售", "en": "Sales"},
    "role_analyst": {"zh": "分析师", "en": "Analyst"},
    "page_overview": {"zh": "总览", "en": "Overview"},
    "page_worklist": {"zh": "催收工作台", "en": "Collections worklist"},
    "page_forecast": {"zh": "现金预测", "en": "Cash forecast"},
    "page_customers": {"zh": "客户与信用", "en": "Customers & credit"},
    "page_projects": {"zh": "项目回款", "en": "Projects"},
    "page_reconciliation": {"zh": "银行对账", "en": "Reconciliation"},
    "page_models": {"zh": "预测模型", "en": "Models"},
    "not_available_pipeline": {
        "zh": "此页面的数据尚未生成——请运行数据管道（huikuan run）。",
        "en": "Not available yet — run the pipeline (huikuan run).",
    },
    "not_available_reconciliation": {
        "zh": "尚无对账结果——请运行银行对账（huikuan reconcile）后再发布。",
        "en": "Not available yet — run the reconciliation (huikuan reconcile), then publish.",
    },
    "not_available_models": {
        "zh": "尚无模型结果——请训练并运行预测模型后再发布。",
        "en": "Not available yet — train and run the models, then publish.",
    },
    "missing_tables": {"zh": "缺少：{tables}", "en": "Missing: {tables}"},
    "no_rows": {"zh": "没有符合条件的数据。", "en": "No rows match."},
    "today": {"zh": "最新", "en": "Latest"},
    "group_by": {"zh": "分组", "en": "Group by"},
    "group_customer": {"zh": "客户", "en": "Customer"},
    "group_project": {"zh": "项目", "en": "Project"},
    "group_region": {"zh": "区域", "en": "Region"},
    "group_salesperson": {"zh": "销售员", "en": "Salesperson"},
    "by_group": {"zh": "按{group}的账龄结构", "en": "Aging by {group}"},
    "drill_down": {"zh": "明细：未清发票", "en": "Drill-down: open invoices"},
    "all": {"zh": "全部", "en": "All"},
    "invoice_no": {"zh": "发票号", "en": "Invoice"},
    "project": {"zh": "项目", "en": "Project"},
    "region": {"zh": "区域", "en": "Region"},
    "salesperson": {"zh": "销售员", "en": "Salesperson"},
    "age_days": {"zh": "账龄（天）", "en": "Age (days)"},
    "currency": {"zh": "币种", "en": "Currency"},
    "open_amount_doc": {"zh": "未清金额（原币）", "en": "Open (document ccy)"},
    "open_amount_rpt": {"zh": "未清金额（报告货币）", "en": "Open (reporting ccy)"},
    "download_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "download_xlsx": {"zh": "导出 Excel", "en": "Export XLSX"},
    "rows_shown": {"zh": "显示 {n} 行（共 {total} 行）", "en": "Showing {n} of {total} rows"},
    "scope_own": {"zh": "仅显示销售员 {sp} 的客户", "en": "Only salesperson {sp}'s customers"},
    "of_total": {"zh": "占应收", "en": "of AR"},
    "dso_countback": {"zh": "DSO（倒推法）", "en": "DSO (countback)"},
    "dso_help": {"zh": "用期末应收倒推覆盖的销售月份天数。", "en": "Days of recent sales the ending AR covers, newest month first."},
    "bpdso": {"zh": "最佳 DSO", "en": "Best possible DSO"},
    "bpdso_help": {"zh": "只计未到期应收的倒推 DSO。", "en": "Countback DSO on not-yet-due AR only."},
    "add": {"zh": "平均逾期天数", "en": "Avg days delinquent"},
    "add_help": {"zh": "DSO − 最佳 DSO。", "en": "DSO − best possible DSO."},
    "cei": {"zh": "回款效率指数", "en": "CEI"},
    "cei_help": {"zh": "可回收金额中实际回收的比例。", "en": "Share of collectible receivables actually collected."},
    "vs_target": {"zh": "目标 {target}", "en": "target {target}"},
    "days": {"zh": "天", "en": "Days"},
    "collected": {"zh": "回款", "en": "Collected"},
    "collected_month": {"zh": "{month}回款", "en": "Collected in {month}"},
    "forecast_month": {"zh": "同期预测回款", "en": "Forecast for that month"},
    "no_forecast": {"zh": "暂无预测", "en": "no forecast"},
    "trends_24m": {"zh": "近24个月趋势", "en": "24-month trends"},
    "alerts": {"zh": "预警", "en": "Alerts"},
    "no_alerts": {"zh": "当前没有信用预警。", "en": "No credit alerts."},
    "alert": {"zh": "预警", "en": "Alert"},
    "alert_utilization": {"zh": "额度使用≥90%", "en": "Limit used ≥ 90%"},
    "alert_consecutive": {"zh": "连续3次逾期", "en": "3 late payments in a row"},
    "alert_downgrade": {"zh": "评级下调", "en": "Rating downgraded"},
    "rating": {"zh": "信用评级", "en": "Rating"},
    "limit_utilization": {"zh": "额度使用率", "en": "Limit used"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "dunning_stage": {"zh": "催收阶段", "en": "Dunning stage"},
    "stage_pre_reminder": {"zh": "到期前提醒", "en": "Pre-reminder"},
    "stage_not_due": {"zh": "未到期", "en": "Not due"},
    "stage_stage_1": {"zh": "一阶段（电话）", "en": "Stage 1 (call)"},
    "stage_stage_2": {"zh": "二阶段（正式函）", "en": "Stage 2 (formal email)"},
    "stage_stage_3": {"zh": "三阶段（律师函）", "en": "Stage 3 (demand letter)"},
    "promise_state": {"zh": "承诺付款", "en": "Promise to pay"},
    "promise_none": {"zh": "无", "en": "None"},
    "promise_open": {"zh": "已承诺", "en": "Promised"},
    "promise_kept": {"zh": "已兑现", "en": "Kept"},
    "promise_broken": {"zh": "已违约", "en": "Broken"},
    "min_days_overdue": {"zh": "最少逾期天数", "en": "Min. days overdue"},
    "worklist_items": {"zh": "待办笔数", "en": "Items"},
    "worklist_open": {"zh": "待收金额", "en": "Open amount"},
    "worklist_expected_loss": {"zh": "预期损失", "en": "Expected loss"},
    "rank": {"zh": "优先级", "en": "Rank"},
    "next_action": {"zh": "下一步", "en": "Next action"},
    "days_overdue": {"zh": "逾期天数", "en": "Days overdue"},
    "predicted_pay_date": {"zh": "预计付款日", "en": "Predicted pay date"},
    "risk": {"zh": "违约概率", "en": "Default risk"},
    "expected_loss": {"zh": "预期损失", "en": "Expected loss"},
    "owner": {"zh": "负责人", "en": "Owner"},
    "record_action": {"zh": "记录催收动作", "en": "Record an action"},
    "read_only_role": {"zh": "您的角色只能查看，不能记录动作。", "en": "Your role can read but not record actions."},
    "promise": {"zh": "承诺付款", "en": "Promise to pay"},
    "dispute": {"zh": "争议", "en": "Dispute"},
    "note": {"zh": "备注", "en": "Note"},
    "contact": {"zh": "联系记录", "en": "Contact"},
    "promised_date": {"zh": "承诺付款日", "en": "Promised date"},
    "promised_amount": {"zh": "承诺金额", "en": "Promised amount"},
    "save_promise": {"zh": "保存承诺", "en": "Save promise"},
    "dispute_reason": {"zh": "争议原因", "en": "Reason for the dispute"},
    "save_dispute": {"zh": "登记争议", "en": "Record dispute"},
    "save_note": {"zh": "保存备注", "en": "Save note"},
    "channel": {"zh": "方式", "en": "Channel"},
    "channel_phone": {"zh": "电话", "en": "Phone"},
    "channel_email": {"zh": "邮件", "en": "Email"},
    "channel_wechat": {"zh": "微信", "en": "WeChat"},
    "channel_visit": {"zh": "拜访", "en": "Visit"},
    "channel_letter": {"zh": "函件", "en": "Letter"},
    "contact_summary": {"zh": "沟通内容", "en": "What was said"},
    "save_contact": {"zh": "保存联系记录", "en": "Save contact"},
    "text_required": {"zh": "请填写内容。", "en": "Please enter some text."},
    "action_saved": {"zh": "已保存（记录人 {user}）。", "en": "Saved (recorded by {user})."},
    "history": {"zh": "历史记录", "en": "History"},
    "recorded_at": {"zh": "时间", "en": "When"},
    "recorded_by": {"zh": "记录人", "en": "By"},
    "kind": {"zh": "类型", "en": "Kind"},
    "customer_detail": {"zh": "客户详情", "en": "Customer detail"},
    "choose_customer": {"zh": "（选择客户查看详情）", "en": "(choose a customer for details)"},
    "customer_not_found": {"zh": "找不到客户 {customer}，或您无权查看。", "en": "Customer {customer} not found or not yours to see."},
    "customers_count": {"zh": "客户数", "en": "Customers"},
    "customers_alerts": {"zh": "有预警的客户", "en": "Customers with alerts"},
    "rating_distribution": {"zh": "评级分布（应收余额）", "en": "Rating distribution (open AR)"},
    "weighted_days_late": {"zh": "加权逾期天数", "en": "Weighted days late"},
    "late_share": {"zh": "逾期比例", "en": "Late share"},
    "consecutive_late": {"zh": "连续逾期次数", "en": "Consecutive lates"},
    "credit_limit": {"zh": "信用额度", "en": "Credit limit"},
    "payment_terms": {"zh": "账期", "en": "Payment terms"},
    "avg_days_late": {"zh": "平均逾期天数（已付）", "en": "Avg days late (paid)"},
    "invoices": {"zh": "发票", "en": "Invoices"},
    "payments": {"zh": "收款", "en": "Payments"},
    "predictions": {"zh": "预测", "en": "Predictions"},
    "notes": {"zh": "备注", "en": "Notes"},
    "billed": {"zh": "开票", "en": "Billed"},
    "issue_date": {"zh": "开票日", "en": "Issued"},
    "due_date": {"zh": "到期日", "en": "Due"},
    "gross_amount": {"zh": "含税金额（原币）", "en": "Gross (document ccy)"},
    "gross_amount_rpt": {"zh": "含税金额（报告货币）", "en": "Gross (reporting ccy)"},
    "paid": {"zh": "已付", "en": "Paid"},
    "settled_date": {"zh": "结清日", "en": "Settled"},
    "days_late": {"zh": "逾期天数", "en": "Days late"},
    "status": {"zh": "状态", "en": "Status"},
    "disputed": {"zh": "争议中", "en": "Disputed"},
    "no_payments": {"zh": "尚无对账后的收款记录。", "en": "No reconciled receipts yet."},
    "booking_date": {"zh": "入账日", "en": "Booked"},
    "bank_ref": {"zh": "银行流水号", "en": "Bank reference"},
    "rule": {"zh": "匹配规则", "en": "Rule"},
    "confidence": {"zh": "置信度", "en": "Confidence"},
    "p_late": {"zh": "逾期概率", "en": "P(late)"},
    "model_version": {"zh": "模型版本", "en": "Model version"},
    "contract_value": {"zh": "合同额", "en": "Contract value"},
    "unbilled_due": {"zh": "应开未开", "en": "Unbilled due"},
    "retention_held": {"zh": "质保金", "en": "Retention held"},
    "collection_rate": {"zh": "回款率", "en": "Collection rate"},
    "projects_top": {"zh": "合同额最大的项目", "en": "Largest projects"},
    "project_name": {"zh": "项目名称", "en": "Project name"},
    "forecast_company_only": {"zh": "现金预测为公司层面数据，销售角色不可见。", "en": "The cash forecast is a company-wide figure, not shown to sales users."},
    "expected": {"zh": "预计回款", "en": "Expected"},
    "interval_low": {"zh": "区间下限（80%）", "en": "Low (80%)"},
    "interval_high": {"zh": "区间上限（80%）", "en": "High (80%)"},
    "actual": {"zh": "实际回款", "en": "Actual"},
    "forecast_13w": {"zh": "未来13周", "en": "Next 13 weeks"},
    "forecast_12m": {"zh": "未来12个月", "en": "Next 12 months"},
    "expected_total": {"zh": "预计合计", "en": "Expected total"},
    "interval_total": {"zh": "80%区间", "en": "80% interval"},
    "table": {"zh": "明细表", "en": "Table"},
    "period_start": {"zh": "期间开始", "en": "From"},
    "period_end": {"zh": "期间结束", "en": "To"},
    "backtest_accuracy": {"zh": "回测准确度", "en": "Backtest accuracy"},
    "wape_help": {"zh": "WAPE：加权绝对百分比误差，越低越好；与朴素基准对比。", "en": "WAPE: weighted absolute percentage error, lower is better; beside naive baselines."},
    "metric": {"zh": "指标", "en": "Metric"},
    "backtest_metrics": {"zh": "回测指标", "en": "Backtest metrics"},
    "baselines_help": {"zh": "基准：按到期日付款、客户历史中位延迟、全局中位延迟。", "en": "Baselines: pay on due date, customer's median delay, global median delay."},
    "calibration": {"zh": "概率校准", "en": "Calibration"},
    "predicted_prob": {"zh": "预测概率", "en": "Predicted probability"},
    "observed_freq": {"zh": "实际频率", "en": "Observed frequency"},
    "drift": {"zh": "特征漂移", "en": "Feature drift"},
    "feature": {"zh": "特征", "en": "Feature"},
    "psi_help": {"zh": "PSI > 0.25 表示显著漂移。", "en": "PSI above 0.25 means a significant shift."},
    "auto_rate": {"zh": "自动匹配率", "en": "Auto-match rate"},
    "auto_lines": {"zh": "自动匹配", "en": "Auto-matched"},
    "manual_lines": {"zh": "人工确认", "en": "Decided by a person"},
    "review_lines": {"zh": "待复核", "en": "To review"},
    "decisions_next_run": {"zh": "您的决定保存在操作库中，下次运行管道时生效。", "en": "Your decisions are stored in the operational store and take effect on the next pipeline run."},
    "reason_proposed": {"zh": "有建议待确认", "en": "Proposal to confirm"},
    "reason_no_candidate": {"zh": "无匹配候选", "en": "No candidate"},
    "reason_no_open_items_in_currency": {"zh": "该币种无未清发票", "en": "No open items in this currency"},
    "reason_rejected": {"zh": "建议均被拒绝", "en": "All proposals rejected"},
    "payer": {"zh": "付款方", "en": "Payer"},
    "reason": {"zh": "原因", "en": "Reason"},
    "receipt": {"zh": "收款", "en": "Receipt"},
    "suggestions": {"zh": "匹配建议", "en": "Suggestions"},
    "no_suggestions": {"zh": "没有匹配建议。", "en": "No suggestions."},
    "suggestion": {"zh": "建议", "en": "Suggestion"},
    "customer_id": {"zh": "客户编号", "en": "Customer ID"},
    "accept": {"zh": "接受", "en": "Accept"},
    "reject": {"zh": "拒绝", "en": "Reject"},
    "reject_all": {"zh": "拒绝全部建议", "en": "Reject all suggestions"},
    "split": {"zh": "拆分", "en": "Split"},
    "split_help": {"zh": "将这笔收款分配到多张发票，合计不超过 {amount}。", "en": "Apply this receipt to several invoices; the parts may not exceed {amount}."},
    "save_split": {"zh": "保存拆分", "en": "Save split"},
    "not_receivable": {"zh": "非客户回款", "en": "Not a receipt"},
    "mark_not_receivable": {"zh": "标记为非客户回款", "en": "Mark as not a customer payment"},
    "recon_company_only": {"zh": "银行对账涉及全公司收款，销售角色不可见。", "en": "Reconciliation covers company-wide receipts and is not shown to sales users."},
    "totals_reconcile": {"zh": "各区间合计等于应收余额", "en": "Buckets sum to total AR"},
}


def t(key: str, lang: str, **fmt) -> str:
    """The text for `key` in `lang` (falls back to English, then to the key itself)."""
    entry = TEXT.get(key, {})
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**fmt) if fmt else text


def format_amount(value, lang: str, currency: str = "CNY") -> str:
    """Amounts as finance people read them: 万/亿 in Chinese, thousands separators in English."""
    if value is None or pd.isna(value):
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
    return "—" if value is None or pd.isna(value) else f"{float(value) * 100:.1f}%"


def format_date(value, lang: str, month_only: bool = False) -> str:
    """A date as people write it: 2026年6月30日 / 30 Jun 2026 (or just the month)."""
    if value is None or (not isinstance(value, date) and pd.isna(value)):
        return "—"
    value = pd.Timestamp(value).date() if not isinstance(value, date) else value
    if month_only:
        return f"{value.year}年{value.month}月" if lang == "zh" else value.strftime("%b %Y")
    return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else value.strftime("%d %b %Y")


def format_days(value, lang: str) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.1f} 天" if lang == "zh" else f"{float(value):,.1f} days"
