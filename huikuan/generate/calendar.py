"""Day arithmetic on int day numbers (days since 1970-01-01): weekdays, Chinese holidays, months."""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)

# Lunar New Year's day; the public holiday runs from the eve to the sixth day.
SPRING_FESTIVAL = {
    2015: "2015-02-19",
    2016: "2016-02-08",
    2017: "2017-01-28",
    2018: "2018-02-16",
    2019: "2019-02-05",
    2020: "2020-01-25",
    2021: "2021-02-12",
    2022: "2022-02-01",
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
    2028: "2028-01-26",
    2029: "2029-02-13",
    2030: "2030-02-03",
    2031: "2031-01-23",
    2032: "2032-02-11",
    2033: "2033-01-31",
    2034: "2034-02-19",
    2035: "2035-02-08",
    2036: "2036-01-28",
    2037: "2037-02-15",
    2038: "2038-02-04",
}


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)."""
    return (np.asarray(days) + 3) % 7


def spring_festival_days() -> np.ndarray:
    return np.array([day_number(dt.date.fromisoformat(v)) for v in SPRING_FESTIVAL.values()])


class Calendar:
    """Holiday lookup over a day range: weekends, Spring Festival week, National Day week."""

    def __init__(self, first: int, last: int):
        self.first = first
        days = np.arange(first, last + 1)
        hol = weekday(days) >= 5
        for sf in spring_festival_days():
            hol |= (days >= sf - 1) & (days <= sf + 6)
        years = range(to_date(first).year, to_date(last).year + 1)
        for y in years:
            nd = day_number(dt.date(y, 10, 1))
            hol |= (days >= nd) & (days <= nd + 6)
        self.holiday = hol
        self.last = last

    def is_holiday(self, d: np.ndarray) -> np.ndarray:
        idx = np.clip(np.asarray(d) - self.first, 0, len(self.holiday) - 1)
        return self.holiday[idx]

    def next_business_day(self, d: np.ndarray) -> np.ndarray:
        """Move each day forward to the first working day (at most two weeks)."""
        d = np.array(d, dtype=np.int64, copy=True)
        for _ in range(14):
            m = self.is_holiday(d)
            if not m.any():
                break
            d[m] += 1
        return d


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 for each day number."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start(month_idx: np.ndarray) -> np.ndarray:
    return np.asarray(month_idx).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def calendar_month(days: np.ndarray) -> np.ndarray:
    """1..12 for each day number."""
    return month_index(days) % 12 + 1


def year_of(days: np.ndarray) -> np.ndarray:
    return month_index(days) // 12 + 1970
