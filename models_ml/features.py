"""Point-in-time features for invoice payment models: only what was known at each decision date.

Input is an invoice *history* frame (one row per receivable invoice, every invoice ever issued,
paid or open; see `HISTORY_COLUMNS`). For each row and its decision date (the issue date by
default, or a later scoring date for open items) the features describe:

- the customer's history from invoices SETTLED strictly before the decision date (count, mean and
  median days to pay and days late, late share, last delay, trend, invoices known to have gone 90+
  days past due), and the customer's position at that date (open balance, overdue items, credit
  utilisation, disputes raised so far, invoices issued so far);
- the salesperson's and project's history by the same rule;
- the invoice itself (amount, terms, type, milestone type, months, Chinese holidays and Spring
  Festival in the payment window) and static master attributes (customer type, region, industry).

The rule is enforced by construction: every history statistic is an as-of lookup
(`pandas.merge_asof`, strictly earlier event times) into event streams whose event time is the
moment the fact became known (a payment on its paid date, an item turning overdue on its due date).
`tests/ml/test_features.py` proves it by perturbing every future outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from huikuan.settings import SEEDS_DIR

# Columns of the history frame. Required: the first six. The rest are used when present.
REQUIRED_COLUMNS = ("invoice_no", "customer_id", "issue_date", "due_date", "amount", "paid_date")
OPTIONAL_COLUMNS = (
    "invoice_type",  # standard / debit_note (credit notes are not receivables)
    "project_id",
    "salesperson_id",
    "milestone_type",
    "currency",
    "first_dispute_date",  # first time this invoice was disputed (invoice_events)
    "written_off_date",  # not a feature: from this date the item is no longer receivable (not scored)
    "entry_date",  # when the invoice was entered, if later than issue (public dataset)
    "customer_type",
    "region",
    "industry",
    "credit_limit",
    "customer_terms_days",
    "project_contract_value",
    "project_start_date",
    "salesperson_team",
)
HISTORY_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_EPOCH = pd.Timestamp("1970-01-01")
DEFAULT_AFTER_DUE_DAYS = 90  # "default" = still unpaid this many days after the due date

# Spring Festival (Chinese New Year's day). Payments stall for about two weeks around it.
SPRING_FESTIVAL = pd.to_datetime(
    [
        "2008-02-07", "2009-01-26", "2010-02-14", "2011-02-03", "2012-01-23", "2013-02-10",
        "2014-01-31", "2015-02-19", "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05",
        "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29",
        "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23",
        "2032-02-11", "2033-01-31", "2034-02-19", "2035-02-08",
    ]
)  # fmt: skip

# Milestone types whose share among a customer's settled invoices is a feature (`progress`, the
# most common, is the reference). The contract's values (huikuan.contracts.MILESTONE_TYPES).
SETTLED_MILESTONE_SHARES = ("advance", "acceptance", "final", "retention")

CATEGORICAL_FEATURES = (
    "invoice_type",
    "milestone_type",
    "currency",
    "customer_type",
    "region",
    "industry",
    "salesperson_team",
)


def default_holidays(years: Iterable[int]) -> pd.DatetimeIndex:
    """Approximate mainland China public-holiday days: Spring Festival week, National Day week,
    New Year's day, Labour Day. `holiday_calendar` uses it for the years seeds/holidays lacks."""
    days: list[pd.Timestamp] = []
    for sf in SPRING_FESTIVAL:
        if sf.year in years:
            days += list(pd.date_range(sf - pd.Timedelta(days=1), periods=8))
    for y in years:
        days += list(pd.date_range(f"{y}-10-01", periods=7))
        days += list(pd.date_range(f"{y}-05-01", periods=5))
        days.append(pd.Timestamp(f"{y}-01-01"))
    return pd.DatetimeIndex(sorted(set(days)))


# The official China holiday calendar (also a dbt seed): holidays within the payment terms are
# counted from it for the years it covers, from `default_holidays` for the others.
HOLIDAY_SEED = SEEDS_DIR / "holidays.csv"


@cache
def _official_holidays(path: Path = HOLIDAY_SEED) -> tuple[pd.DatetimeIndex, frozenset[int]]:
    """Holiday days of the seed calendar and the years it covers (those with a Spring Festival)."""
    if not path.exists():
        return pd.DatetimeIndex([]), frozenset()
    cal = pd.read_csv(path, dtype=str, keep_default_na=False)
    hol = cal[cal["day_type"] == "holiday"]
    days = pd.DatetimeIndex(pd.to_datetime(hol["calendar_date"], format="%Y-%m-%d"))
    covered = frozenset(days[hol["name_en"].to_numpy() == "Spring Festival"].year)
    return days, covered


