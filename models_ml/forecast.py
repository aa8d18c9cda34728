"""Cash forecast: expected receipts per week (13) and per month (12), with intervals, and its backtest.

Open invoices at the as-of date contribute their predicted pay-date distribution: the model's
central days-late estimate plus the calibration residual quantiles, conditioned on the invoice
still being unpaid at its current age, times the probability it pays at all. That probability is
P(default) updated by Bayes for having survived so far:
P(default | unpaid at age a) = PD / (PD + (1 − PD) · S(a)), S(a) = P(pay later than a | pays).
Unbilled milestones contribute at their planned date shifted by the billing slip seen on milestones
billed before the as-of date, plus terms, the customer's typical delay and the same residual spread.

Intervals (80 %) treat each item's payment in a period as an independent Bernoulli draw (normal
approximation); the backtest reports how often actual receipts fell inside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml.features import default_holidays, feature_groups, point_in_time_features, validate_history
from models_ml.models import PaymentModel, predict

Z80 = 1.2816  # two-sided 80 % normal quantile
WEEKS, MONTHS = 13, 12
N_SAMPLES = 100


@dataclass
class Forecast:
    as_of: pd.Timestamp
    weekly: pd.DataFrame  # period, start, end, expected, lo, hi, from_invoices, from_milestones
    monthly: pd.DataFrame


def period_edges(as_of: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """Period boundaries after the as-of date: weeks of 7 days, or months to the same day of month."""
    a = pd.Timestamp(as_of).normalize()
    if freq == "W":
        return pd.DatetimeIndex([a + pd.Timedelta(days=7 * k) for k in range(WEEKS + 1)])
    if freq == "M":
        return pd.DatetimeIndex([a + pd.DateOffset(months=k) for k in range(MONTHS + 1)])
    raise ValueError(f"freq must be 'W' or 'M', not {freq!r}")


def next_business_day(days: np.ndarray, holidays: pd.DatetimeIndex | None = None) -> np.ndarray:
    """Move dates on weekends and public holidays to the next working day (banks book receipts then)."""
    d = np.asarray(days).astype("datetime64[D]")
    if d.size == 0:
        return d
    first, last = d.min(), d.max() + np.timedelta64(20, "D")
    span = np.arange(first, last + np.timedelta64(1, "D"))
    if holidays is None:
        years = range(int(str(first)[:4]), int(str(last)[:4]) + 1)
        holidays = default_holidays(years)
    off = (((span.astype(np.int64) + 3) % 7) >= 5) | np.isin(span, holidays.to_numpy().astype("datetime64[D]"))
    # index of the first working day at or after each calendar day
    idx = np.arange(len(span))
    nxt = np.where(off, len(span) - 1, idx)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    return span[nxt[(d - first).astype(np.int64)]]


def _bin_samples(pay_dates: np.ndarray, weights: np.ndarray, amounts: np.ndarray, edges: pd.DatetimeIndex):
    """Expected amount and Bernoulli variance per period for items with sampled pay dates.

    `pay_dates`: (items, samples) datetime64[D]; `weights`: (items, samples) probability mass.
    A payment on day d falls in period k when edges[k] < d <= edges[k+1].
    """
    e = edges.to_numpy().astype("datetime64[D]")
    k = np.searchsorted(e, pay_dates, side="left") - 1  # -1: on/before as-of, len(e)-1: after horizon
    n_items, n_per = k.shape[0], len(e) - 1
    inside = (k >= 0) & (k < n_per)
    # probability of paying in each period, per item: the sample weights summed by (item, period)
    cell = np.broadcast_to(np.arange(n_items)[:, None] * n_per, k.shape)[inside] + k[inside]
    prob = np.bincount(cell, weights=np.asarray(weights, dtype=float)[inside], minlength=n_items * n_per)
    prob = prob.reshape(n_items, n_per)
    amounts = np.asarray(amounts, dtype=float)
    return amounts @ prob, (amounts**2) @ (prob * (1 - prob))


def _residual_samples(model: PaymentModel) -> np.ndarray:
    """Equally likely residuals (days) from the calibration quantiles, for pay-date distributions."""
    grid = np.linspace(0, 1, len(model["residual_quantiles"]))
    mid = (np.arange(N_SAMPLES) + 0.5) / N_SAMPLES
    return np.interp(mid, grid, model["residual_quantiles"])


def open_invoices(history: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Invoices issued on or before the as-of date and neither settled nor written off by it."""
    a = pd.Timestamp(as_of)
    h = history
    open_ = (h["issue_date"] <= a) & (h["paid_date"].isna() | (h["paid_date"] > a))
    if "written_off_date" in h.columns:
        open_ &= ~(h["written_off_date"] <= a)
    return h[open_]


