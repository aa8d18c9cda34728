"""Reconciliation settings: tolerances, thresholds and search bounds, with the reasons for defaults."""

from __future__ import annotations

from dataclasses import dataclass, field


def _fee_defaults() -> dict[str, float]:
    # Typical bank charges withheld from a receipt: domestic transfers a few yuan up to ~50,
    # cross-border wires USD/EUR 15-50 (intermediary banks), HKD a few hundred.
    return {"CNY": 100.0, "USD": 60.0, "EUR": 60.0, "HKD": 400.0}


@dataclass(frozen=True)
class ReconcileConfig:
    auto_threshold: float = 0.90  # confidence at or above which a match is applied automatically
    exact_tolerance: float = 0.01  # |payment - items| within this counts as exact (rounding)
    fee_tolerance: dict[str, float] = field(default_factory=_fee_defaults)
    fee_tolerance_default: float = 100.0
    fee_tolerance_pct: float = 0.02  # a short payment is a fee only if also below this share
    fuzzy_min_score: float = 0.86
    fuzzy_margin: float = 0.05
    max_payer_candidates: int = 4  # an ambiguous payer name is tried against at most this many customers
    max_treasury_candidates: int = 60  # public bodies of one city a treasury payment is tried against
    habit_gap_days: int = 45  # same-amount items: the nearest expected date must win by this margin
    # Same-amount twins of one contract (same customer, currency, amount): the habit's lean must be at
    # least this many days to auto-apply; measured strict precision of the lean drops below ~80 % under it.
    twin_gap_days: int = 20
    # A remittance text naming the contract or project (firm) or only the milestone / month picks
    # one of several items or combinations the amount fits: confidence of such a choice.
    clue_confidence_firm: float = 0.95
    clue_confidence: float = 0.92
    # Several invoices paid in one transfer are those the payer meant to pay in about the past month:
    # items expected (due + usual delay) this many days before / after the receipt, and how sure a
    # unique exact combination among them is.
    combine_window_days: int = 45
    combine_ahead_days: int = 15
    combine_window_confidence: float = 0.92
    habit_window_days: int = 60  # an item within this many days of its expected payment date "fits"
    subset_max_items: int = 24  # the payer's oldest open items the combination search looks at
    subset_max_size: int = 6
    subset_node_budget: int = 6_000
    window_days: int | None = 1095  # open items older than this are not candidates
    max_suggestions: int = 3

    def fee_cents(self, currency: str, open_cents: int) -> int:
        """Largest short payment (in cents) written off as fees for an item of `open_cents`."""
        abs_limit = self.fee_tolerance.get(currency, self.fee_tolerance_default)
        return round(min(abs_limit, self.fee_tolerance_pct * open_cents / 100) * 100)