def holiday_calendar(years: Iterable[int]) -> pd.DatetimeIndex:
    """Public-holiday days: the official seed calendar (seeds/holidays.csv) plus `default_holidays`
    for the years it does not cover. dbt builds the same calendar as marts.ml_holiday_calendar."""
    official, covered = _official_holidays()
    approx = default_holidays([y for y in years if y not in covered])
    return pd.DatetimeIndex(sorted(set(official) | set(approx)))


@dataclass(frozen=True)
class FeatureSet:
    """The model inputs derived from a history frame: which columns, and which are categorical."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> list[str]:
        return list(self.numeric) + list(self.categorical)


def validate_history(history: pd.DataFrame) -> pd.DataFrame:
    """Check the history frame and return it with typed date columns; raise naming what is wrong."""
    missing = [c for c in REQUIRED_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"invoice history lacks required columns {missing}")
    # columns are replaced, never written in place, so the caller's frame stays as it was without a
    # copy of every column (a 10M-invoice history holds several GB)
    h = history.copy(deep=False)
    for c in ("issue_date", "due_date", "paid_date", "first_dispute_date", "written_off_date", "entry_date",
              "project_start_date"):
        if c in h.columns and h[c].dtype != "datetime64[ns]":
            h[c] = pd.to_datetime(h[c]).astype("datetime64[ns]")
    for c in ("issue_date", "due_date", "customer_id", "invoice_no"):
        n = int(h[c].isna().sum())
        if n:
            raise ValueError(f"invoice history: {n} rows without {c} (first: row {h.index[h[c].isna()][0]})")
    if h["invoice_no"].duplicated().any():
        dup = h.loc[h["invoice_no"].duplicated(), "invoice_no"].iloc[0]
        raise ValueError(f"invoice history: invoice_no {dup!r} appears more than once")
    if h["amount"].dtype != "float64":
        h["amount"] = pd.to_numeric(h["amount"], errors="raise").astype(float)
    return h


def _lookup_table(events: pd.DataFrame, key: str, columns: list[str]) -> pd.DataFrame:
    """The right side of `_lookup`: `events`' key as text in `_k`, its time `t` and `columns`, keyed
    rows only, in time order (prepared once, looked up at any number of decision dates)."""
    right = events[[key, "t", *columns]].rename(columns={key: "_k"})
    right = right[right["_k"].notna()].sort_values("t", kind="stable")
    right["_k"] = right["_k"].astype(str)  # merge_asof needs identical key dtypes: keys compare as text
    return right


def _lookup(left_keys: pd.Series, left_times: pd.Series, right: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """For each left row, the last event of the same key strictly before its time (NaN if none).

    `right` is a `_lookup_table` of events whose cumulative columns were computed in event-time
    order, so the last event before a time carries the state known just before that time.
    """
    left = pd.DataFrame({"_k": left_keys.to_numpy(), "_t": left_times.to_numpy(), "_i": np.arange(len(left_keys))})
    left = left[left["_k"].notna()].sort_values("_t", kind="stable")
    left["_k"] = left["_k"].astype(str)
    merged = pd.merge_asof(
        left, right, left_on="_t", right_on="t", by="_k", allow_exact_matches=False, direction="backward"
    )
    out = pd.DataFrame(np.nan, index=np.arange(len(left_keys)), columns=columns)
    out.iloc[merged["_i"].to_numpy()] = merged[columns].to_numpy(dtype=float)
    out.index = left_keys.index
    return out


def settled_invoice_mix(h: pd.DataFrame) -> pd.DataFrame:
    """Per invoice, the invoice-level terms of a customer's settled mix (`cust_settled_*` features):
    amount (log), terms and one 0/1 column per milestone type of `SETTLED_MILESTONE_SHARES`.

    Averaged over the invoices a customer settled before a decision, they say how much of its
    record is owed to what it was billed for (a record of retention invoices, paid late by
    nature, is not a late payer); the payment models net them out of the mean days late."""
    mix = pd.DataFrame(index=h.index)
    mix["amount_log"] = _log(h["amount"])
    mix["terms_days"] = (h["due_date"] - h["issue_date"]).dt.days.astype(float)
    if "milestone_type" in h.columns:
        for m in SETTLED_MILESTONE_SHARES:
            mix[f"share_{m}"] = (h["milestone_type"] == m).astype(float)
    return mix


def settled_mix_feature(column: str) -> str:
    """The feature holding the customer's settled mean of a `settled_invoice_mix` column."""
    return "cust_settled_" + (column if column.startswith("share_") else f"mean_{column}")