def open_invoice_features(history: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Features of the invoices open at `as_of` as scoring sees them: decided the day after, so
    everything dated up to `as_of` is known. Computed once, they serve scoring and explanations."""
    h = validate_history(history)
    a = pd.Timestamp(as_of).normalize()
    op = open_invoices(h, a)
    return point_in_time_features(h, pd.Series(a + pd.Timedelta(days=1), index=op.index))


SAMPLE_SLICE = 50_000  # items whose pay-date samples (items x N_SAMPLES matrices) are held at once
Receipts = dict[str, tuple[np.ndarray, np.ndarray]]  # per frequency: expected amount, variance per period


def _no_receipts(a: pd.Timestamp) -> Receipts:
    return {freq: (np.zeros(len(period_edges(a, freq)) - 1), np.zeros(len(period_edges(a, freq)) - 1))
            for freq in ("W", "M")}  # fmt: skip


def _add_receipts(total: Receipts, part: Receipts) -> None:
    """Add `part`'s expected amounts and variances to `total`'s, period by period (items are
    independent: both add)."""
    for freq, (expected, variance) in total.items():
        expected += part[freq][0]
        variance += part[freq][1]


def _add_samples(total: Receipts, pay_dates: np.ndarray, weights: np.ndarray, amounts: np.ndarray,
                 a: pd.Timestamp) -> None:  # fmt: skip
    """Bin one slice of items' sampled pay dates into every frequency's periods and add them to `total`."""
    _add_receipts(total, {freq: _bin_samples(pay_dates, weights, amounts, period_edges(a, freq)) for freq in total})


def _scored_rows(
    model: PaymentModel, op: pd.DataFrame, pred: pd.DataFrame, a: pd.Timestamp, model_version: str
) -> tuple[pd.DataFrame, Receipts]:
    """The scored frame of the open items `op` with predictions `pred`, and their expected receipts
    per period. Pay dates are sampled a slice of items at a time (`SAMPLE_SLICE`)."""
    r = _residual_samples(model)
    age = (a - op["issue_date"]).dt.days.to_numpy(dtype=float)
    central = pred["pred_days_to_pay"].to_numpy(dtype=float)
    pd_ = pred["p_default"].to_numpy(dtype=float)
    issue = op["issue_date"].to_numpy().astype("datetime64[D]")
    amounts = op["amount"].to_numpy(dtype=float)
    pd_cond = np.empty(len(op))
    median_days = np.empty(len(op))
    receipts = _no_receipts(a)
    for s in range(0, len(op), SAMPLE_SLICE):
        sl = slice(s, s + SAMPLE_SLICE)
        days = central[sl, None] + r[None, :]  # days from issue, per sample
        alive = days > age[sl, None]
        surv_floor = np.maximum(alive.mean(axis=1), 1.0 / (2 * N_SAMPLES))
        pd_cond[sl] = pd_[sl] / (pd_[sl] + (1 - pd_[sl]) * surv_floor)
        # items already later than every sampled pay day: spread over the next four weeks
        late_spread = age[sl, None] + 1 + np.linspace(0, 27, N_SAMPLES)[None, :]
        days = np.where(alive.any(axis=1)[:, None], days, late_spread)
        alive = days > age[sl, None]
        w = alive / alive.sum(axis=1, keepdims=True)
        # a sample alive at `as_of` pays on a later day: whole days rounded up, never back onto as_of
        pay_dates = next_business_day(issue[sl, None] + np.ceil(days).astype("timedelta64[D]"))
        median_days[sl] = np.nanmedian(np.where(alive, days, np.nan), axis=1)
        _add_samples(receipts, pay_dates, w * (1 - pd_cond[sl])[:, None], amounts[sl], a)
    out = pd.DataFrame(
        {
            "invoice_no": op["invoice_no"].to_numpy(),
            "customer_id": op["customer_id"].to_numpy(),
            "open_amount": amounts,
            "issue_date": op["issue_date"].to_numpy(),
            "due_date": op["due_date"].to_numpy(),
            "age_days": age,
            "p_late": pred["p_late"].to_numpy(),
            "p_default_at_issue": pd_,
            "p_default": pd_cond,
            "expected_pay_date": issue + np.ceil(median_days).astype("timedelta64[D]"),
            "pay_date_lo": issue + np.round(np.maximum(pred["interval_lo"].to_numpy(), age + 1)).astype("timedelta64[D]"),
            "pay_date_hi": issue + np.round(np.maximum(pred["interval_hi"].to_numpy(), age + 1)).astype("timedelta64[D]"),
            "model_version": model_version,
            "as_of": a,
        },
        index=op.index,
    )
    return out, receipts


def score_open_invoices(
    model: PaymentModel,
    history: pd.DataFrame,
    as_of: pd.Timestamp,
    model_version: str = "",
    *,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predictions for the invoices open at `as_of`, features refreshed at that date, conditioned on
    having stayed unpaid until then. Every row names the model version. `features`: the open items'
    `open_invoice_features`, when already computed.

    The frame's `attrs["receipts"]` holds the open items' expected receipts per period (weekly and
    monthly expected amount and variance), which `cash_forecast` adds to the milestones'."""
    h = validate_history(history)
    a = pd.Timestamp(as_of).normalize()
    op = open_invoices(h, a)
    if not len(op):
        out = pd.DataFrame(
            columns=["invoice_no", "p_default", "expected_pay_date", "model_version", "as_of"]
        )
        out.attrs["receipts"] = _no_receipts(a)
        return out
    feats = open_invoice_features(h, a) if features is None else features.loc[op.index]
    out, receipts = _scored_rows(model, op, predict(model, feats), a, model_version)
    out.attrs["receipts"] = receipts
    return out


def invoice_receipts(
    history: pd.DataFrame, models_at: dict[pd.Timestamp, PaymentModel], *, chunk_rows: int | None = None
) -> dict[pd.Timestamp, Receipts]:
    """Expected receipts per period from the invoices open at each as-of date, each scored by its
    model: what `score_open_invoices` puts in `attrs["receipts"]`, for many dates at once. The
    feature streams are built once per group of salespeople (`feature_groups`) and looked up at
    every date, not rebuilt per date."""
    h = validate_history(history)
    dates = {pd.Timestamp(a).normalize(): m for a, m in models_at.items()}
    total = {a: _no_receipts(a) for a in dates}
    for streams in feature_groups(h, chunk_rows=chunk_rows):
        for a, model in dates.items():
            op = open_invoices(streams.history, a)
            if not len(op):
                continue
            feats = streams.features(pd.Series(a + pd.Timedelta(days=1), index=op.index))
            _add_receipts(total[a], _scored_rows(model, op, predict(model, feats), a, "")[1])
    return total


def known_plan(plan: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame | None:
    """The payment plan as it stood at `as_of`: milestones of contracts signed by then.

    An extract taken later also lists the milestones of contracts signed after `as_of`; a forecast
    made at `as_of` cannot know them (a backtest that let it would leak the future). A plan without
    `signed_date` cannot be cut and is used whole: say so where its backtest is reported.
    """
    if plan is None or "signed_date" not in plan.columns:
        return plan
    signed = pd.to_datetime(plan["signed_date"])
    return plan[signed.isna() | (signed <= pd.Timestamp(as_of))]


NEW_BUSINESS_ORIGINS = 26  # past weekly as-of dates averaged per period for receipts from new contracts


def contract_signed_dates(history: pd.DataFrame, plan: pd.DataFrame | None) -> np.ndarray | None:
    """Per history row, the signing date of its milestone's contract (NaT when not in the plan);
    None without the plan's `signed_date` or the invoices' `milestone_id`."""
    if plan is None or "signed_date" not in plan.columns or "milestone_id" not in history.columns:
        return None
    signed_by_ms = pd.to_datetime(plan.set_index(plan["milestone_id"].astype(str))["signed_date"])
    signed_by_ms = signed_by_ms[~signed_by_ms.index.duplicated()]
    return history["milestone_id"].astype(str).map(signed_by_ms).to_numpy().astype("datetime64[D]")


def new_business_receipts(
    history: pd.DataFrame,
    plan: pd.DataFrame | None,
    as_of: pd.Timestamp,
    freq: str,
    signed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected receipts per period from contracts not yet signed at `as_of`, with their variance.

    Measured on the past: at weekly as-of dates a' before `as_of`, the receipts in the k-th period
    after a' from invoices of contracts signed after a'. For each period the latest
    `NEW_BUSINESS_ORIGINS` dates a' whose k-th period had ended by `as_of` are averaged (the mean
    is the estimate, their spread the variance). Needs the plan's `signed_date` and the invoices'
    `milestone_id`; zero without them (the plan then cannot be cut at `as_of` either). `signed`:
    `contract_signed_dates(history, plan)`, when already computed (it serves every as-of date).
    """
    a = pd.Timestamp(as_of).normalize()
    n_per = len(period_edges(a, freq)) - 1
    zero = np.zeros(n_per)
    signed = contract_signed_dates(history, plan) if signed is None else signed
    if signed is None:
        return zero, zero
    paid = history["paid_date"].to_numpy().astype("datetime64[D]")
    known = ~np.isnat(signed) & ~np.isnat(paid) & (paid <= np.datetime64(a.date()))
    signed, paid = signed[known], paid[known]
    amt = history["amount"].to_numpy(dtype=float)[known]
    first = np.datetime64(history["issue_date"].min().date())
    today = np.datetime64(a.date())
    taken = [[] for _ in range(n_per)]
    j = 0
    while min(len(t) for t in taken) < NEW_BUSINESS_ORIGINS:
        j += 1
        o = a - pd.Timedelta(days=7 * j)
        if np.datetime64(o.date()) < first:
            break  # receipts of contracts signed before the data starts are not in the history
        e = period_edges(o, freq).to_numpy().astype("datetime64[D]")
        new = signed > np.datetime64(o.date())
        idx = np.searchsorted(e, paid[new], side="left") - 1
        ok = (idx >= 0) & (idx < n_per)
        per = np.bincount(idx[ok], weights=amt[new][ok], minlength=n_per)[:n_per]
        for p in range(n_per):
            if e[p + 1] <= today and len(taken[p]) < NEW_BUSINESS_ORIGINS:
                taken[p].append(per[p])
    mean = np.array([np.mean(t) if t else 0.0 for t in taken])
    var = np.array([np.var(t) if t else 0.0 for t in taken])
    return mean, var


def _milestone_receipts(
    model: PaymentModel, history: pd.DataFrame, plan: pd.DataFrame | None, as_of: pd.Timestamp
) -> Receipts:
    """Expected receipts per period from milestones not yet billed at `as_of` (pay dates sampled a
    slice of milestones at a time)."""
    a = pd.Timestamp(as_of).normalize()
    receipts = _no_receipts(a)
    plan = known_plan(plan, a)
    if plan is None or not len(plan):
        return receipts
    unbilled = plan[plan["billed_date"].isna() | (plan["billed_date"] > a)]
    unbilled = unbilled[unbilled["planned_date"] <= a + pd.DateOffset(months=MONTHS)]
    billed = plan[plan["billed_date"].notna() & (plan["billed_date"] <= a)]
    if not len(unbilled):
        return receipts
    slip = (billed["billed_date"] - billed["planned_date"]).dt.days.to_numpy(dtype=float)
    if not len(slip):
        slip = np.array([0.0])
    mid = (np.arange(N_SAMPLES) + 0.5) / N_SAMPLES
    rng = np.random.default_rng(0)  # fixed: pairs slip and residual quantiles without correlation
    slip_s = np.quantile(slip, mid)
    resid_s = rng.permutation(_residual_samples(model))
    h = history[history["issue_date"] <= a]
    settled = h[h["paid_date"].notna() & (h["paid_date"] <= a)]
    late = (settled["paid_date"] - settled["due_date"]).dt.days
    cust_median = late.groupby(settled["customer_id"]).median()
    global_late = float(late.median()) if len(late) else model["median_days_late"]
    typical_terms = float((h["due_date"] - h["issue_date"]).dt.days.median()) if len(h) else 30.0
    terms = unbilled["terms_days"].fillna(typical_terms).to_numpy(dtype=float)
    cust_late = unbilled["customer_id"].map(cust_median).fillna(global_late).to_numpy(dtype=float)
    planned = unbilled["planned_date"].to_numpy().astype("datetime64[D]")
    overdue_days = (a - unbilled["planned_date"]).dt.days.to_numpy(dtype=float)
    amounts = unbilled["amount"].to_numpy(dtype=float)
    tomorrow = np.datetime64(a.date()) + np.timedelta64(1, "D")
    spread = np.linspace(0, 27, N_SAMPLES)[None, :]
    for s in range(0, len(unbilled), SAMPLE_SLICE):
        sl = slice(s, s + SAMPLE_SLICE)
        over = overdue_days[sl, None]
        # billing slip conditional on not yet billed: only slips beyond how late it already is
        bill_off = np.maximum(slip_s[None, :], over + 1 + spread * (slip_s[None, :] <= over))
        days = bill_off + terms[sl, None] + cust_late[sl, None] + resid_s[None, :]
        pay_dates = planned[sl, None] + np.round(days).astype("timedelta64[D]")
        pay_dates = next_business_day(np.maximum(pay_dates, tomorrow))
        w = np.full(days.shape, (1 - model["default_rate"]) / N_SAMPLES)
        _add_samples(receipts, pay_dates, w, amounts[sl], a)
    return receipts


def cash_forecast(
    model: PaymentModel,
    history: pd.DataFrame,
    plan: pd.DataFrame | None,
    as_of: pd.Timestamp,
    model_version: str = "",
    scored: pd.DataFrame | None = None,
) -> Forecast:
    """Expected receipts for the 13 weeks and 12 months after `as_of`, with 80 % intervals.
    `scored`: the open items `score_open_invoices` scored at `as_of`, when already done."""
    a = pd.Timestamp(as_of).normalize()
    scored = scored if scored is not None else score_open_invoices(model, history, a, model_version)
    if "receipts" not in scored.attrs:
        raise ValueError("cash_forecast: `scored` must be the frame score_open_invoices returned (it lacks "
                         "attrs['receipts'], the open items' receipts per period)")
    return _forecast(model, history, plan, a, scored.attrs["receipts"], model_version)


def _forecast(
    model: PaymentModel,
    history: pd.DataFrame,
    plan: pd.DataFrame | None,
    a: pd.Timestamp,
    from_invoices: Receipts,
    model_version: str = "",
    signed: np.ndarray | None = None,
) -> Forecast:
    """The forecast tables from the open items' receipts, plus the unbilled milestones' and those of
    contracts to come (`signed`: `contract_signed_dates`, when already computed)."""
    from_milestones = _milestone_receipts(model, history, plan, a)
    signed = contract_signed_dates(history, plan) if signed is None else signed
    tables = {}
    for freq in ("W", "M"):
        edges = period_edges(a, freq)
        e_i, v_i = from_invoices[freq]
        e_m, v_m = from_milestones[freq]
        e_n, v_n = new_business_receipts(history, plan, a, freq, signed)
        e_m, v_m = e_m + e_n, v_m + v_n  # milestones planned by then, and those of contracts to come
        expected = e_i + e_m
        # independent draws understate the spread (shared shocks, invoices not yet planned): the
        # registry stores a widening factor measured on the forecast backtest
        sd = np.sqrt(v_i + v_m) * float(model.get("forecast_interval_scale", {}).get(freq, 1.0))
        tables[freq] = pd.DataFrame(
            {
                "period": np.arange(1, len(edges)),
                "start": edges[:-1] + pd.Timedelta(days=1),
                "end": edges[1:],
                "expected": expected,
                "lo": np.maximum(expected - Z80 * sd, 0.0),
                "hi": expected + Z80 * sd,
                "from_invoices": e_i,
                "from_milestones": e_m,
                "model_version": model_version,
            }
        )
    return Forecast(a, tables["W"], tables["M"])


def actual_receipts(history: pd.DataFrame, edges: pd.DatetimeIndex) -> np.ndarray:
    """Receipts per period: invoice amounts settled inside each (start, end] window."""
    paid = history["paid_date"].dropna().to_numpy().astype("datetime64[D]")
    amt = history.loc[history["paid_date"].notna(), "amount"].to_numpy(dtype=float)
    e = edges.to_numpy().astype("datetime64[D]")
    k = np.searchsorted(e, paid, side="left") - 1
    return np.array([amt[k == p].sum() for p in range(len(e) - 1)])


def naive_forecasts(history: pd.DataFrame, plan: pd.DataFrame | None, as_of: pd.Timestamp, freq: str) -> dict[str, np.ndarray]:
    """The naive baselines: the average of the last 13 weeks' receipts, and the due-date schedule
    (open invoices on their due date, overdue ones in the first period; unbilled milestones at the
    planned date plus terms)."""
    a = pd.Timestamp(as_of).normalize()
    edges = period_edges(a, freq)
    past = history[history["paid_date"].notna() & (history["paid_date"] <= a) & (history["paid_date"] > a - pd.Timedelta(days=91))]
    per_day = float(past["amount"].sum()) / 91.0
    lengths = np.diff(edges.to_numpy().astype("datetime64[D]")).astype(float)
    run_rate = per_day * lengths
    op = open_invoices(history, a)
    due = op["due_date"].where(op["due_date"] > a, a + pd.Timedelta(days=1)).to_numpy().astype("datetime64[D]")
    dates, amts = [due], [op["amount"].to_numpy(dtype=float)]
    plan = known_plan(plan, a)
    if plan is not None and len(plan):
        ub = plan[plan["billed_date"].isna() | (plan["billed_date"] > a)]
        terms = ub["terms_days"].fillna(30).to_numpy(dtype=float)
        d = ub["planned_date"].to_numpy().astype("datetime64[D]") + terms.astype("timedelta64[D]")
        d = np.maximum(d, np.datetime64(a.date()) + np.timedelta64(1, "D"))
        dates.append(d)
        amts.append(ub["amount"].to_numpy(dtype=float))
    d_all, a_all = np.concatenate(dates), np.concatenate(amts)
    e = edges.to_numpy().astype("datetime64[D]")
    k = np.searchsorted(e, d_all, side="left") - 1
    schedule = np.array([a_all[k == p].sum() for p in range(len(e) - 1)])
    return {"naive_last_13_weeks": run_rate, "naive_due_date_schedule": schedule}


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error: Σ|actual − forecast| / Σ actual."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    total = actual.sum()
    return float(np.abs(actual - forecast).sum() / total) if total > 0 else float("nan")


def forecast_backtest(
    history: pd.DataFrame,
    plan: pd.DataFrame | None,
    models_by_origin: dict[pd.Timestamp, PaymentModel],
    observed_until: pd.Timestamp,
    *,
    step_days: int = 28,
    chunk_rows: int | None = None,
) -> dict:
    """Weekly and monthly WAPE of the forecast and of the naive baselines over as-of dates.

    For each model origin T (a model trained on what was known at T), forecasts are made at as-of
    dates T, T + step, ... before the next origin, as long as the whole horizon is observed.
    Returns WAPE per method and frequency, the 80 % interval coverage per period, and the counts.
    `chunk_rows`: `feature_groups`' group size (the figures do not depend on it).
    """
    h = validate_history(history)
    obs = pd.Timestamp(observed_until)
    origins = sorted(models_by_origin)
    models_at = {}  # as-of date -> the model of its origin, for dates with some horizon observed
    for i, origin in enumerate(origins):
        stop = origins[i + 1] if i + 1 < len(origins) else obs
        a = origin
        while a < stop:
            if period_edges(a, "W")[-1] <= obs:  # the weekly horizon is the shorter one
                models_at[a.normalize()] = models_by_origin[origin]
            a = a + pd.Timedelta(days=step_days)
    # the open items at every as-of date, the feature streams built once (not once per date)
    from_invoices = invoice_receipts(h, models_at, chunk_rows=chunk_rows)
    signed = contract_signed_dates(h, plan)
    rows = {"W": [], "M": []}
    for a, model in models_at.items():
        fc = _forecast(model, h, plan, a, from_invoices[a], signed=signed)  # one per date serves both frequencies
        for freq in ("W", "M"):
            edges = period_edges(a, freq)
            if edges[-1] > obs:
                continue
            table = fc.weekly if freq == "W" else fc.monthly
            actual = actual_receipts(h, edges)
            naive = naive_forecasts(h, plan, a, freq)
            rows[freq].append(
                {"as_of": a, "actual": actual, "model": table["expected"].to_numpy(),
                 "lo": table["lo"].to_numpy(), "hi": table["hi"].to_numpy(), **naive}
            )  # fmt: skip
    out: dict = {}
    for freq, label in (("W", "weekly"), ("M", "monthly")):
        r = rows[freq]
        if not r:
            out[label] = None
            continue
        actual = np.concatenate([x["actual"] for x in r])
        res = {"n_origins": len(r), "n_periods": len(actual)}
        for method in ("model", "naive_last_13_weeks", "naive_due_date_schedule"):
            fc = np.concatenate([x[method] for x in r])
            res[f"wape_{method}"] = round(wape(actual, fc), 4)
            res[f"bias_{method}"] = round(float((fc.sum() - actual.sum()) / actual.sum()), 4)
        lo = np.concatenate([x["lo"] for x in r])
        hi = np.concatenate([x["hi"] for x in r])
        res["interval_coverage"] = round(float(((actual >= lo) & (actual <= hi)).mean()), 4)
        # the factor that would have made the 80 % intervals cover 80 % of these periods
        expected = np.concatenate([x["model"] for x in r])
        sd = np.maximum((hi - expected) / Z80, 1e-9)
        res["interval_scale_for_80pct"] = round(float(np.quantile(np.abs(actual - expected) / sd, 0.8) / Z80), 3)
        res["wape_best_naive"] = min(res["wape_naive_last_13_weeks"], res["wape_naive_due_date_schedule"])
        out[label] = res
    return out
