"""Bounded subset-sum."""

from huikuan.reconcile.subset import find_subsets


def test_unique_combination():
    r = find_subsets([100, 250, 400, 975], 650)
    assert r.solutions == [(1, 2)] and r.unique


def test_ties_go_to_the_oldest_items():
    # Items are given oldest first; 100+200 and 300 (single items are excluded by min_size=2) and 100+200 vs 200+100
    r = find_subsets([100, 200, 100, 200], 300)
    assert r.solutions[0] == (0, 1)
    assert not r.unique


def test_no_solution_and_min_size():
    assert find_subsets([100, 200], 250).solutions == []
    assert find_subsets([300], 300).solutions == []  # a single item is rule 3, not a combination
    assert find_subsets([300], 300, min_size=1).solutions == [(0,)]


def test_tolerance_over_the_target():
    r = find_subsets([10_000, 20_000, 55_500], 29_980, over=50)
    assert r.solutions == [(0, 1)]


def test_negative_items_are_ignored_and_size_bounded():
    assert find_subsets([-50, 100, 150], 200).solutions == []
    assert find_subsets([1] * 10, 7, max_size=6).solutions == []


def test_budget_makes_the_search_incomplete_not_unique():
    amounts = [2000 + 2 * k for k in range(40)]  # all even: an odd target is never reached
    r = find_subsets(amounts, 10_001, node_budget=500)
    assert not r.complete and not r.unique and r.solutions == []


def test_deterministic():
    amounts = [137, 250, 113, 400, 987, 263, 150]
    assert find_subsets(amounts, 650, limit=5).solutions == find_subsets(amounts, 650, limit=5).solutions
