"""Stage policy: boundaries of the default stages, reading the seed, rejecting bad policy files."""

from __future__ import annotations

import pytest

from huikuan.dunning import DEFAULT_POLICY, load_policy, stage_for
from huikuan.dunning import policy as policy_module


@pytest.mark.parametrize(
    ("days", "expected"),
    [(-30, None), (-8, None), (-7, "pre_reminder"), (0, "pre_reminder"), (1, "stage_1"), (15, "stage_1"),
     (16, "stage_2"), (30, "stage_2"), (31, "stage_3"), (400, "stage_3")],
)
def test_stage_for_default_boundaries(days, expected):
    stage = stage_for(days, DEFAULT_POLICY)
    assert (stage.key if stage else None) == expected


def test_seed_policy_matches_design_defaults():
    if not policy_module.POLICY_FILE.exists():
        pytest.skip("seeds/dunning_policy.csv is not in this checkout")
    seed = load_policy()
    assert [(s.key, s.order, s.min_days, s.max_days) for s in seed.stages] == [
        (s.key, s.order, s.min_days, s.max_days) for s in DEFAULT_POLICY.stages
    ]


def test_missing_seed_falls_back_to_defaults(tmp_path, monkeypatch):
    monkeypatch.setattr(policy_module, "POLICY_FILE", tmp_path / "absent.csv")
    assert load_policy() == DEFAULT_POLICY
    with pytest.raises(FileNotFoundError):
        load_policy(tmp_path / "absent.csv")  # an explicit path must exist


def test_custom_policy_file(tmp_path):
    f = tmp_path / "policy.csv"
    f.write_text(
        "stage_key,stage_order,min_days_overdue,max_days_overdue,owner_role,channel,action_en,action_zh\n"
        "gentle,1,1,10,sales,email,Remind,提醒\n"
        "final,2,11,,legal,email,Demand,催款\n",
        encoding="utf-8-sig",
    )
    policy = load_policy(f)
    assert [s.key for s in policy.stages] == ["gentle", "final"]
    assert stage_for(0, policy) is None
    assert stage_for(10, policy).key == "gentle"
    assert stage_for(11, policy).key == "final"
    assert policy.by_key("final").max_days is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("a,1,1,20\nb,2,15,\n", "overlap"),
        ("a,1,one,20\n", "line 2: column min_days_overdue is not a whole number"),
        ("a,1,1,20\na,2,21,\n", "duplicate stage_key"),
        ("", "no stages"),
    ],
)
def test_bad_policy_files_are_rejected_with_the_cause(tmp_path, rows, message):
    f = tmp_path / "policy.csv"
    f.write_text("stage_key,stage_order,min_days_overdue,max_days_overdue\n" + rows, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_policy(f)