def _settlement_stream(h: pd.DataFrame, key: str, mix: pd.DataFrame | None = None) -> pd.DataFrame:
    """One event per settled invoice at its paid date, with the key's cumulative payment record
    (and, given `mix`, the running mean of each of its columns over the settled invoices)."""
    paid = h[h["paid_date"].notna() & h[key].notna()]
    ev = pd.DataFrame(
        {
            key: paid[key].astype(str),
            "t": paid["paid_date"],
            "dtp": (paid["paid_date"] - paid["issue_date"]).dt.days.astype(float),
            "late": (paid["paid_date"] - paid["due_date"]).dt.days.astype(float),
        }
    )
    if mix is not None:
        for c in mix.columns:
            ev[f"mix_{c}"] = mix.loc[paid.index, c].to_numpy(dtype=float)
    ev = ev.sort_values("t", kind="stable")
    ev["is_late"] = (ev["late"] > 0).astype(float)
    g = ev.groupby(key, sort=False)
    ev["n"] = g.cumcount() + 1.0
    if mix is not None:
        for c in mix.columns:
            ev[f"mean_{c}"] = g[f"mix_{c}"].cumsum() / ev["n"]
    ev["mean_dtp"] = g["dtp"].cumsum() / ev["n"]
    ev["mean_late"] = g["late"].cumsum() / ev["n"]
    ev["late_share"] = g["is_late"].cumsum() / ev["n"]
    ev["last_late"] = ev["late"]
    ev["last_t"] = ev["t"]
    ev["median_dtp"] = g["dtp"].rolling(10, min_periods=1).median().reset_index(level=0, drop=True)
    ev["median_late"] = g["late"].rolling(10, min_periods=1).median().reset_index(level=0, drop=True)
    recent = g["late"].rolling(3, min_periods=1).mean().reset_index(level=0, drop=True)
    longer = g["late"].rolling(12, min_periods=1).mean().reset_index(level=0, drop=True)
    ev["trend_late"] = recent - longer  # > 0: paying later lately than over the past year of invoices
    ev["std_late"] = g["late"].rolling(12, min_periods=2).std().reset_index(level=0, drop=True)
    ev["median5_late"] = g["late"].rolling(5, min_periods=1).median().reset_index(level=0, drop=True)
    # exponentially weighted over the key's settlements in order (half-life of 4 invoices)
    ev["ewm_late"] = g["late"].ewm(halflife=4, min_periods=1).mean().reset_index(level=0, drop=True)
    return ev


