"""Bounded, deterministic subset-sum: which of a payer's open items add up to a payment.

Amounts are integer cents. The search tries the largest amounts first (it prunes soonest) and
includes an item before it tries without it; solutions are index tuples in input order, and the
caller breaks ties between them (the engine: best fit to the payment date, then the oldest
items). The search stops after `node_budget` steps, so one payer with hundreds of open items
cannot stall a run; a truncated search says so and is never treated as unique.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SubsetResult:
    solutions: list[tuple[int, ...]]  # index tuples into the input, in discovery order
    complete: bool  # False when the node budget ran out before the search space was exhausted

    @property
    def unique(self) -> bool:
        return self.complete and len(self.solutions) == 1


def find_subsets(
    amounts: Sequence[int],
    target: int,
    *,
    over: int = 0,
    max_size: int = 6,
    min_size: int = 2,
    node_budget: int = 20_000,
    limit: int = 2,
) -> SubsetResult:
    """Index combinations of positive `amounts` whose sum lies in [target, target + over].

    `over` > 0 allows the items to exceed the payment by a tolerated short payment (bank fee).
    """
    # Largest first: with large, varied amounts the search prunes far sooner than oldest first.
    # Ties between solutions are the caller's to break (the engine prefers the oldest items).
    items = sorted(((i, a) for i, a in enumerate(amounts) if a > 0), key=lambda p: (-p[1], p[0]))
    n = len(items)
    prefix = [0] * (n + 1)  # prefix[k] = sum of the k largest amounts
    for k in range(n):
        prefix[k + 1] = prefix[k] + items[k][1]
    solutions: list[tuple[int, ...]] = []
    budget = [node_budget]
    chosen: list[int] = []

    def dfs(k: int, total: int) -> bool:
        """Returns False to abort (budget exhausted or enough solutions)."""
        budget[0] -= 1
        if budget[0] < 0:
            return False
        room = max_size - len(chosen)
        # Items are largest first, so the next `room` items are the most the rest can add.
        if k == n or room == 0 or total + prefix[min(n, k + room)] - prefix[k] < target:
            return True
        idx, a = items[k]
        if total + a <= target + over:
            chosen.append(idx)
            # A solution is recorded when its last item is taken, so each is found exactly once.
            if total + a >= target and len(chosen) >= min_size:
                solutions.append(tuple(sorted(chosen)))
                if len(solutions) >= limit:
                    chosen.pop()
                    return False
            ok = dfs(k + 1, total + a)
            chosen.pop()
            if not ok:
                return False
        return dfs(k + 1, total)

    finished = dfs(0, 0)
    return SubsetResult(solutions, complete=finished or (len(solutions) >= limit and budget[0] >= 0))