def _position_stream(h: pd.DataFrame, key: str, after_due_days: int) -> pd.DataFrame:
    """Events that change a key's open position, each at the date it becomes known.

    issued (+amount, +1 invoice), settled (-amount), turned overdue at its due date (+1 overdue),
    overdue item settled (-1 overdue), reached `after_due_days` past due unpaid (+1 seriously late).
    """
    h = h[h[key].notna()]
    k = h[key].astype(str)
    amt = h["amount"]
    paid = h["paid_date"]
    over_due = h["due_date"] + pd.Timedelta(days=after_due_days)
    due_day = (h["due_date"] - _EPOCH).dt.days.astype(float)  # summed to get the mean overdue age
    parts = [
        pd.DataFrame({key: k, "t": h["issue_date"], "d_open": amt, "d_n": 1.0}),
        pd.DataFrame({key: k[paid.notna()], "t": paid[paid.notna()], "d_open": -amt[paid.notna()]}),
        pd.DataFrame({key: k, "t": h["due_date"], "d_over": 1.0, "d_over_amt": amt, "d_over_due": due_day}),
    ]
    settled_after_due = paid.notna() & (paid > h["due_date"])
    parts.append(
        pd.DataFrame(
            {
                key: k[settled_after_due],
                "t": paid[settled_after_due],
                "d_over": -1.0,
                "d_over_amt": -amt[settled_after_due],
                "d_over_due": -due_day[settled_after_due],
            }
        )
    )
    # paid on or before the due date: the item never counts as overdue (+1 and -1 at the due date)
    on_time = paid.notna() & (paid <= h["due_date"])
    parts.append(
        pd.DataFrame(
            {key: k[on_time], "t": h["due_date"][on_time], "d_over": -1.0, "d_over_amt": -amt[on_time],
             "d_over_due": -due_day[on_time]}
        )
    )
    serious = paid.isna() | (paid > over_due)
    parts.append(pd.DataFrame({key: k[serious], "t": over_due[serious], "d_90": 1.0}))
    if "first_dispute_date" in h.columns:
        disp = h["first_dispute_date"].notna()
        parts.append(pd.DataFrame({key: k[disp], "t": h["first_dispute_date"][disp], "d_disp": 1.0}))
    ev = pd.concat(parts, ignore_index=True)
    for c in ("d_open", "d_n", "d_over", "d_over_amt", "d_over_due", "d_90", "d_disp"):
        if c not in ev.columns:
            ev[c] = 0.0
        ev[c] = ev[c].fillna(0.0)
    # at equal times apply additions first, so a same-day issue-and-settle never shows negative
    ev = ev.sort_values("t", kind="stable")
    g = ev.groupby(key, sort=False)
    ev["open_amount"] = g["d_open"].cumsum()
    ev["n_issued"] = g["d_n"].cumsum()
    ev["n_overdue"] = g["d_over"].cumsum()
    ev["overdue_amount"] = g["d_over_amt"].cumsum()
    ev["overdue_due_sum"] = g["d_over_due"].cumsum()
    ev["n_90plus"] = g["d_90"].cumsum()
    ev["n_disputes"] = g["d_disp"].cumsum()
    ev["first_t"] = g["t"].transform("min")
    return ev


def feature_set(history: pd.DataFrame) -> FeatureSet:
    """Which features `point_in_time_features` produces for this history frame."""
    numeric = [
        "amount_log",
        "terms_days",
        "issue_month",
        "due_month",
        "issue_day_of_week",
        "days_due_to_spring_festival",
        "spring_festival_in_window",
        "holiday_days_in_window",
        "days_to_year_end",
        "cust_n_settled",
        "cust_mean_days_to_pay",
        "cust_median_days_to_pay",
        "cust_mean_days_late",
        "cust_median_days_late",
        "cust_late_share",
        "cust_last_days_late",
        "cust_trend_days_late",
        "cust_std_days_late",
        "cust_n_issued",
        "cust_open_amount_log",
        "cust_n_overdue",
        "cust_overdue_amount_log",
        "cust_n_90plus",
        "cust_mean_days_overdue_open",
        "cust_ewm_days_late",
        "cust_median5_days_late",
        "cust_tenure_days",
        "cust_days_since_last_settlement",
        "amount_vs_cust_open",
        "cust_settled_mean_amount_log",
        "cust_settled_mean_terms_days",
    ]
    if "milestone_type" in history.columns:
        numeric += [f"cust_settled_share_{m}" for m in SETTLED_MILESTONE_SHARES]
    if "first_dispute_date" in history.columns:
        numeric.append("cust_n_disputes")
    if "credit_limit" in history.columns:
        numeric += ["credit_limit_log", "credit_utilisation"]
    if "customer_terms_days" in history.columns:
        numeric.append("customer_terms_days")
    if "salesperson_id" in history.columns:
        numeric += ["sp_n_settled", "sp_mean_days_late", "sp_late_share"]
    if "project_id" in history.columns:
        numeric += ["proj_n_settled", "proj_mean_days_late", "proj_n_issued"]
        if "project_contract_value" in history.columns:
            numeric += ["proj_contract_value_log", "proj_billed_share"]
        if "project_start_date" in history.columns:
            numeric.append("proj_age_days")
    if "entry_date" in history.columns:
        numeric.append("entry_lag_days")
    categorical = [c for c in CATEGORICAL_FEATURES if c in history.columns]
    return FeatureSet(tuple(numeric), tuple(categorical))


def text_objects(s: pd.Series) -> pd.Series:
    """`s` as Python strings, None where missing, one string object per distinct value: a category
    repeats a few thousand values over millions of invoices, and a string object per row would take
    most of a large history's memory."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[: len(uniques)] = [str(u) for u in uniques]
    values[-1] = None  # code -1: missing
    return pd.Series(values[codes], index=s.index, dtype=object, name=s.name)


def _spring_festival_distance(due: pd.Series) -> np.ndarray:
    """Signed days from the due date to the nearest Spring Festival (negative: festival after due)."""
    sf = SPRING_FESTIVAL.to_numpy().astype("datetime64[D]").astype(np.int64)
    d = due.to_numpy().astype("datetime64[D]").astype(np.int64)
    pos = np.clip(np.searchsorted(sf, d), 1, len(sf) - 1)
    before, after = sf[pos - 1], sf[pos]
    return np.where(d - before <= after - d, d - before, d - after).astype(float)


def _holiday_days_between(start: pd.Series, end: pd.Series, holidays: pd.DatetimeIndex) -> np.ndarray:
    hol = np.sort(holidays.to_numpy().astype("datetime64[D]").astype(np.int64))
    s = start.to_numpy().astype("datetime64[D]").astype(np.int64)
    e = end.to_numpy().astype("datetime64[D]").astype(np.int64)
    return (np.searchsorted(hol, e, side="right") - np.searchsorted(hol, s, side="left")).clip(0).astype(float)


def _log(x: pd.Series | np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.log1p(np.abs(x))


def point_in_time_features(
    history: pd.DataFrame,
    decision_dates: pd.Series | None = None,
    *,
    holidays: pd.DatetimeIndex | None = None,
    after_due_days: int = DEFAULT_AFTER_DUE_DAYS,
    chunk_rows: int | None = None,
) -> pd.DataFrame:
    """Features for invoices at their decision dates, from facts known strictly before those dates.

    `history`: every receivable invoice (validated by `validate_history`). `decision_dates`: a
    Series indexed by history row labels (a subset is fine), default each invoice's issue date (or
    its `entry_date` when present and later). Returns one row per decision, same index, columns
    `feature_set(history).columns`.

    A history longer than `chunk_rows` (default `FEATURE_CHUNK_ROWS`) is computed a group of
    salespeople at a time (`feature_groups`); the figures are the same as in one pass.
    """
    h = validate_history(history)
    if decision_dates is None:
        decision = h["issue_date"]
        if "entry_date" in h.columns:
            decision = h["entry_date"].dt.normalize().where(h["entry_date"].notna(), decision)
            decision = decision.where(decision > h["issue_date"], h["issue_date"])
    else:
        decision = pd.to_datetime(decision_dates).astype("datetime64[ns]")
    fs = feature_set(h)
    if holidays is None:
        issued, end = h["issue_date"].loc[decision.index], h["due_date"].loc[decision.index] + pd.Timedelta(days=60)
        holidays = holiday_calendar(_calendar_years(issued, end))
    if not decision.index.is_unique:
        chunk_rows = len(h)  # one pass: a label's rows cannot be told apart across groups
    groups = feature_groups(h, fs=fs, holidays=holidays, after_due_days=after_due_days, chunk_rows=chunk_rows)
    # Each group's features go straight into one column-major matrix, which becomes the frame's
    # block without a copy: at 10M invoices a list of the groups' frames, the matrix and a copy of
    # it would be three times the features (4 GB each) at once.
    numeric = np.empty((len(decision), len(fs.numeric)), order="F")
    categorical = {c: np.empty(len(decision), dtype=object) for c in fs.categorical}
    for streams in groups:
        in_group = decision.index.isin(streams.history.index)
        if in_group.all():
            return streams.features(decision)
        if in_group.any():
            where = np.flatnonzero(in_group)
            f = streams.features(decision[in_group])  # keeps decision's order within the group
            numeric[where] = f[list(fs.numeric)].to_numpy(dtype=float)
            for c in fs.categorical:
                categorical[c][where] = f[c].to_numpy()
            del f
    out = pd.DataFrame(numeric, index=decision.index, columns=list(fs.numeric), copy=False)
    for c in fs.categorical:
        out[c] = pd.Series(categorical[c], index=out.index, dtype=object, copy=False)
    return out


FEATURE_CHUNK_ROWS = 1_000_000


def _calendar_years(issued: pd.Series, end: pd.Series) -> range:
    """Years of the holiday calendar the window features need (a year of margin either side)."""
    return range(int(issued.dt.year.min()) - 1, int(end.dt.year.max()) + 2) if len(issued) else range(0)


def history_holidays(h: pd.DataFrame) -> pd.DatetimeIndex:
    """A holiday calendar covering every invoice's feature windows (the one `point_in_time_features`
    builds for its decisions is a part of it, and gives the same figures)."""
    return holiday_calendar(_calendar_years(h["issue_date"], h["due_date"] + pd.Timedelta(days=60)))


class FeatureStreams:
    """The event streams the features of one history read (payment records and open positions of
    customers, salespeople and projects), built once on first use and looked up at any number of
    decision dates: scoring the open items at many as-of dates pays for the streams once."""

    def __init__(self, h: pd.DataFrame, fs: FeatureSet, holidays: pd.DatetimeIndex, after_due_days: int):
        self.history, self.fs, self.holidays, self.after_due_days = h, fs, holidays, after_due_days
        self.mix_columns = list(settled_invoice_mix(h.iloc[:0]).columns)
        self._tables: dict[str, tuple[pd.DataFrame, list[str]]] | None = None

    def features(self, decision: pd.Series) -> pd.DataFrame:
        """Features at `decision` (indexed by labels of this history), as `point_in_time_features`."""
        return _features(self, pd.to_datetime(decision).astype("datetime64[ns]"))

    def lookup(self, stream: str, keys: pd.Series, t: pd.Series) -> pd.DataFrame:
        """The stream's state for each key just before its time (`_lookup`)."""
        if self._tables is None:
            self._tables = self._build()
        right, columns = self._tables[stream]
        return _lookup(keys, t, right, columns)

    def _build(self) -> dict[str, tuple[pd.DataFrame, list[str]]]:
        h, add = self.history, self.after_due_days
        specs = {
            "customer_settled": (
                lambda: _settlement_stream(h, "customer_id", settled_invoice_mix(h)), "customer_id",
                ["n", "mean_dtp", "median_dtp", "mean_late", "median_late", "late_share", "last_late",
                 "trend_late", "std_late", "last_t", "median5_late", "ewm_late",
                 *(f"mean_{c}" for c in self.mix_columns)],
            ),
            "customer_position": (
                lambda: _position_stream(h, "customer_id", add), "customer_id",
                ["open_amount", "n_issued", "n_overdue", "overdue_amount", "overdue_due_sum", "n_90plus",
                 "n_disputes", "first_t"],
            ),
        }  # fmt: skip
        if "salesperson_id" in h.columns:
            specs["salesperson_settled"] = (
                lambda: _settlement_stream(h, "salesperson_id"), "salesperson_id", ["n", "mean_late", "late_share"]
            )
        if "project_id" in h.columns:
            specs["project_settled"] = (lambda: _settlement_stream(h, "project_id"), "project_id", ["n", "mean_late"])
            specs["project_position"] = (lambda: _position_stream(h, "project_id", add), "project_id", ["n_issued"])
            if "project_contract_value" in h.columns:
                specs["project_billed"] = (lambda: _billed_stream(h), "project_id", ["billed"])
        # each stream is reduced to its lookup table before the next is built
        return {name: (_lookup_table(make(), key, columns), columns) for name, (make, key, columns) in specs.items()}


def feature_groups(
    h: pd.DataFrame,
    *,
    fs: FeatureSet | None = None,
    holidays: pd.DatetimeIndex | None = None,
    after_due_days: int = DEFAULT_AFTER_DUE_DAYS,
    chunk_rows: int | None = None,
) -> Iterator[FeatureStreams]:
    """The feature streams of a validated history, one group of salespeople at a time.

    Every feature reads the invoices of one customer, project or salesperson, and a customer's
    invoices share its salesperson, so a decision's features from its group equal those from the
    whole history. A history up to `chunk_rows` (default `FEATURE_CHUNK_ROWS`) rows, or one where
    some project spans two groups, is one group. Groups are made one at a time: only one group's
    rows and streams are held at once."""
    fs = fs or feature_set(h)
    holidays = history_holidays(h) if holidays is None else holidays
    chunks = _feature_chunks(h, FEATURE_CHUNK_ROWS if chunk_rows is None else chunk_rows)
    if chunks is None:
        yield FeatureStreams(h, fs, holidays, after_due_days)
        return
    for group in chunks:
        yield FeatureStreams(h.loc[group], fs, holidays, after_due_days)


def _feature_chunks(h: pd.DataFrame, chunk_rows: int) -> list[pd.Index] | None:
    """Row labels of `h` in groups of whole salespeople (of whole customers when the history has no
    salesperson column), about `chunk_rows` each; None when one pass is needed (short history,
    repeated labels, a project whose invoices fall in two groups)."""
    if len(h) <= chunk_rows or not h.index.is_unique:
        return None
    key = h["salesperson_id"] if "salesperson_id" in h.columns else h["customer_id"]
    codes, _ = pd.factorize(key, use_na_sentinel=False)
    sizes = np.bincount(codes)
    chunk_of_group = np.empty(len(sizes), dtype=np.int64)
    chunk, filled = 0, 0
    for g in np.argsort(-sizes, kind="stable"):  # largest groups first, packed in order
        if filled and filled + sizes[g] > chunk_rows:
            chunk, filled = chunk + 1, 0
        chunk_of_group[g] = chunk
        filled += sizes[g]
    chunk_of_row = chunk_of_group[codes]
    if chunk == 0:
        return None
    if "project_id" in h.columns:
        spans = pd.Series(chunk_of_row, index=h.index)[h["project_id"].notna()].groupby(h["project_id"]).nunique()
        if (spans > 1).any():
            return None
    return [h.index[chunk_of_row == c] for c in range(chunk + 1)]


def _features(streams: FeatureStreams, decision: pd.Series) -> pd.DataFrame:
    """`point_in_time_features` from the streams of a history holding every invoice the decisions'
    features read."""
    h, fs, holidays = streams.history, streams.fs, streams.holidays
    rows = h if decision.index.equals(h.index) else h.loc[decision.index]
    t = decision
    out = pd.DataFrame(index=decision.index)

    # the invoice itself (all known at issue)
    terms = (rows["due_date"] - rows["issue_date"]).dt.days.astype(float)
    out["amount_log"] = _log(rows["amount"])
    out["terms_days"] = terms
    out["issue_month"] = rows["issue_date"].dt.month.astype(float)
    out["due_month"] = rows["due_date"].dt.month.astype(float)
    out["issue_day_of_week"] = rows["issue_date"].dt.day_of_week.astype(float)
    out["days_due_to_spring_festival"] = np.clip(_spring_festival_distance(rows["due_date"]), -120, 120)
    window_end = rows["due_date"] + pd.Timedelta(days=60)
    sf_days = _holiday_days_between(t, window_end, pd.DatetimeIndex(SPRING_FESTIVAL))
    out["spring_festival_in_window"] = (sf_days > 0).astype(float)
    out["holiday_days_in_window"] = _holiday_days_between(rows["issue_date"], rows["due_date"], holidays)
    year_end = pd.to_datetime(rows["due_date"].dt.year.astype(str) + "-12-31")
    out["days_to_year_end"] = (year_end - rows["due_date"]).dt.days.astype(float)

    # customer payment record: invoices settled strictly before the decision date
    cust = streams.lookup("customer_settled", rows["customer_id"], t)
    out["cust_n_settled"] = cust["n"].fillna(0.0)
    out["cust_mean_days_to_pay"] = cust["mean_dtp"]
    out["cust_median_days_to_pay"] = cust["median_dtp"]
    out["cust_mean_days_late"] = cust["mean_late"]
    out["cust_median_days_late"] = cust["median_late"]
    out["cust_late_share"] = cust["late_share"]
    out["cust_last_days_late"] = cust["last_late"]
    out["cust_trend_days_late"] = cust["trend_late"]
    out["cust_std_days_late"] = cust["std_late"]
    out["cust_median5_days_late"] = cust["median5_late"]
    out["cust_ewm_days_late"] = cust["ewm_late"]
    for c in streams.mix_columns:
        out[settled_mix_feature(c)] = cust[f"mean_{c}"]
    last_settled = pd.to_datetime(cust["last_t"])
    out["cust_days_since_last_settlement"] = (t - last_settled).dt.days.astype(float)

    # customer position just before the decision date
    pos = streams.lookup("customer_position", rows["customer_id"], t)
    open_amount = pos["open_amount"].fillna(0.0).clip(lower=0.0)
    out["cust_n_issued"] = pos["n_issued"].fillna(0.0)
    out["cust_open_amount_log"] = _log(open_amount)
    out["cust_n_overdue"] = pos["n_overdue"].fillna(0.0)
    out["cust_overdue_amount_log"] = _log(pos["overdue_amount"].fillna(0.0).clip(lower=0.0))
    out["cust_n_90plus"] = pos["n_90plus"].fillna(0.0)
    # mean days past due of the items overdue and unpaid that morning: lateness not yet settled
    n_over = pos["n_overdue"].where(pos["n_overdue"] > 0.5)
    t_day = (t - _EPOCH).dt.days.astype(float)
    out["cust_mean_days_overdue_open"] = (t_day - pos["overdue_due_sum"] / n_over).fillna(0.0)
    out["cust_tenure_days"] = (t - pd.to_datetime(pos["first_t"])).dt.days.astype(float)
    out["amount_vs_cust_open"] = rows["amount"].to_numpy() / (open_amount.to_numpy() + rows["amount"].abs().to_numpy() + 1.0)
    if "cust_n_disputes" in fs.numeric:
        out["cust_n_disputes"] = pos["n_disputes"].fillna(0.0)
    if "credit_limit" in h.columns:
        limit = pd.to_numeric(rows["credit_limit"], errors="coerce").astype(float)
        out["credit_limit_log"] = _log(limit)
        out["credit_utilisation"] = (open_amount + rows["amount"]) / limit.where(limit > 0)
    if "customer_terms_days" in h.columns:
        out["customer_terms_days"] = pd.to_numeric(rows["customer_terms_days"], errors="coerce").astype(float)

    if "salesperson_id" in h.columns:
        sp = streams.lookup("salesperson_settled", rows["salesperson_id"], t)
        out["sp_n_settled"] = sp["n"].fillna(0.0)
        out["sp_mean_days_late"] = sp["mean_late"]
        out["sp_late_share"] = sp["late_share"]
    if "project_id" in h.columns:
        pr = streams.lookup("project_settled", rows["project_id"], t)
        out["proj_n_settled"] = pr["n"].fillna(0.0)
        out["proj_mean_days_late"] = pr["mean_late"]
        pp = streams.lookup("project_position", rows["project_id"], t)
        out["proj_n_issued"] = pp["n_issued"].fillna(0.0)
        if "project_contract_value" in h.columns:
            value = pd.to_numeric(rows["project_contract_value"], errors="coerce").astype(float)
            # amount invoiced on the project strictly before the decision date (this invoice excluded)
            billed = streams.lookup("project_billed", rows["project_id"], t)["billed"].fillna(0.0)
            out["proj_contract_value_log"] = _log(value)
            out["proj_billed_share"] = billed / value.where(value > 0)
        if "project_start_date" in h.columns:
            out["proj_age_days"] = (t - rows["project_start_date"]).dt.days.astype(float)
    if "entry_date" in h.columns:
        out["entry_lag_days"] = (t - rows["issue_date"]).dt.days.astype(float)

    for c in fs.categorical:
        out[c] = text_objects(rows[c])
    return out[fs.columns]


def _billed_stream(h: pd.DataFrame) -> pd.DataFrame:
    """One event per invoice on a project at its issue date, with the project's amount billed so far."""
    hp = h[h["project_id"].notna()]
    ev = pd.DataFrame({"project_id": hp["project_id"].astype(str), "t": hp["issue_date"], "a": hp["amount"]})
    ev = ev.sort_values("t", kind="stable")
    ev["billed"] = ev.groupby("project_id", sort=False)["a"].cumsum()
    return ev


def outcome_labels(
    history: pd.DataFrame,
    observed_until: date | pd.Timestamp,
    after_due_days: int | None = DEFAULT_AFTER_DUE_DAYS,
) -> pd.DataFrame:
    """Outcomes as known at `observed_until`, with the censoring made explicit.

    Columns: `days_to_pay` and `days_late` (NaN unless paid by `observed_until`), `is_late` (NaN
    while the due date has not passed and the invoice is unpaid), `is_default` (unpaid
    `after_due_days` after due; NaN while that window is still open), `window_closed` (the default
    window ended by `observed_until`: the invoice's outcome is fully observed).
    """
    h = validate_history(history)
    obs = pd.Timestamp(observed_until)
    paid = h["paid_date"].where(h["paid_date"] <= obs)
    out = pd.DataFrame(index=h.index)
    out["days_to_pay"] = (paid - h["issue_date"]).dt.days.astype(float)
    out["days_late"] = (paid - h["due_date"]).dt.days.astype(float)
    late_known = paid.notna() | (h["due_date"] < obs)
    out["is_late"] = np.where(late_known, (paid.isna() | (paid > h["due_date"])).astype(float), np.nan)
    if after_due_days is None:
        out["window_closed"] = paid.notna()
        out["is_default"] = np.where(paid.notna(), 0.0, np.nan)
        return out
    limit = h["due_date"] + pd.Timedelta(days=after_due_days)
    closed = limit < obs
    out["window_closed"] = closed
    out["is_default"] = np.where(closed, (paid.isna() | (paid > limit)).astype(float), np.nan)
    return out
